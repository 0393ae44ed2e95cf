import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Graph, type Node } from '../graph/graph.js';
import type { Config } from '../config/config.js';
import { UsageError } from '../common/errors.js';
import { childLogger } from '../common/log.js';
import { VERSION } from '../common/version.js';
import { formatAddress, parseServiceAddress, type ServiceAddress } from '../common/address.js';
import { createHttpServer } from '../common/http-server.js';
import { listen } from '../common/listen.js';
import { registerTopologyRoutes } from '../common/topology-api.js';
import { MessageHandlers, keepaliveFromConfig, type MessageHandler, type WSPeer } from '../common/ws-peer.js';
import type { GremlinContext } from '../gremlin/index.js';
import { startAgentProbes, type TopologyProbe } from '../probes/topology/index.js';
import { AnalyzerLink } from './analyzer-link.js';
import { TopologyForwarder } from './topology-forwarder.js';

/**
 * The agent: owns the graph of its host (origin `agent.<host_id>`), runs the topology probes, serves a small
 * API (GET /api, GET|POST /api/topology, GET /api/status) and publishes its graph to every analyzer of
 * `analyzers`. Other namespaces (flows, capture commands) travel on the same analyzer connections through
 * `onMessage` / `send`.
 */
export interface AgentOptions {
  /** Overrides `host_id`. */
  hostID?: string;
  /** Overrides `agent.listen`. */
  listen?: string;
  /** Overrides `analyzers`. */
  analyzers?: string[];
}

export interface AgentPlugin {
  readonly name: string;
  /** Called by start() once the probes run and before the analyzers are dialled. */
  setup(agent: Agent): void | Promise<void>;
  stop?(): void | Promise<void>;
}

export class Agent {
  readonly hostID: string;
  readonly graph: Graph;
  readonly config: Config;
  private readonly log: Logger;
  private readonly handlers = new MessageHandlers();
  private readonly links: AnalyzerLink[];
  private readonly forwarder: TopologyForwarder;
  private readonly listenAddr: ServiceAddress;
  private app?: FastifyInstance;
  private probes?: { hostNode: Node; probes: TopologyProbe[]; stop(): Promise<void> };
  private boundAddr?: ServiceAddress;
  private readonly connectListeners = new Set<(peer: WSPeer) => void>();
  private readonly plugins: AgentPlugin[] = [];
  private readonly routePlugins: Array<(app: FastifyInstance) => void> = [];

  constructor(config: Config, opts: AgentOptions = {}) {
    this.config = config;
    this.hostID = opts.hostID ?? config.get<string>('host_id');
    this.graph = new Graph({ host: this.hostID, origin: `agent.${this.hostID}` });
    this.log = childLogger('agent', { host: this.hostID });
    this.listenAddr = checkedAddress(opts.listen ?? config.get<string>('agent.listen'), opts.listen ? '--listen' : 'agent.listen');
    this.forwarder = new TopologyForwarder(this.graph);
    const analyzers = opts.analyzers ?? config.get<string[]>('analyzers', []);
    const auth = clusterAuth(config);
    this.links = analyzers.map(
      (a) =>
        new AnalyzerLink({
          address: checkedAddress(a, 'analyzers'),
          hostID: this.hostID,
          handlers: this.handlers,
          keepalive: keepaliveFromConfig(config),
          compression: config.get<boolean>('http.ws.enable_write_compression', true),
          auth,
          log: this.log,
          onConnected: (peer) => {
            this.forwarder.attach(peer);
            for (const l of this.connectListeners) l(peer);
          },
          onDisconnected: (peer) => this.forwarder.detach(peer),
        }),
    );
  }

  /** The address the API listens on (resolved port once started). */
  get address(): string {
    return formatAddress(this.boundAddr ?? this.listenAddr);
  }

  use(plugin: AgentPlugin): void {
    this.plugins.push(plugin);
  }

  /** Add REST routes to the agent API (before start). */
  registerRoutes(register: (app: FastifyInstance) => void): void {
    this.routePlugins.push(register);
  }

  async start(): Promise<void> {
    this.probes = await startAgentProbes({ graph: this.graph, hostID: this.hostID, config: this.config });
    for (const p of this.plugins) await p.setup(this);
    this.app = createHttpServer(this.log);
    this.registerCoreRoutes(this.app);
    for (const r of this.routePlugins) r(this.app);
    this.boundAddr = await listen(this.app, this.listenAddr, 'agent.listen');
    this.log.info({ listen: this.address, analyzers: this.links.map((l) => l.address) }, 'agent started');
    if (!this.links.length) this.log.warn('no analyzers configured (analyzers: [...]): the topology stays local to this agent');
    for (const l of this.links) l.start();
  }

  async stop(): Promise<void> {
    for (const p of [...this.plugins].reverse()) await p.stop?.();
    for (const l of this.links) l.stop();
    this.forwarder.close();
    await this.probes?.stop();
    await this.app?.close();
  }

  /** Handle messages of a namespace sent by any analyzer (e.g. 'OnDemandCapture'); returns an unsubscribe function. */
  onMessage(namespace: string, handler: MessageHandler): () => void {
    return this.handlers.on(namespace, handler);
  }

  /** Called with each new analyzer connection, after the topology Sync was sent. */
  onAnalyzerConnected(listener: (peer: WSPeer) => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  /** Send a message to every connected analyzer; returns how many got it. */
  send(namespace: string, type: string, obj?: unknown): number {
    let n = 0;
    for (const l of this.links) if (l.connectedPeer?.send(namespace, type, obj)) n++;
    return n;
  }

  /** Connected analyzer peers, for request/reply exchanges. */
  connectedAnalyzers(): WSPeer[] {
    return this.links.map((l) => l.connectedPeer).filter((p): p is WSPeer => !!p);
  }

  gremlinContext(): GremlinContext {
    return { graph: this.graph };
  }

  status(): Record<string, unknown> {
    return {
      Analyzers: Object.fromEntries(this.links.map((l) => [l.address, l.status()])),
      TopologyProbes: this.probes?.probes.map((p) => p.name) ?? [],
    };
  }

  private registerCoreRoutes(app: FastifyInstance): void {
    app.get('/api', async () => ({ Host: this.hostID, Version: VERSION, Service: 'agent' }));
    app.get('/api/status', async () => this.status());
    registerTopologyRoutes(app, this);
  }
}

export function checkedAddress(value: string, key: string): ServiceAddress {
  const a = parseServiceAddress(value);
  if (typeof a === 'string') throw new UsageError('SKYDIVE_CONFIG_BAD_VALUE', `bad value for '${key}': ${a}`);
  return a;
}

function clusterAuth(config: Config): { username: string; password: string } | undefined {
  const username = config.get<string>('agent.auth.cluster.username', '');
  if (!username) return undefined;
  return { username, password: config.get<string>('agent.auth.cluster.password', '') };
}
