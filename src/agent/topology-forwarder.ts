import type { Edge, Graph, GraphListener, Node, PartialOp } from '../graph/graph.js';
import type { WSPeer } from '../common/ws-peer.js';

/**
 * Streams the agent graph to every connected analyzer (namespace `Graph`): a full `Sync` when a connection
 * opens, then NodeAdded/NodeDeleted/EdgeAdded/EdgeDeleted with whole elements and
 * NodePartiallyUpdated/EdgePartiallyUpdated with the changed keys only (never NodeUpdated), as the original's
 * forwarder does. Graph events are synchronous, so a connection never misses an event between its Sync and the
 * next change.
 */
export class TopologyForwarder implements GraphListener {
  private readonly peers = new Set<WSPeer>();

  constructor(private readonly graph: Graph) {
    graph.addListener(this);
  }

  attach(peer: WSPeer): void {
    this.peers.add(peer);
    peer.send('Graph', 'Sync', this.graph.toJSON());
  }

  detach(peer: WSPeer): void {
    this.peers.delete(peer);
  }

  close(): void {
    this.graph.removeListener(this);
    this.peers.clear();
  }

  onNodeAdded(node: Node): void {
    this.broadcast('NodeAdded', node.toJSON());
  }
  onNodeUpdated(node: Node, ops: PartialOp[]): void {
    this.broadcast('NodePartiallyUpdated', { ID: node.id, UpdatedAt: node.updatedAt, Revision: node.revision, Ops: ops });
  }
  onNodeDeleted(node: Node): void {
    this.broadcast('NodeDeleted', node.toJSON());
  }
  onEdgeAdded(edge: Edge): void {
    this.broadcast('EdgeAdded', edge.toJSON());
  }
  onEdgeUpdated(edge: Edge, ops: PartialOp[]): void {
    this.broadcast('EdgePartiallyUpdated', { ID: edge.id, UpdatedAt: edge.updatedAt, Revision: edge.revision, Ops: ops });
  }
  onEdgeDeleted(edge: Edge): void {
    this.broadcast('EdgeDeleted', edge.toJSON());
  }

  private broadcast(type: string, obj: unknown): void {
    if (!this.peers.size) return;
    for (const p of this.peers) p.send('Graph', type, obj);
  }
}
