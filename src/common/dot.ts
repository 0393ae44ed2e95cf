import type { GraphJSON } from '../graph/graph.js';

/**
 * Graphviz rendering of a graph result (`Accept: text/vnd.graphviz`, `client query --format dot`): one node per
 * element labelled with its Name and Type, edges labelled with their RelationType; ownership edges are dashed so
 * that the containment tree stands out from layer2 links.
 */
export function graphToDot(g: GraphJSON): string {
  const lines = ['digraph g {', '  node [shape=box, fontname="sans-serif"];', '  edge [fontname="sans-serif", fontsize=10];'];
  for (const n of g.Nodes) {
    const name = String(n.Metadata?.Name ?? n.ID);
    const type = n.Metadata?.Type !== undefined ? String(n.Metadata.Type) : '';
    const label = type ? `${escape(name)}\\n(${escape(type)})` : escape(name);
    lines.push(`  ${quote(n.ID)} [label="${label}"];`);
  }
  for (const e of g.Edges) {
    const rel = e.Metadata?.RelationType !== undefined ? String(e.Metadata.RelationType) : '';
    const style = rel === 'ownership' ? ', style=dashed' : '';
    lines.push(`  ${quote(e.Parent)} -> ${quote(e.Child)} [label=${quote(rel)}${style}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function quote(s: string): string {
  return `"${escape(s)}"`;
}
