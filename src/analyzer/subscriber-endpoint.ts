import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Edge, Graph, GraphJSON, GraphListener, Node, PartialOp } from '../graph/graph.js';
import { executeGremlin, resultGraph, type GremlinContext } from '../gremlin/index.js';
import { SkydiveError, UsageError, errorMessage } from '../common/errors.js';
import type { ConnStatus } from '../common/conn-status.js';
import type { WSMessage } from '../common/ws-message.js';
import { MessageHandlers, WSPeer, type KeepaliveOptions } from '../common/ws-peer.js';
import type { UpgradeRequest } from './ws-router.js';

/**
 * /ws/subscriber: graph events pushed from connection time (NodeAdded/Updated/Deleted, Edge...), the graph sent
 * as SyncReply to a client SyncRequest, and other broadcasts (alerts). With a Gremlin filter (X-Gremlin-Filter
 * header, `gremlinfilter` query parameter, or SyncRequest.GremlinFilter) that must evaluate to a graph, every
 * change re-evaluates the filter and the subscriber receives the difference: Added/Deleted for elements entering
 * or leaving the filtered subgraph, Updated for those that stay and changed.
 */
export interface SubscriberHost {
  readonly graph: Graph;
  gremlinContext(): GremlinContext;
}

type UpdatePolicy = 'full' | 'partial';

interface Filtered {
  nodes: Map<string, string>;
  edges: Map<string, string>;
  json: GraphJSON;
}

export class SubscriberEndpoint {
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    private readonly host: SubscriberHost,
    private readonly keepalive: KeepaliveOptions,
    private readonly log: Logger,
  ) {}

  /** Upgrade handler: validates the filter before accepting the connection (400 with the reason otherwise). */
  readonly upgrade = async (r: UpgradeRequest): Promise<(ws: WebSocket) => void> => {
    const filter = r.param('X-Gremlin-Filter')?.trim() || undefined;
    const policyParam = (r.param('X-Update-Policy') ?? 'full').toLowerCase();
    if (policyParam !== 'full' && policyParam !== 'partial') {
      throw new UsageError('SKYDIVE_WS_BAD_REQUEST', `X-Update-Policy must be 'full' or 'partial', got '${policyParam}'`);
    }
    const initial = filter ? await evaluateFilter(this.host, filter) : undefined;
    const remote = `${r.req.socket.remoteAddress ?? ''}:${r.req.socket.remotePort ?? 0}`;
    const hostID = r.param('X-Host-ID') ?? remote;
    const clientType = r.param('X-Client-Type') ?? 'subscriber';
    return (ws) => {
      const peer = new WSPeer(ws, new MessageHandlers(), this.log.child({ subscriber: hostID }), this.keepalive, (msg, p) => this.intercept(sub, msg, p));
      const sub = new Subscriber(this.host, peer, policyParam, filter, initial, this.log, {
        hostID,
        clientType,
        addr: r.req.socket.remoteAddress ?? '',
        port: r.req.socket.remotePort ?? 0,
      });
      this.subscribers.add(sub);
      peer.onClose(() => {
        sub.close();
        this.subscribers.delete(sub);
      });
    };
  };

  /** Send a message to every subscriber (e.g. namespace 'Alert'). */
  broadcast(namespace: string, type: string, obj?: unknown): void {
    for (const s of this.subscribers) s.peer.send(namespace, type, obj);
  }

  status(): Record<string, ConnStatus> {
    return Object.fromEntries([...this.subscribers].map((s) => [s.info.hostID, s.status()]));
  }

  close(): void {
    for (const s of this.subscribers) {
      s.close();
      s.peer.close(1001, 'analyzer stopping');
    }
    this.subscribers.clear();
  }

  private intercept(sub: Subscriber, msg: WSMessage, peer: WSPeer): boolean {
    if (msg.Namespace !== 'Graph') return false;
    if (msg.Type === 'SyncRequest') sub.syncRequest(msg);
    else peer.reply(msg, `${msg.Type}Reply`, `unsupported message ${msg.Type} on /ws/subscriber`, 400);
    return true;
  }
}

class Subscriber implements GraphListener {
  private filtered?: Filtered;
  private chain: Promise<void> = Promise.resolve();
  private diffQueued = false;
  private closed = false;

  constructor(
    private readonly host: SubscriberHost,
    readonly peer: WSPeer,
    private readonly policy: UpdatePolicy,
    private filter: string | undefined,
    initial: Filtered | undefined,
    private readonly log: Logger,
    readonly info: { hostID: string; clientType: string; addr: string; port: number },
  ) {
    this.filtered = initial;
    host.graph.addListener(this);
  }

  close(): void {
    this.closed = true;
    this.host.graph.removeListener(this);
  }

  status(): ConnStatus {
    return {
      ServiceType: 'analyzer',
      ClientProtocol: 'json',
      Addr: this.info.addr,
      Port: this.info.port,
      IsConnected: this.peer.isOpen,
      ConnectTime: this.peer.connectTime.toISOString(),
      RemoteHost: this.info.hostID,
      RemoteServiceType: this.info.clientType,
    };
  }

  syncRequest(msg: WSMessage): void {
    const obj = (msg.Obj ?? {}) as { Time?: unknown; GremlinFilter?: unknown };
    this.serialize(async () => {
      try {
        if (obj.GremlinFilter !== undefined && typeof obj.GremlinFilter !== 'string') throw new UsageError('SKYDIVE_WS_BAD_REQUEST', 'GremlinFilter must be a string');
        if (obj.Time !== undefined && obj.Time !== null && typeof obj.Time !== 'number') throw new UsageError('SKYDIVE_WS_BAD_REQUEST', 'Time must be a number of milliseconds');
        if (typeof obj.GremlinFilter === 'string') {
          const f = obj.GremlinFilter.trim();
          this.filtered = f ? await evaluateFilter(this.host, f) : undefined;
          this.filter = f || undefined;
        }
        const time = typeof obj.Time === 'number' ? obj.Time : 0;
        let reply: GraphJSON;
        if (time) reply = (await evaluateFilter(this.host, atTime(this.filter ?? 'G', time))).json;
        else if (this.filter) {
          this.filtered = await evaluateFilter(this.host, this.filter);
          reply = this.filtered.json;
        } else reply = this.host.graph.toJSON();
        this.peer.reply(msg, 'SyncReply', reply, 200);
      } catch (err) {
        this.peer.reply(msg, 'SyncReply', errorMessage(err), 400);
      }
    });
  }

  onNodeAdded(node: Node): void {
    if (this.filter) this.queueDiff();
    else this.peer.send('Graph', 'NodeAdded', node.toJSON());
  }
  onNodeUpdated(node: Node, ops: PartialOp[]): void {
    if (this.filter) this.queueDiff();
    else if (this.policy === 'partial') this.peer.send('Graph', 'NodePartiallyUpdated', { ID: node.id, UpdatedAt: node.updatedAt, Revision: node.revision, Ops: ops });
    else this.peer.send('Graph', 'NodeUpdated', node.toJSON());
  }
  onNodeDeleted(node: Node): void {
    if (this.filter) this.queueDiff();
    else this.peer.send('Graph', 'NodeDeleted', node.toJSON());
  }
  onEdgeAdded(edge: Edge): void {
    if (this.filter) this.queueDiff();
    else this.peer.send('Graph', 'EdgeAdded', edge.toJSON());
  }
  onEdgeUpdated(edge: Edge, ops: PartialOp[]): void {
    if (this.filter) this.queueDiff();
    else if (this.policy === 'partial') this.peer.send('Graph', 'EdgePartiallyUpdated', { ID: edge.id, UpdatedAt: edge.updatedAt, Revision: edge.revision, Ops: ops });
    else this.peer.send('Graph', 'EdgeUpdated', edge.toJSON());
  }
  onEdgeDeleted(edge: Edge): void {
    if (this.filter) this.queueDiff();
    else this.peer.send('Graph', 'EdgeDeleted', edge.toJSON());
  }

  /** Changes arrive in bursts (a Sync, a namespace appearing): one re-evaluation covers all queued events. */
  private queueDiff(): void {
    if (this.diffQueued) return;
    this.diffQueued = true;
    this.serialize(async () => {
      this.diffQueued = false;
      if (!this.filter || this.closed) return;
      let next: Filtered;
      try {
        next = await evaluateFilter(this.host, this.filter);
      } catch (err) {
        this.log.warn({ err: errorMessage(err), filter: this.filter }, 'subscriber filter failed');
        return;
      }
      this.sendDiff(this.filtered, next);
      this.filtered = next;
    });
  }

  private sendDiff(prev: Filtered | undefined, next: Filtered): void {
    const before = prev ?? { nodes: new Map(), edges: new Map(), json: { Nodes: [], Edges: [] } };
    for (const e of before.json.Edges) if (!next.edges.has(e.ID)) this.peer.send('Graph', 'EdgeDeleted', e);
    for (const n of before.json.Nodes) if (!next.nodes.has(n.ID)) this.peer.send('Graph', 'NodeDeleted', n);
    for (const n of next.json.Nodes) {
      const was = before.nodes.get(n.ID);
      if (was === undefined) this.peer.send('Graph', 'NodeAdded', n);
      else if (was !== next.nodes.get(n.ID)) this.peer.send('Graph', 'NodeUpdated', n);
    }
    for (const e of next.json.Edges) {
      const was = before.edges.get(e.ID);
      if (was === undefined) this.peer.send('Graph', 'EdgeAdded', e);
      else if (was !== next.edges.get(e.ID)) this.peer.send('Graph', 'EdgeUpdated', e);
    }
  }

  private serialize(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((err) => this.log.warn({ err: errorMessage(err) }, 'subscriber task failed'));
  }
}

/** Run a filter; it must produce a graph (G... or ...SubGraph()). */
async function evaluateFilter(host: SubscriberHost, filter: string): Promise<Filtered> {
  const result = await executeGremlin(filter, host.gremlinContext());
  const g = resultGraph(result);
  if (!g) throw new UsageError('SKYDIVE_WS_BAD_FILTER', `the Gremlin filter must evaluate to a graph (end it with .SubGraph()): ${filter}`);
  const json = g.toJSON();
  return {
    json,
    nodes: new Map(json.Nodes.map((n) => [n.ID, `${n.Revision}:${n.UpdatedAt}`])),
    edges: new Map(json.Edges.map((e) => [e.ID, `${e.Revision}:${e.UpdatedAt}`])),
  };
}

/** `G...` → `G.At(time)...` for a SyncRequest with a Time. */
function atTime(filter: string, time: number): string {
  if (!/^\s*g\b/i.test(filter)) throw new SkydiveError('SKYDIVE_WS_BAD_FILTER', `a Gremlin filter must start with G: ${filter}`, 400);
  return filter.replace(/^\s*g/i, `G.At(${Math.trunc(time)})`);
}
