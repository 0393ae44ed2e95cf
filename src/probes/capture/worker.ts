import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { compileBPF, type BPFFilter } from '../../flow/bpf.js';
import { FlowTable, LINKTYPE_ETHERNET, LINKTYPE_RAW } from '../../flow/table.js';
import type { Flow } from '../../flow/flow.js';
import { errorMessage } from '../../common/errors.js';
import { LiveSession } from './live-session.js';
import { SFlowDecoder, SFLOW_HEADER_PROTOCOL_ETHERNET, SFLOW_HEADER_PROTOCOL_IPV4, SFLOW_HEADER_PROTOCOL_IPV6, type SFlowIfCounters } from './sflow-decoder.js';
import type { CaptureCountersJSON, CaptureWorkerSpec, ParentMessage, RawPacketJSON, WorkerMessage } from './protocol.js';

/**
 * Capture worker: one child process per capture and interface, started by the agent inside the interface's
 * network namespace (`nsenter --net=<path> node worker.js '<spec JSON>'`). It runs a flow table on the packets of
 * a libpcap session (afpacket/pcap) or on the samples of an sFlow collector (sflow), and reports flows, capture
 * counters and state as JSON lines on stdout. It ends, after a final flush of every flow, when told to stop, when
 * its stdin closes (agent gone) or on SIGTERM.
 */

function send(msg: WorkerMessage): void {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

function fail(error: string): never {
  send({ type: 'error', error });
  process.exit(1);
}

function parseSpec(arg: string | undefined): CaptureWorkerSpec {
  if (!arg) fail('capture worker started without a spec');
  try {
    return JSON.parse(arg) as CaptureWorkerSpec;
  } catch (err) {
    fail(`capture worker spec is not JSON: ${errorMessage(err)}`);
  }
}

function rawPacketsOf(flows: Flow[], linkType: number): Record<string, RawPacketJSON[]> | undefined {
  let out: Record<string, RawPacketJSON[]> | undefined;
  for (const f of flows) {
    const packets = f.rawPackets();
    if (packets.length === 0) continue;
    out ??= {};
    out[f.uuid] = packets.map((p, i) => ({ Timestamp: Math.floor(p.tsMs), Index: i, Data: Buffer.from(p.data).toString('base64'), LinkType: p.linkType ?? linkType }));
  }
  return out;
}

/** Flows are sent in batches so that one line stays small enough for the parent to parse quickly. */
const BATCH = 500;

/**
 * Send flows in lines of BATCH, yielding to the event loop between lines: an update of 65,536 flows takes about a
 * second to serialise, and the capture ring must keep being read meanwhile or the kernel drops packets.
 */
async function sendFlows(flows: Flow[], linkType: number): Promise<void> {
  for (let i = 0; i < flows.length; i += BATCH) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    const batch = flows.slice(i, i + BATCH);
    send({ type: 'flows', flows: batch.map((f) => f.toJSON() as unknown as Record<string, unknown>), rawPackets: rawPacketsOf(batch, linkType) });
  }
}

function main(): void {
  const spec = parseSpec(process.argv[2]);
  const table = new FlowTable({
    nodeTID: spec.nodeTID,
    captureID: spec.captureID,
    layerKeyMode: spec.table.layerKeyMode,
    ipDefrag: spec.table.ipDefrag,
    extraTCPMetric: spec.table.extraTCPMetric,
    reassembleTCP: spec.table.reassembleTCP,
    extraLayers: spec.table.extraLayers,
    rawPacketLimit: spec.table.rawPacketLimit,
    maxEntries: spec.table.maxEntries,
    applicationPorts: spec.table.applicationPorts,
    applicationTimeouts: spec.table.applicationTimeouts,
    expireAfterMs: spec.expireSec * 1000,
  });

  let linkType = LINKTYPE_ETHERNET;
  let counters: () => CaptureCountersJSON;
  let close: () => void;

  if (spec.kind === 'sflow') {
    ({ counters, close } = startSFlow(spec, table));
  } else {
    if (!spec.ifName) fail('capture worker: no interface name');
    let session: LiveSession;
    try {
      session = new LiveSession(spec.ifName, (buf, offset, caplen, wireLen, tsMs) => table.processPacket(buf, offset, caplen, wireLen, tsMs, linkType), {
        filter: spec.bpf,
        snapLength: spec.headerSize,
        bufferSize: spec.bufferSize,
        // the interface went away: say why, then end as on stop, with the flows counted so far
        onError: (err) => {
          send({ type: 'error', error: err.message });
          void stop();
        },
      });
    } catch (err) {
      fail(errorMessage(err));
    }
    linkType = session.linkType;
    counters = () => {
      const c = session.counters();
      return { PacketsReceived: c.received, PacketsDropped: c.dropped, PacketsIfDropped: c.ifDropped };
    };
    close = () => session.close();
    send({ type: 'ready', linkType });
  }

  let lastStats = '';
  const reportStats = () => {
    const s = JSON.stringify(counters());
    if (s !== lastStats) {
      lastStats = s;
      send({ type: 'stats', stats: JSON.parse(s) as CaptureCountersJSON });
    }
  };
  const updateTimer = setInterval(() => void sendFlows(table.update(Date.now()), linkType), spec.updateSec * 1000);
  const statsTimer = setInterval(reportStats, (spec.statsSec ?? spec.updateSec) * 1000);
  // expiry walks every flow: checked a few times per expiry period, as the idle timeout needs no more precision
  const expireTimer = setInterval(() => void sendFlows(table.expire(Date.now()), linkType), Math.max(spec.updateSec, Math.min(spec.expireSec / 4, 60)) * 1000);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(updateTimer);
    clearInterval(statsTimer);
    clearInterval(expireTimer);
    close();
    reportStats();
    await sendFlows(table.expireNow(), linkType);
    // exit once stdout has drained: the last flows must reach the agent
    process.stdout.write('', () => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    let msg: ParentMessage;
    try {
      msg = JSON.parse(line) as ParentMessage;
    } catch {
      return;
    }
    if (msg.type === 'stop') void stop();
  });
  commands.on('close', stop);
}

const SFLOW_LINK_TYPES: Record<number, number> = {
  [SFLOW_HEADER_PROTOCOL_ETHERNET]: LINKTYPE_ETHERNET,
  [SFLOW_HEADER_PROTOCOL_IPV4]: LINKTYPE_RAW,
  [SFLOW_HEADER_PROTOCOL_IPV6]: LINKTYPE_RAW,
};

function startSFlow(spec: CaptureWorkerSpec, table: FlowTable): { counters: () => CaptureCountersJSON; close: () => void } {
  let received = 0;
  let malformed = 0;
  const filters = new Map<number, BPFFilter>();
  const filterFor = (lt: number): BPFFilter | undefined => {
    if (!spec.bpf) return undefined;
    let f = filters.get(lt);
    if (!f) filters.set(lt, (f = compileBPF(spec.bpf, lt)));
    return f;
  };
  let pendingCounters: SFlowIfCounters[] = [];
  let counterAgent = '';
  let now = Date.now();
  const decoder = new SFlowDecoder({
    onPacketHeader(buf, offset, headerLength, frameLength, stripped, protocol) {
      const lt = SFLOW_LINK_TYPES[protocol];
      if (lt === undefined) return;
      received++;
      const wireLen = frameLength > stripped ? frameLength - stripped : headerLength;
      const f = filterFor(lt);
      if (f && !f.matches(buf, offset, headerLength, wireLen)) return;
      table.processPacket(buf, offset, headerLength, wireLen, now, lt);
    },
    onIfCounters(c) {
      pendingCounters.push(c);
    },
  });
  try {
    if (spec.bpf) filterFor(LINKTYPE_ETHERNET);
  } catch (err) {
    fail(errorMessage(err));
  }
  const address = spec.listenAddress ?? '127.0.0.1';
  const ports = spec.listenPorts?.length ? spec.listenPorts : [0];
  let sock: Socket | undefined;
  const onMessage = (msg: Buffer) => {
    now = Date.now();
    try {
      counterAgent = decoder.decode(msg).agentAddress;
    } catch {
      malformed++;
    }
    if (pendingCounters.length) {
      send({ type: 'sflow-counters', agent: counterAgent, counters: pendingCounters });
      pendingCounters = [];
    }
  };
  bindFirst(address, ports).then(
    (s) => {
      sock = s;
      s.on('message', onMessage);
      s.on('error', (err) => fail(`sFlow collector on ${address}:${s.address().port}: ${err.message}`));
      send({ type: 'ready', linkType: LINKTYPE_ETHERNET, port: s.address().port });
    },
    (err: Error) => fail(`sFlow collector on ${address}: ${err.message}`),
  );
  return {
    counters: () => ({ PacketsReceived: received, PacketsDropped: malformed, PacketsIfDropped: 0 }),
    close: () => sock?.close(),
  };
}

/** A UDP socket bound to the first free port of the list (0: any port). */
async function bindFirst(address: string, ports: number[]): Promise<Socket> {
  let lastError: Error | undefined;
  for (const port of ports) {
    const s = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 8 << 20 });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, address, () => {
          s.off('error', reject);
          resolve();
        });
      });
      return s;
    } catch (err) {
      s.close();
      lastError = err as Error;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  throw ports.length > 1 ? new Error(`no free port in ${ports[0]}-${ports[ports.length - 1]} (${lastError?.message})`) : lastError!;
}

main();
