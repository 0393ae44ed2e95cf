import { getField, type Edge, type GraphElement, type Node } from '../graph/graph.js';
import type { CollectionValue, ItemKind } from './registry.js';

/** Nodes and edges as item kinds of the generic collection steps. */

/**
 * getField with a shortcut for plain metadata keys (Type, Name, MTU...): filters over 100k nodes are bound by this
 * access.
 */
export function elementField(el: GraphElement, key: string): unknown {
  if (key.charCodeAt(0) !== 64 && key.indexOf('.') < 0 && key !== 'Parent' && key !== 'Child') return el.metadata[key];
  return getField(el, key);
}

const ELEMENT_FIELDS = ['@ID', '@Host', '@Origin', '@CreatedAt', '@UpdatedAt', '@DeletedAt', '@Revision'];

export const NODES: ItemKind<Node> = {
  name: 'nodes',
  label: 'nodes (from V(), Out(), In()...)',
  getField: elementField,
  keys: (n) => [...ELEMENT_FIELDS, ...metadataKeys(n)],
  identity: (n) => n.id,
  toJSON: (n) => n.toJSON(),
  defaultSortKey: '@CreatedAt',
};

export const EDGES: ItemKind<Edge> = {
  name: 'edges',
  label: 'edges (from E(), OutE(), InE()...)',
  getField: elementField,
  keys: (e) => [...ELEMENT_FIELDS, 'Parent', 'Child', ...metadataKeys(e)],
  identity: (e) => e.id,
  toJSON: (e) => e.toJSON(),
  defaultSortKey: '@CreatedAt',
};

export function nodes(items: Node[]): CollectionValue<Node> {
  return { type: 'collection', of: NODES, items };
}
export function edges(items: Edge[]): CollectionValue<Edge> {
  return { type: 'collection', of: EDGES, items };
}

/** Every key usable in Has(): top-level keys and dotted paths into nested maps (also through lists of maps). */
function metadataKeys(el: GraphElement): string[] {
  const out: string[] = [];
  collectKeys(el.metadata, '', out, new Set());
  return out;
}

function collectKeys(obj: Record<string, unknown>, prefix: string, out: string[], seen: Set<string>): void {
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix + k;
    if (!seen.has(path)) {
      seen.add(path);
      out.push(path);
    }
    const items = Array.isArray(v) ? v : [v];
    for (const item of items) {
      if (item !== null && typeof item === 'object' && !Array.isArray(item)) collectKeys(item as Record<string, unknown>, path + '.', out, seen);
    }
  }
}
