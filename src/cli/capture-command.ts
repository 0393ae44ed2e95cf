import { Option, type Command } from 'commander';
import { UsageError } from '../common/errors.js';
import { parseAnswer } from '../common/http-client.js';
import { clientFor, printJSON, runClient } from './client-command.js';
import { choice, collect, positiveInt } from './options.js';

/**
 * `skydive client capture create|list|get|delete` with the original's flags (reference §4): captures are
 * resources of the analyzer (/api/capture) run by the agents owning the matched nodes.
 */

const CAPTURE_TYPES = ['ovssflow', 'pcapsocket', 'ovsmirror', 'dpdk', 'afpacket', 'pcap', 'ebpf', 'sflow', 'ovsnetflow'] as const;
const EXTRA_LAYERS: Record<string, number> = { VRRP: 1, DNS: 2, DHCPV4: 4, ALL: 255 };

interface CreateOptions {
  gremlin?: string;
  node?: string;
  bpf?: string;
  name?: string;
  description?: string;
  type?: string;
  port?: number;
  samplingrate: number;
  pollinginterval: number;
  headerSize?: number;
  rawpacketLimit?: number;
  extraTcpMetric?: boolean;
  ipDefrag?: boolean;
  reassambleTcp?: boolean;
  reassembleTcp?: boolean;
  layerKeyMode: string;
  extraLayer: string[];
  target?: string;
  targetType?: string;
  ttl?: number;
}

function extraLayerMask(names: string[]): number {
  let mask = 0;
  for (const list of names) {
    for (const n of list.split(',')) {
      if (!n.trim()) continue;
      const bit = EXTRA_LAYERS[n.trim().toUpperCase()];
      if (bit === undefined) throw new UsageError('SKYDIVE_CLIENT_BAD_LAYER', `unknown --extra-layer '${n.trim()}': expected VRRP, DNS, DHCPv4 or ALL`);
      mask |= bit;
    }
  }
  return mask;
}

export function captureBody(o: CreateOptions): Record<string, unknown> {
  if (o.gremlin && o.node) throw new UsageError('SKYDIVE_CLIENT_BAD_FLAGS', 'give either --gremlin or --node, not both');
  const gremlin = o.gremlin ?? (o.node ? `G.V().Has('TID', '${o.node}')` : undefined);
  if (!gremlin) throw new UsageError('SKYDIVE_CLIENT_BAD_FLAGS', "--gremlin is required (the nodes to capture, e.g. \"G.V().Has('Name', 'eth0')\"), or --node <TID>");
  const body: Record<string, unknown> = {
    GremlinQuery: gremlin,
    BPFFilter: o.bpf ?? '',
    Name: o.name ?? '',
    Description: o.description ?? '',
    Type: o.type ?? '',
    SamplingRate: o.samplingrate,
    PollingInterval: o.pollinginterval,
    HeaderSize: o.headerSize ?? 0,
    RawPacketLimit: o.rawpacketLimit ?? 0,
    ExtraTCPMetric: !!o.extraTcpMetric,
    IPDefrag: !!o.ipDefrag,
    ReassembleTCP: !!(o.reassambleTcp || o.reassembleTcp),
    LayerKeyMode: o.layerKeyMode,
    ExtraLayers: extraLayerMask(o.extraLayer),
  };
  if (o.port !== undefined) body.Port = o.port;
  if (o.target) body.Target = o.target;
  if (o.targetType) body.TargetType = o.targetType;
  return body;
}

export function registerCaptureCommands(client: Command): void {
  const capture = client.command('capture').description('manage captures (flows of the matched interfaces and bridges)');
  capture
    .command('create')
    .description('create a capture on the nodes a Gremlin query selects')
    .option('--gremlin <query>', "nodes to capture, e.g. \"G.V().Has('Name', 'eth0')\"")
    .option('--node <tid>', "the node with this TID (= --gremlin \"G.V().Has('TID', '<tid>')\")")
    .option('--bpf <filter>', 'BPF filter (tcpdump syntax)')
    .option('--name <name>', 'capture name')
    .option('--description <text>', 'capture description')
    .option('--type <type>', `capture type (${CAPTURE_TYPES.join(', ')}); default: the node type's`, choice(CAPTURE_TYPES))
    .option('--port <port>', 'listening port (sflow)', positiveInt)
    .option('--samplingrate <n>', 'sFlow sampling rate', positiveInt, 1)
    .option('--pollinginterval <s>', 'sFlow counter polling interval (seconds)', positiveInt, 10)
    .option('--header-size <bytes>', 'bytes kept per packet (0: whole packets, else 14..4096)', positiveInt)
    .option('--rawpacket-limit <n>', 'raw packets kept per flow (0..10)', positiveInt)
    .option('--extra-tcp-metric', 'compute TCP metrics (SYN/FIN/RST times)')
    .option('--ip-defrag', 'reassemble IPv4 fragments')
    .option('--reassamble-tcp', 'reassemble TCP streams (segment statistics)')
    .addOption(new Option('--reassemble-tcp', 'same as --reassamble-tcp').hideHelp())
    .option('--layer-key-mode <mode>', 'flow key: L2 (MACs and IPs) or L3 (IPs only)', choice(['L2', 'L3'] as const), 'L2')
    .option('--extra-layer <name>', 'decode an extra layer: VRRP, DNS, DHCPv4 or ALL (repeatable)', collect, [])
    .option('--target <addr:port>', 'export target (ERSPAN/NetFlow; not supported by this implementation)')
    .option('--target-type <type>', 'export target type (erspanv1, netflowv5)')
    .option('--ttl <ms>', 'delete the capture after this many milliseconds', positiveInt)
    .action((o: CreateOptions, cmd: Command) =>
      runClient(async () => {
        const body = captureBody(o);
        printJSON(o.ttl ? await createWithTTL(cmd, '/api/capture', body, o.ttl) : await clientFor(cmd).json('POST', '/api/capture', body));
      }),
    );
  capture
    .command('list')
    .description('list captures (map of capture ID → capture)')
    .action((_o: unknown, cmd: Command) => runClient(async () => printJSON(await clientFor(cmd).json('GET', '/api/capture'))));
  capture
    .command('get <id>')
    .description('show one capture')
    .action((id: string, _o: unknown, cmd: Command) => runClient(async () => printJSON(await clientFor(cmd).json('GET', `/api/capture/${encodeURIComponent(id)}`))));
  capture
    .command('delete <id...>')
    .description('delete captures (they stop on every agent)')
    .action((ids: string[], _o: unknown, cmd: Command) =>
      runClient(async () => {
        for (const id of ids) await clientFor(cmd).json('DELETE', `/api/capture/${encodeURIComponent(id)}`);
      }),
    );
}

/** POST with the `X-Resource-TTL` header (the resource is deleted by the analyzer after `ttlMs`). */
export async function createWithTTL(cmd: Command, path: string, body: unknown, ttlMs: number): Promise<unknown> {
  const res = await clientFor(cmd).request('POST', path, { body, headers: { 'X-Resource-TTL': `${ttlMs}ms` } });
  return parseAnswer(res);
}
