import { Graph, type Edge, type GraphJSON, type Node } from '../graph/graph.js';

/**
 * What a traversal reads: the live graph, a past snapshot (Context with one argument), or every revision of a time
 * slice (Context with two), where one ID may have several revisions.
 */
export interface TopologyView {
  readonly host: string;
  nodes(): Iterable<Node>;
  edges(): Iterable<Edge>;
  /** true when an ID may have several revisions (Context with a duration). */
  readonly multiRevision: boolean;
  /** The node with this ID (its latest revision in a revision view). */
  nodeByID(id: string): Node | undefined;
  /** The node with this ID; in a revision view, each of its revisions. */
  nodesByID(id: string): readonly Node[];
  edgesByID(id: string): readonly Edge[];
  /** Edges whose Parent is the node. */
  outEdges(nodeID: string): Iterable<Edge>;
  /** Edges whose Child is the node. */
  inEdges(nodeID: string): Iterable<Edge>;
  toJSON(): GraphJSON;
  /** A Graph of this view (the graph itself for a live/snapshot view; latest revisions for a slice). */
  toGraph(): Graph;
}

const NONE: readonly never[] = [];

export class GraphView implements TopologyView {
  readonly multiRevision = false;
  constructor(readonly graph: Graph) {}
  nodeByID(id: string): Node | undefined {
    return this.graph.getNode(id);
  }
  get host(): string {
    return this.graph.host;
  }
  nodes(): Iterable<Node> {
    return this.graph.nodes();
  }
  edges(): Iterable<Edge> {
    return this.graph.edges();
  }
  nodesByID(id: string): readonly Node[] {
    const n = this.graph.getNode(id);
    return n ? [n] : NONE;
  }
  edgesByID(id: string): readonly Edge[] {
    const e = this.graph.getEdge(id);
    return e ? [e] : NONE;
  }
  outEdges(nodeID: string): Iterable<Edge> {
    return this.graph.outEdges(nodeID);
  }
  inEdges(nodeID: string): Iterable<Edge> {
    return this.graph.inEdges(nodeID);
  }
  toJSON(): GraphJSON {
    return this.graph.toJSON();
  }
  toGraph(): Graph {
    return this.graph;
  }
}

/** Every revision of the elements of a time slice, as history backends return them (sorted by UpdatedAt). */
export interface GraphRevisions {
  nodes: Node[];
  edges: Edge[];
}

export class RevisionsView implements TopologyView {
  readonly multiRevision = true;
  private readonly nodeRevs = new Map<string, Node[]>();
  private readonly edgeRevs = new Map<string, Edge[]>();
  private readonly outIdx = new Map<string, Edge[]>();
  private readonly inIdx = new Map<string, Edge[]>();

  constructor(
    private readonly revs: GraphRevisions,
    readonly host: string,
  ) {
    for (const n of revs.nodes) push(this.nodeRevs, n.id, n);
    for (const e of revs.edges) {
      push(this.edgeRevs, e.id, e);
      push(this.outIdx, e.parent, e);
      push(this.inIdx, e.child, e);
    }
  }
  nodes(): Iterable<Node> {
    return this.revs.nodes;
  }
  edges(): Iterable<Edge> {
    return this.revs.edges;
  }
  nodeByID(id: string): Node | undefined {
    const revs = this.nodeRevs.get(id);
    return revs ? latest(revs) : undefined;
  }
  nodesByID(id: string): readonly Node[] {
    return this.nodeRevs.get(id) ?? NONE;
  }
  edgesByID(id: string): readonly Edge[] {
    return this.edgeRevs.get(id) ?? NONE;
  }
  outEdges(nodeID: string): Iterable<Edge> {
    return this.outIdx.get(nodeID) ?? NONE;
  }
  inEdges(nodeID: string): Iterable<Edge> {
    return this.inIdx.get(nodeID) ?? NONE;
  }
  toJSON(): GraphJSON {
    return { Nodes: this.revs.nodes.map((n) => n.toJSON()), Edges: this.revs.edges.map((e) => e.toJSON()) };
  }
  toGraph(): Graph {
    const g = new Graph({ host: this.host, origin: 'GremlinTraversal' });
    for (const revs of this.nodeRevs.values()) g.insertNode(latest(revs));
    for (const revs of this.edgeRevs.values()) g.insertEdge(latest(revs));
    return g;
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function latest<T extends { revision: number }>(revs: T[]): T {
  let best = revs[0];
  for (const r of revs) if (r.revision > best.revision) best = r;
  return best;
}
