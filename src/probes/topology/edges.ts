import { deepEqual, genID, type Edge, type Graph, type Metadata, type Node } from '../../graph/graph.js';

export interface EdgeSpec {
  parent: Node;
  child: Node;
  relation: string;
  metadata?: Metadata;
}

/**
 * The edges one probe is responsible for. Probes compute the edges they want from their current state and
 * `sync` them: missing ones are created, stale ones deleted, so that no event ordering can leave a dangling link.
 */
export class EdgeSet {
  private readonly owned = new Map<string, Edge>();

  constructor(private readonly graph: Graph) {}

  sync(specs: Iterable<EdgeSpec>): void {
    const want = new Map<string, EdgeSpec>();
    for (const s of specs) want.set(genID(s.parent.id + s.child.id + s.relation), s);
    for (const id of [...this.owned.keys()]) {
      if (want.has(id)) continue;
      this.graph.delEdge(id);
      this.owned.delete(id);
    }
    for (const [id, s] of want) {
      if (this.graph.getNode(s.parent.id) !== s.parent || this.graph.getNode(s.child.id) !== s.child) {
        this.owned.delete(id);
        continue;
      }
      const metadata = { RelationType: s.relation, ...s.metadata };
      let e = this.graph.getEdge(id);
      if (e) {
        if (!deepEqual(e.metadata, metadata)) this.graph.setMetadata(e, metadata);
      } else if (s.relation === 'ownership') e = this.graph.ownershipLink(s.parent, s.child, s.metadata);
      else e = this.graph.link(s.parent, s.child, s.relation, s.metadata);
      this.owned.set(id, e);
    }
  }

  clear(): void {
    this.sync([]);
  }
}
