import { edgeFromJSON, Graph, nodeFromJSON, type Edge, type GraphListener, type Node } from '../../../src/graph/graph.js';
import type { GraphRevisions, HistoryProvider, TimeSlice } from '../../../src/gremlin/index.js';

interface Revision<T> {
  el: T;
  archivedAt: number | null;
}

/**
 * A HistoryProvider keeping every revision of a live graph in memory, with the selection rules of the original's
 * Elasticsearch backend (reference §1.3). It is the contract a storage backend with history must fulfil.
 */
export class RecordingHistory implements HistoryProvider, GraphListener {
  private readonly nodeRevs = new Map<string, Revision<Node>[]>();
  private readonly edgeRevs = new Map<string, Revision<Edge>[]>();
  /** Arguments of the calls received, for assertions. */
  readonly calls: { graphAt?: number; slice?: TimeSlice }[] = [];

  constructor(private readonly graph: Graph) {
    for (const n of graph.nodes()) this.onNodeAdded(n);
    for (const e of graph.edges()) this.onEdgeAdded(e);
    graph.addListener(this);
  }

  onNodeAdded(n: Node): void {
    push(this.nodeRevs, n.id, { el: nodeFromJSON(structuredClone(n.toJSON())), archivedAt: null });
  }
  onNodeUpdated(n: Node): void {
    archive(this.nodeRevs.get(n.id), n.updatedAt);
    this.onNodeAdded(n);
  }
  onNodeDeleted(n: Node): void {
    deleted(this.nodeRevs.get(n.id), n.deletedAt!);
  }
  onEdgeAdded(e: Edge): void {
    push(this.edgeRevs, e.id, { el: edgeFromJSON(structuredClone(e.toJSON())), archivedAt: null });
  }
  onEdgeUpdated(e: Edge): void {
    archive(this.edgeRevs.get(e.id), e.updatedAt);
    this.onEdgeAdded(e);
  }
  onEdgeDeleted(e: Edge): void {
    deleted(this.edgeRevs.get(e.id), e.deletedAt!);
  }

  async graphAt(at: number): Promise<Graph> {
    this.calls.push({ graphAt: at });
    const g = new Graph({ host: this.graph.host, origin: this.graph.origin });
    const slice = { start: at, last: at };
    for (const revs of this.nodeRevs.values()) {
      const best = highest(select(revs, slice));
      if (best) g.insertNode(best);
    }
    for (const revs of this.edgeRevs.values()) {
      const best = highest(select(revs, slice));
      if (best) g.insertEdge(best);
    }
    return g;
  }

  async revisions(slice: TimeSlice): Promise<GraphRevisions> {
    this.calls.push({ slice });
    const byUpdate = <T extends Node | Edge>(m: Map<string, Revision<T>[]>) =>
      [...m.values()].flatMap((revs) => select(revs, slice)).sort((x, y) => x.updatedAt - y.updatedAt);
    return { nodes: byUpdate(this.nodeRevs), edges: byUpdate(this.edgeRevs) };
  }
}

function push<T>(m: Map<string, Revision<T>[]>, id: string, r: Revision<T>): void {
  const l = m.get(id);
  if (l) l.push(r);
  else m.set(id, [r]);
}

function archive<T>(revs: Revision<T>[] | undefined, at: number): void {
  if (revs) revs[revs.length - 1].archivedAt = at;
}

function deleted<T extends Node | Edge>(revs: Revision<T>[] | undefined, at: number): void {
  if (!revs) return;
  const last = revs[revs.length - 1];
  last.el.deletedAt = at;
  last.archivedAt = at;
}

function select<T extends Node | Edge>(revs: Revision<T>[], s: TimeSlice): T[] {
  return revs
    .filter(
      ({ el, archivedAt }) =>
        el.createdAt <= s.last && (el.deletedAt === null || el.deletedAt >= s.start) && el.updatedAt <= s.last && (archivedAt === null || archivedAt >= s.start),
    )
    .map((r) => r.el);
}

function highest<T extends Node | Edge>(els: T[]): T | undefined {
  let best: T | undefined;
  for (const e of els) if (!best || e.revision > best.revision) best = e;
  return best;
}
