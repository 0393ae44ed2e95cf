import type { FastifyInstance } from 'fastify';
import type { AnalyzerPlugin, Analyzer } from '../analyzer.js';
import { SkydiveError, UsageError, errorMessage } from '../../common/errors.js';
import { encodePcap } from '../../flow/pcap-writer.js';
import { executeGremlin } from '../../gremlin/index.js';
import { keepaliveFromConfig } from '../../common/ws-peer.js';
import { FLOW_NAMESPACE, FLOW_UPDATE, type Capture, type FlowUpdateMessage } from '../../probes/capture/capture-resource.js';
import type { InjectionRequest, PacketInjection } from '../../injector/injection-resource.js';
import { FlowStore } from '../flows/flow-store.js';
import { FLOW_EXPIRE_EXT, FLOW_STORE_EXT, rawPacketsOf, registerFlowSteps } from '../flows/flow-steps.js';
import { FlowSubscribers } from '../flows/flow-subscribers.js';
import { flowsFromPcapBytes } from '../flows/pcap-ingest.js';
import { CaptureController } from './capture-controller.js';
import { allowsSeveral, validateCapture } from './capture-validation.js';
import { dispatchInjection, resolveInjection, stopInjection, validateInjection } from './injection-api.js';
import { ResourceStore } from './resource-store.js';

/**
 * Captures, packet injection and flows on the analyzer (listed in src/analyzer/plugins.ts): /api/capture,
 * /api/injectpacket, /api/pcap, /ws/subscriber/flow, the agents' `Flow` messages into the flow store, and the
 * flow Gremlin steps.
 */
export function captureAnalyzerPlugin(): AnalyzerPlugin {
  let controller: CaptureController | undefined;
  let subscribers: FlowSubscribers | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let captures: ResourceStore<Capture> | undefined;
  let injections: ResourceStore<PacketInjection> | undefined;
  return {
    name: 'captures',
    async setup(analyzer: Analyzer) {
      const expireMs = analyzer.config.get<number>('flow.expire', 600) * 1000;
      const store = new FlowStore({ maxFlows: analyzer.config.get<number>('analyzer.flow.max_buffer_size', 100000), retentionMs: expireMs });
      let evicted = 0;
      sweeper = setInterval(() => {
        store.sweep();
        if (store.evicted > evicted) {
          analyzer.log.warn({ evicted: store.evicted - evicted }, 'flow store full: the least recently updated flows were dropped (analyzer.flow.max_buffer_size)');
          evicted = store.evicted;
        }
      }, 10000);
      sweeper.unref();
      registerFlowSteps(analyzer.gremlinRegistry);
      analyzer.gremlinExt[FLOW_STORE_EXT] = store;
      analyzer.gremlinExt[FLOW_EXPIRE_EXT] = expireMs;

      analyzer.onAgentMessage(FLOW_NAMESPACE, (msg) => {
        if (msg.Type !== FLOW_UPDATE) return;
        const u = msg.Obj as FlowUpdateMessage | undefined;
        if (!u || !Array.isArray(u.Flows)) return;
        store.add(u.Flows, u.RawPackets, typeof u.CaptureID === 'string' ? u.CaptureID : '');
      });

      const ctl = new CaptureController(analyzer.graph, analyzer.agents, () => analyzer.gremlinContext(), analyzer.log.child({ component: 'captures' }));
      controller = ctl;
      captures = new ResourceStore<Capture>({
        name: 'capture',
        code: 'CAPTURE',
        create(body) {
          const c = validateCapture(body, analyzer.gremlinRegistry);
          for (const other of captures!.list()) {
            if (other.GremlinQuery !== c.GremlinQuery || other.Type !== c.Type) continue;
            if (allowsSeveral(c.Type ?? '') && other.BPFFilter !== c.BPFFilter) continue;
            throw new SkydiveError('SKYDIVE_CAPTURE_DUPLICATE', `capture ${other.UUID} already captures '${c.GremlinQuery}'${c.Type ? ` with type ${c.Type}` : ''}`, 409);
          }
          return c;
        },
        created: (c) => ctl.add(c),
        deleted: (c) => ctl.remove(c.UUID),
        view: (c) => ({ ...c, Count: ctl.activeCount(c.UUID) }),
      });

      // analyzer.startup.capture_*: a capture that exists from the start (listed by GET /api/capture)
      const startupGremlin = analyzer.config.get<string>('analyzer.startup.capture_gremlin', '');
      if (startupGremlin) {
        const body = {
          GremlinQuery: startupGremlin,
          BPFFilter: analyzer.config.get<string>('analyzer.startup.capture_bpf', ''),
          Type: analyzer.config.get<string>('analyzer.startup.capture_type', ''),
        };
        await captures.add(body).catch((err) => {
          throw new UsageError('SKYDIVE_CONFIG_BAD_VALUE', `bad analyzer.startup.capture_* configuration: ${errorMessage(err)}`);
        });
      }

      const dispatched = new Map<string, { host: string; request: InjectionRequest }>();
      injections = new ResourceStore<PacketInjection>({
        name: 'packet injection',
        code: 'INJECTION',
        create: (body) => validateInjection(body, analyzer.gremlinRegistry),
        async created(r) {
          const d = await resolveInjection(r, analyzer.gremlinContext());
          d.request.Resource.UUID = r.UUID;
          await dispatchInjection(analyzer.agents, d.host, d.request);
          Object.assign(r, { SrcIP: d.request.Resource.SrcIP, SrcMAC: d.request.Resource.SrcMAC, DstIP: d.request.Resource.DstIP, DstMAC: d.request.Resource.DstMAC });
          dispatched.set(r.UUID, d);
          // listed while it sends, as the original's client TTL (Interval × Count + 5 s)
          injections!.expireAfter(r.UUID, (r.Interval ?? 1000) * (r.Count ?? 1) + 5000);
        },
        async deleted(r) {
          const d = dispatched.get(r.UUID);
          dispatched.delete(r.UUID);
          if (d) await stopInjection(analyzer.agents, d.host, d.request);
        },
      });

      subscribers = new FlowSubscribers(store, keepaliveFromConfig(analyzer.config), analyzer.log.child({ endpoint: '/ws/subscriber/flow' }));
      analyzer.registerWebSocket('/ws/subscriber/flow', subscribers.upgrade);
      analyzer.registerRoutes((app: FastifyInstance) => {
        captures!.register(app, '/api/capture');
        injections!.register(app, '/api/injectpacket');
        for (const type of ['application/octet-stream', 'application/vnd.tcpdump.pcap']) {
          if (!app.hasContentTypeParser(type)) app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: 512 * 1024 * 1024 }, (_req, body, done) => done(null, body));
        }
        // POST /api/topology answers RawPackets()/BPF() results as a pcap file to clients that accept one
        app.addHook('preHandler', async (req, reply) => {
          if (req.method !== 'POST' || req.url.split('?')[0] !== '/api/topology' || !String(req.headers.accept ?? '').includes('vnd.tcpdump.pcap')) return;
          const query = String((req.body as { GremlinQuery?: unknown } | undefined)?.GremlinQuery ?? '').trim();
          const packets = rawPacketsOf(await executeGremlin(query, analyzer.gremlinContext()));
          if (!packets) throw new SkydiveError('SKYDIVE_API_NOT_ACCEPTABLE', 'only RawPackets() results can be rendered as pcap', 406);
          const pcap = encodePcap(
            packets.map((p) => ({ data: Buffer.from(p.Data, 'base64'), tsMs: p.Timestamp })),
            { linkType: packets[0]?.LinkType ?? 1 },
          );
          return reply.type('application/vnd.tcpdump.pcap').send(pcap);
        });
        app.post('/api/pcap', { bodyLimit: 512 * 1024 * 1024 }, async (req, reply) => {
          if (!Buffer.isBuffer(req.body)) throw new SkydiveError('SKYDIVE_PCAP_CONTENT_TYPE', 'send the capture file with Content-Type: application/octet-stream', 415);
          const { flows, packets } = flowsFromPcapBytes(req.body);
          store.add(flows);
          return reply.status(202).send({ Flows: flows.length, Packets: packets });
        });
      });
    },
    async stop() {
      clearInterval(sweeper);
      subscribers?.close();
      controller?.close();
      await injections?.clear();
    },
  };
}
