import type { WSMessage } from '../common/ws-message.js';
import type { WSPeer } from '../common/ws-peer.js';
import type { ConnStatus } from '../common/conn-status.js';

/**
 * The agents connected to this analyzer on /ws/agent/topology, by host id. Other features reach an agent
 * through it: `agents.get(hostID)?.send('OnDemandCapture', 'Start', {...})` or `.request(...)` for a reply.
 */
export type PersistencePolicy = 'DeleteOnDisconnect' | 'Persistent';

export class AgentConnection {
  /** Messages received so far (an agent that never spoke leaves nothing to clean up). */
  received = 0;

  constructor(
    readonly hostID: string,
    readonly clientType: string,
    readonly peer: WSPeer,
    readonly remoteAddr: string,
    readonly remotePort: number,
    readonly persistence: PersistencePolicy,
  ) {}

  /** Graph elements published by this agent carry this origin. */
  get origin(): string {
    return `${this.clientType}.${this.hostID}`;
  }

  send(namespace: string, type: string, obj?: unknown): boolean {
    return this.peer.send(namespace, type, obj);
  }

  request(namespace: string, type: string, obj?: unknown, timeoutMs?: number): Promise<WSMessage> {
    return this.peer.request(namespace, type, obj, timeoutMs);
  }

  status(): ConnStatus {
    return {
      ServiceType: this.clientType,
      ClientProtocol: 'json',
      Addr: this.remoteAddr,
      Port: this.remotePort,
      IsConnected: this.peer.isOpen,
      ConnectTime: this.peer.connectTime.toISOString(),
      RemoteHost: this.hostID,
      RemoteServiceType: this.clientType,
    };
  }
}

export class AgentRegistry {
  private readonly byHost = new Map<string, AgentConnection>();
  private readonly connectedCbs = new Set<(a: AgentConnection) => void>();
  private readonly disconnectedCbs = new Set<(a: AgentConnection) => void>();

  get(hostID: string): AgentConnection | undefined {
    return this.byHost.get(hostID);
  }

  has(hostID: string): boolean {
    return this.byHost.has(hostID);
  }

  list(): AgentConnection[] {
    return [...this.byHost.values()];
  }

  /** Called after the agent's connection is registered (its Sync may not have arrived yet). */
  onConnected(cb: (a: AgentConnection) => void): () => void {
    this.connectedCbs.add(cb);
    return () => this.connectedCbs.delete(cb);
  }

  /** Called after the agent left and its subgraph was removed. */
  onDisconnected(cb: (a: AgentConnection) => void): () => void {
    this.disconnectedCbs.add(cb);
    return () => this.disconnectedCbs.delete(cb);
  }

  add(a: AgentConnection): void {
    this.byHost.set(a.hostID, a);
    for (const cb of this.connectedCbs) cb(a);
  }

  remove(a: AgentConnection): void {
    if (this.byHost.get(a.hostID) === a) this.byHost.delete(a.hostID);
    for (const cb of this.disconnectedCbs) cb(a);
  }
}
