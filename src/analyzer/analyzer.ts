import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Graph } from '../graph/graph.js';
import { lookup, type Config } from '../config/config.js';
import { SkydiveError, UsageError, errorMessage } from '../common/errors.js';
import { childLogger } from '../common/log.js';
import { VERSION } from '../common/version.js';
import { formatAddress, parseServiceAddress, type ServiceAddress } from '../common/address.js';
import { createHttpServer, notFound } from '../common/http-server.js';
import { listen } from '../common/listen.js';
import { registerTopologyRoutes } from '../common/topology-api.js';
import { MessageHandlers, WSPeer, keepaliveFromConfig, type KeepaliveOptions } from '../common/ws-peer.js';
import type { WSMessage } from '../common/ws-message.js';
import { StepRegistry, defaultRegistry, type GremlinContext, type HistoryProvider } from '../gremlin/index.js';
import { FabricProbe } from '../probes/topology/fabric.js';
import { AgentConnection, AgentRegistry, type PersistencePolicy } from './agent-registry.js';
import { applyGraphMessage } from './graph-publisher.js';
import { registerElementRoutes } from './element-api.js';
import { SubscriberEndpoint } from './subscriber-endpoint.js';
import { WebSocketRouter, type UpgradeHandler } from './ws-router.js';
import { registerUI } from '../ui/index.js';

/**
 * The analyzer: the aggregated graph (every agent's subgraph + its own fabric nodes, origin
 * `analyzer.<host_id>`), the REST API and the WebSocket endpoints (/ws/agent/topology for agents, /ws/subscriber
 * for graph subscribers). Features such as captures plug in before start() through `use(plugin)`: extra routes,
 * WebSocket endpoints, Gremlin steps, status sections and agent message handlers.
 */
export interface AnalyzerOptions {
  /** Overrides `host_id`. */
  hostID?: string;
  /** Overrides `analyzer.listen`. */
  listen?: string;
}

export interface AnalyzerPlugin {
  readonly name: string;
  /** Called by start() before the server listens: register routes, endpoints, steps, handlers. */
  setup(analyzer: Analyzer): void | Promise<void>;
  /** Called by stop() before the server closes. */
  stop?(): void | Promise<void>;
}

export type AgentMessageHandler = (msg: WSMessage, agent: AgentConnection) => void | Promise<void>;

export class Analyzer {
  readonly hostID: string;
  readonly graph: Graph;
  readonly config: Config;
  readonly agents = new AgentRegistry();
  /** Steps available to queries on this analyzer: core steps plus what plugins define. */
  readonly gremlinRegistry = new StepRegistry(defaultRegistry);
  /** Extension data handed to Gremlin steps (GremlinContext.ext). */
  readonly gremlinExt: Record<string, unknown> = {};
  /** Topology history for Context()/At(), set by a storage plugin. */
  history?: HistoryProvider;
  readonly log: Logger;

  private readonly listenAddr: ServiceAddress;
  private boundAddr?: ServiceAddress;
  private readonly keepalive: KeepaliveOptions;
  private readonly agentHandlers = new MessageHandlers();
  private readonly connections = new WeakMap<WSPeer, AgentConnection>();
  private readonly plugins: AnalyzerPlugin[] = [];
  private readonly routePlugins: Array<(app: FastifyInstance) => void> = [];
  private readonly wsRoutes = new Map<string, UpgradeHandler>();
  private readonly statusSections = new Map<string, () => unknown>();
  private readonly probes: Array<{ name: string; stop(): Promise<void> }> = [];
  private app?: FastifyInstance;
  private router?: WebSocketRouter;
  private subscribers?: SubscriberEndpoint;
  private started = false;
  /** Set once plugins are set up: routes and endpoints can no longer be added. */
  private frozen = false;

  constructor(config: Config, opts: AnalyzerOptions = {}) {
    this.config = config;
    this.hostID = opts.hostID ?? config.get<string>('host_id');
    this.graph = new Graph({ host: this.hostID, origin: `analyzer.${this.hostID}` });
    this.log = childLogger('analyzer', { host: this.hostID });
    const listenValue = opts.listen ?? config.get<string>('analyzer.listen');
    const a = parseServiceAddress(listenValue);
    if (typeof a === 'string') throw new UsageError('SKYDIVE_CONFIG_BAD_VALUE', `bad value for '${opts.listen ? '--listen' : 'analyzer.listen'}': ${a}`);
    this.listenAddr = a;
    this.keepalive = keepaliveFromConfig(config);
  }

  /** The address the API listens on (resolved port once started). */
  get address(): string {
    return formatAddress(this.boundAddr ?? this.listenAddr);
  }

  // ---- extension hooks (before start)

  use(plugin: AnalyzerPlugin): void {
    if (this.started) throw new Error(`plugin ${plugin.name} must be added before the analyzer starts`);
    this.plugins.push(plugin);
  }

  /** Add REST routes (e.g. /api/capture); errors thrown as SkydiveError become `{code, message}` answers. */
  registerRoutes(register: (app: FastifyInstance) => void): void {
    this.assertNotStarted('routes');
    this.routePlugins.push(register);
  }

  /** Add a WebSocket endpoint (e.g. /ws/subscriber/flow). */
  registerWebSocket(path: string, handler: UpgradeHandler): void {
    this.assertNotStarted(`WebSocket endpoint ${path}`);
    this.wsRoutes.set(path, handler);
  }

  /** Fill a section of GET /api/status (e.g. 'Captures'). */
  setStatusSection(name: string, section: () => unknown): void {
    this.statusSections.set(name, section);
  }

  // ---- runtime hooks

  /** Handle messages of a namespace sent by agents (e.g. 'Flow'). */
  onAgentMessage(namespace: string, handler: AgentMessageHandler): () => void {
    return this.agentHandlers.on(namespace, (msg, peer) => {
      const agent = this.connections.get(peer);
      if (agent) return handler(msg, agent);
    });
  }

  /** Send a message to every /ws/subscriber client (e.g. namespace 'Alert'). */
  broadcast(namespace: string, type: string, obj?: unknown): void {
    this.subscribers?.broadcast(namespace, type, obj);
  }

  gremlinContext(): GremlinContext {
    return { graph: this.graph, registry: this.gremlinRegistry, ext: this.gremlinExt, history: this.history };
  }

  // ---- lifecycle

  async start(): Promise<void> {
    if (this.started) throw new Error('analyzer already started');
    this.started = true;
    await this.startFabric();
    for (const p of this.plugins) await p.setup(this);
    this.frozen = true;

    const app = createHttpServer(this.log);
    this.app = app;
    this.registerCoreRoutes(app);
    await registerUI(app);
    for (const r of this.routePlugins) r(app);
    await app.ready();

    this.router = new WebSocketRouter(app.server, this.log, {
      compression: this.config.get<boolean>('http.ws.enable_write_compression', true),
      hostID: this.hostID,
      serviceType: 'analyzer',
    });
    this.subscribers = new SubscriberEndpoint(this, this.keepalive, this.log.child({ endpoint: '/ws/subscriber' }));
    this.router.route('/ws/agent/topology', this.agentUpgrade);
    this.router.route('/ws/subscriber', this.subscribers.upgrade);
    for (const [path, h] of this.wsRoutes) this.router.route(path, h);

    this.boundAddr = await listen(app, this.listenAddr, 'analyzer.listen');
    this.log.info({ listen: this.address }, 'analyzer started');
    const authBackend = this.config.get<string>('analyzer.auth.api.backend', 'noauth');
    if (authBackend !== 'noauth') this.log.warn({ backend: authBackend }, 'API authentication is not implemented: the API is open to anyone who can reach analyzer.listen');
  }

  async stop(): Promise<void> {
    for (const p of [...this.plugins].reverse()) {
      try {
        await p.stop?.();
      } catch (err) {
        this.log.warn({ plugin: p.name, err: errorMessage(err) }, 'plugin failed to stop');
      }
    }
    this.subscribers?.close();
    this.router?.closeAll();
    for (const p of this.probes) await p.stop();
    await this.app?.close();
  }

  status(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      Agents: Object.fromEntries(this.agents.list().map((a) => [a.hostID, a.status()])),
      Peers: { Incomers: {}, Outgoers: {} },
      Publishers: {},
      Subscribers: this.subscribers?.status() ?? {},
      Alerts: { IsMaster: true },
      Captures: { IsMaster: true },
      Probes: Object.fromEntries(this.probes.map((p) => [p.name, { Status: 'running' }])),
    };
    for (const [name, section] of this.statusSections) out[name] = section();
    return out;
  }

  private async startFabric(): Promise<void> {
    const rules = this.config.get<string[]>('analyzer.topology.fabric', []);
    let probe: FabricProbe;
    try {
      probe = new FabricProbe(this.graph, rules);
    } catch (err) {
      if (err instanceof SkydiveError) throw new UsageError(err.code, `bad value for 'analyzer.topology.fabric': ${err.message}`);
      throw err;
    }
    await probe.start();
    this.probes.push({ name: 'fabric', stop: () => probe.stop() });
  }

  private registerCoreRoutes(app: FastifyInstance): void {
    app.get('/api', async () => ({ Host: this.hostID, Version: VERSION, Service: 'analyzer' }));
    app.get('/api/status', async () => this.status());
    app.get<{ Params: { key: string } }>('/api/config/:key', async (req, reply) => {
      const key = req.params.key;
      const value = lookup(this.config.all(), key);
      if (value === undefined) throw notFound('SKYDIVE_CONFIG_UNKNOWN_KEY', `configuration key '${key}' is not set`);
      return reply.type('application/json').send(JSON.stringify(redact(key, value)));
    });
    registerTopologyRoutes(app, this);
    registerElementRoutes(app, this.graph, `api.${this.hostID}`);
  }

  /** /ws/agent/topology: PublisherEndpoint semantics (§1.5.3/4). */
  private readonly agentUpgrade: UpgradeHandler = (r) => {
    const hostID = r.param('X-Host-ID');
    if (!hostID) throw new UsageError('SKYDIVE_WS_BAD_REQUEST', 'X-Host-ID header not provided');
    const clientType = r.param('X-Client-Type') ?? 'agent';
    const protocol = (r.param('X-Client-Protocol') ?? 'json').toLowerCase();
    if (protocol !== 'json') throw new UsageError('SKYDIVE_WS_BAD_REQUEST', `X-Client-Protocol '${protocol}' is not supported: use json`);
    const policy = r.param('X-Persistence-Policy') ?? 'DeleteOnDisconnect';
    if (policy !== 'DeleteOnDisconnect' && policy !== 'Persistent') {
      throw new UsageError('SKYDIVE_WS_BAD_REQUEST', `X-Persistence-Policy must be DeleteOnDisconnect or Persistent, got '${policy}'`);
    }
    if (this.agents.has(hostID)) throw new SkydiveError('SKYDIVE_WS_DUPLICATE_HOST', `an agent with host id '${hostID}' is already connected`, 409);
    return (ws) => {
      if (this.agents.has(hostID)) {
        ws.close(4009, 'duplicate host id');
        return;
      }
      const log = this.log.child({ agent: hostID });
      let conn: AgentConnection | undefined;
      const peer = new WSPeer(ws, this.agentHandlers, log, this.keepalive, (msg, p) => {
        if (!conn) return true;
        conn.received++;
        if (msg.Namespace !== 'Graph') return false;
        if (msg.Type === 'SyncRequest') p.reply(msg, 'SyncReply', this.graph.toJSON());
        else applyGraphMessage(this.graph, msg.Type, msg.Obj, conn.origin, log);
        return true;
      });
      conn = new AgentConnection(hostID, clientType, peer, r.req.socket.remoteAddress ?? '', r.req.socket.remotePort ?? 0, policy as PersistencePolicy);
      this.connections.set(peer, conn);
      log.info({ addr: conn.remoteAddr }, 'agent connected');
      peer.onClose(() => {
        if (conn!.persistence === 'DeleteOnDisconnect' && conn!.received > 0) {
          const removed = this.graph.delSubGraphOfOrigin(conn!.origin);
          log.info({ removed }, 'agent disconnected; its subgraph was removed');
        } else log.info('agent disconnected');
        this.agents.remove(conn!);
      });
      this.agents.add(conn);
    };
  };

  private assertNotStarted(what: string): void {
    if (this.frozen) throw new Error(`${what} must be registered before the analyzer starts`);
  }
}

/** Secrets stay out of GET /api/config. */
function redact(key: string, value: unknown): unknown {
  if (/password|secret|token/i.test(key.split('.').pop() ?? '')) return '********';
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(k, v)]));
  }
  return value;
}
