import { UsageError } from '../../common/errors.js';
import { genID, matchesMetadata, type Edge, type Graph, type GraphListener, type Node } from '../../graph/graph.js';
import type { TopologyProbe } from './probe.js';

/**
 * Static fabric topology declared in `analyzer.topology.fabric` (reference §4.2), e.g.
 *   TOR1[Name=tor1] -> TOR1_PORT1[Name=port1, MTU=1500]
 *   TOR1_PORT1 -> *[Type=host, Name=agent1]/eth1
 * Grammar:
 *   rule    := nodedef ARROW [ '[' attrs ']' ] target
 *   ARROW   := '->' (ownership + layer2) | '-->' (layer2 only)
 *   nodedef := NAME [ '[' attrs ']' ]        attrs := k=v (',' k=v)*   (values are strings, quotes trimmed)
 *   target  := nodedef | '*' [ '[' attrs ']' ] '/' nodedef   (wildcard only as child)
 */

export interface FabricNodeDef {
  name: string;
  attrs: Record<string, string>;
}

export interface FabricRule {
  parent: FabricNodeDef;
  /** The fabric node, or, with `wildcard`, the filter on the agent interface ({Name, ...attrs}). */
  child: FabricNodeDef;
  /** `*[...]`: the filter on the parent of the agent interface (e.g. {Type: host, Name: agent1}). */
  wildcard?: Record<string, string>;
  /** Metadata of the layer2 link (`-> [k=v] target`). */
  linkAttrs: Record<string, string>;
  /** '->': ownership + layer2; '-->': layer2 only. */
  ownership: boolean;
}

const NAME_CHAR = /[A-Za-z0-9_.:@+-]/;

class RuleParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): FabricRule {
    this.space();
    if (this.peek() === '*') this.fail('a node name (a wildcard "*" can only be the child of a rule)');
    const parent = this.nodeDef();
    this.space();
    const ownership = this.arrow();
    this.space();
    let linkAttrs: Record<string, string> = {};
    if (this.peek() === '[') {
      linkAttrs = this.attrs();
      this.space();
    }
    let rule: FabricRule;
    if (this.peek() === '*') {
      this.pos++;
      this.space();
      const wildcard = this.peek() === '[' ? this.attrs() : {};
      this.space();
      this.expect('/', '"/" then the interface name after the wildcard');
      this.space();
      rule = { parent, child: this.nodeDef(), wildcard, linkAttrs, ownership };
    } else rule = { parent, child: this.nodeDef(), linkAttrs, ownership };
    this.space();
    if (this.pos < this.src.length) this.fail('end of rule');
    return rule;
  }

  private arrow(): boolean {
    if (this.src.startsWith('-->', this.pos)) {
      this.pos += 3;
      return false;
    }
    if (this.src.startsWith('->', this.pos)) {
      this.pos += 2;
      return true;
    }
    this.fail('"->" or "-->"');
  }

  private nodeDef(): FabricNodeDef {
    const name = this.name('a node name');
    this.space();
    const attrs = this.peek() === '[' ? this.attrs() : {};
    return { name, attrs };
  }

  /** Names may contain '-', but not the start of an arrow. */
  private name(what: string): string {
    const start = this.pos;
    while (this.pos < this.src.length && NAME_CHAR.test(this.src[this.pos]) && !this.src.startsWith('->', this.pos) && !this.src.startsWith('-->', this.pos)) this.pos++;
    if (this.pos === start) this.fail(what);
    return this.src.slice(start, this.pos);
  }

  private attrs(): Record<string, string> {
    this.expect('[', '"["');
    const out: Record<string, string> = {};
    this.space();
    if (this.peek() === ']') this.fail('an attribute key=value');
    for (;;) {
      this.space();
      const key = this.name('an attribute key');
      this.space();
      this.expect('=', `"=" after attribute "${key}"`);
      this.space();
      out[key] = this.value();
      this.space();
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      this.expect(']', '"," or "]"');
      return out;
    }
  }

  /** A quoted string, or everything up to ',' or ']' (trimmed). */
  private value(): string {
    const q = this.peek();
    if (q === '"' || q === "'") {
      const end = this.src.indexOf(q, this.pos + 1);
      if (end < 0) this.fail(`a closing ${q}`, this.src.length);
      const v = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
      return v;
    }
    const start = this.pos;
    while (this.pos < this.src.length && this.src[this.pos] !== ',' && this.src[this.pos] !== ']') this.pos++;
    const v = this.src.slice(start, this.pos).trim();
    if (!v) this.fail('an attribute value', start);
    return v;
  }

  private expect(c: string, what: string): void {
    if (this.peek() !== c) this.fail(what);
    this.pos++;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private space(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  private fail(expected: string, at = this.pos): never {
    const got = at < this.src.length ? `"${this.src[at]}"` : 'end of rule';
    throw new UsageError('SKYDIVE_FABRIC_RULE', `invalid fabric rule "${this.src}" at column ${at + 1}: expected ${expected}, got ${got}`);
  }
}

export function parseFabricRule(rule: string): FabricRule {
  return new RuleParser(rule).parse();
}

/**
 * Runs on the analyzer: creates the fabric nodes and links of the rules, and, for wildcard rules, links the
 * fabric node to every agent interface matching the rule as soon as it appears under the matching parent.
 * Links to an agent interface disappear with it (the graph deletes a node's edges with the node) or when the
 * interface leaves that parent.
 */
export class FabricProbe implements TopologyProbe {
  readonly name = 'fabric';
  private readonly rules: FabricRule[];
  private readonly nodes = new Map<string, Node>();
  private readonly listener: GraphListener;

  /** Throws UsageError('SKYDIVE_FABRIC_RULE') on the first invalid rule. */
  constructor(
    private readonly graph: Graph,
    rules: string[],
  ) {
    this.rules = rules.map(parseFabricRule);
    this.listener = {
      onEdgeAdded: (e) => this.onEdge(e, true),
      onEdgeDeleted: (e) => this.onEdge(e, false),
    };
  }

  async start(): Promise<void> {
    for (const r of this.rules) {
      const parent = this.fabricNode(r.parent);
      if (r.wildcard) continue;
      const child = this.fabricNode(r.child);
      if (r.ownership) this.graph.ownershipLink(parent, child);
      this.graph.link(parent, child, 'layer2', { Type: 'fabric', ...r.linkAttrs });
    }
    this.graph.addListener(this.listener);
    for (const e of [...this.graph.edges()]) this.onEdge(e, true);
  }

  async stop(): Promise<void> {
    this.graph.removeListener(this.listener);
  }

  /** First definition of a name wins; later mentions reuse the node. */
  private fabricNode(def: FabricNodeDef): Node {
    let n = this.nodes.get(def.name);
    if (n && this.graph.getNode(n.id) === n) return n;
    const id = genID(`fabric${def.name}`);
    n = this.graph.getNode(id) ?? this.graph.newNode(id, { Name: def.name, Type: 'device', Probe: 'fabric', ...def.attrs, TID: id });
    this.nodes.set(def.name, n);
    return n;
  }

  private onEdge(e: Edge, added: boolean): void {
    for (const r of this.rules) {
      if (!r.wildcard) continue;
      const parent = this.graph.getNode(e.parent);
      const child = this.graph.getNode(e.child);
      if (!parent || !child || !matchesMetadata(parent, r.wildcard) || !matchesMetadata(child, { Name: r.child.name, ...r.child.attrs })) continue;
      const fabric = this.fabricNode(r.parent);
      if (fabric.id === child.id) continue;
      if (added) {
        this.graph.link(fabric, child, 'layer2', { Type: 'fabric', ...r.linkAttrs });
      } else if (![...this.graph.inEdges(child)].some((o) => o.id !== e.id && o.parent === parent.id)) {
        this.graph.unlink(fabric, child, 'layer2');
      }
    }
  }
}
