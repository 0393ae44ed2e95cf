import { performance } from 'node:perf_hooks';
import { InvalidArgumentError, type Command } from 'commander';
import { FlowTable, LINKTYPE_ETHERNET, LINKTYPE_RAW, type FlowTableOptions, type FlowTableStats } from '../flow/table.js';
import type { Flow } from '../flow/flow.js';
import { PcapReader, type PcapReadStats } from '../flow/pcap-reader.js';
import { compileBPF, type BPFFilter } from '../flow/bpf.js';
import { choice, positiveInt } from './options.js';

/**
 * `skydive flows --pcap FILE`: runs a capture file through the flow table, with the options of the original's
 * flow tests (ExtraTCPMetric, ReassembleTCP and IPDefrag on, L2 key mode), and prints the flows.
 */

const FORMATS = ['json', 'ndjson', 'table', 'summary'] as const;
type Format = (typeof FORMATS)[number];

const EXTRA_LAYERS: Record<string, number> = { VRRP: 1, DNS: 2, DHCPV4: 4, ALL: 255 };

/** Parser of the repeatable --extra-layers flag: comma lists of VRRP, DNS, DHCPv4, ALL, or'ed into a bitmask. */
export function parseExtraLayers(value: string, previous = 0): number {
  let mask = previous;
  for (const raw of value.split(',')) {
    const name = raw.trim().toUpperCase();
    if (!name) continue;
    const bit = EXTRA_LAYERS[name];
    if (bit === undefined) throw new InvalidArgumentError(`unknown layer '${raw.trim()}', expected VRRP, DNS, DHCPv4 or ALL`);
    mask |= bit;
  }
  return mask;
}

export interface PcapFlowsOptions {
  table?: FlowTableOptions;
  /** LINKTYPE_* forced on every record; default: the file's. */
  linkType?: number;
  bpf?: string;
  onProgress?: (bytesRead: number, fileSize: number) => void;
}

export interface PcapFlowsResult {
  table: FlowTable;
  read: PcapReadStats;
  /** Records that passed the BPF filter and were given to the table. */
  processed: number;
  elapsedMs: number;
}

/** Reads a capture into a new FlowTable (BPF on the raw bytes first, as the original does). */
export function flowsFromPcapFile(path: string, opts: PcapFlowsOptions = {}): PcapFlowsResult {
  const reader = new PcapReader(path, { linkTypeOverride: opts.linkType, onProgress: opts.onProgress });
  const table = new FlowTable(opts.table);
  const start = performance.now();
  let processed = 0;
  let read: PcapReadStats;
  if (opts.bpf !== undefined) {
    const expr = opts.bpf;
    // compiled per link type: a pcapng file may mix interfaces of several types
    const filters = new Map<number, BPFFilter>();
    let lastType = opts.linkType ?? (reader.headerLinkType >= 0 ? reader.headerLinkType : LINKTYPE_ETHERNET);
    let last = compileBPF(expr, lastType);
    filters.set(lastType, last);
    read = reader.read((buf, offset, caplen, wireLen, tsMs, linkType) => {
      if (linkType !== lastType) {
        let f = filters.get(linkType);
        if (!f) filters.set(linkType, (f = compileBPF(expr, linkType)));
        last = f;
        lastType = linkType;
      }
      if (!last.matches(buf, offset, caplen, wireLen)) return;
      processed++;
      table.processPacket(buf, offset, caplen, wireLen, tsMs, linkType);
    });
  } else {
    read = reader.read((buf, offset, caplen, wireLen, tsMs, linkType) => {
      table.processPacket(buf, offset, caplen, wireLen, tsMs, linkType);
    });
    processed = read.records;
  }
  return { table, read, processed, elapsedMs: performance.now() - start };
}

interface FlowsCliOptions {
  pcap: string;
  linkType?: 'ethernet' | 'raw';
  layerKeyMode: 'L2' | 'L3';
  defrag: boolean;
  tcpMetric: boolean;
  tcpReassembly: boolean;
  extraLayers: number;
  bpf?: string;
  format: Format;
  maxEntries?: number;
  rawPackets?: number;
  nodeTid?: string;
}

export function registerFlowsCommand(program: Command): void {
  program
    .command('flows')
    .description('compute the flows of a pcap/pcapng capture file, as a Skydive agent would')
    .requiredOption('--pcap <file>', 'capture file (classic pcap or pcapng)')
    .option('--link-type <type>', 'decode records as ethernet or raw IP, whatever the file header says', choice(['ethernet', 'raw'] as const))
    .option('--layer-key-mode <mode>', 'flow key: L2 (MACs and IPs) or L3 (IPs only)', choice(['L2', 'L3'] as const), 'L2')
    .option('--no-defrag', 'do not reassemble IPv4 fragments')
    .option('--no-tcp-metric', 'do not compute TCPMetric')
    .option('--no-tcp-reassembly', 'do not track TCP segments (out of order, skipped)')
    .option('--extra-layers <names>', 'decode extra layers: VRRP, DNS, DHCPv4 or ALL (repeatable, comma list)', parseExtraLayers, 0)
    .option('--bpf <expr>', 'BPF filter (libpcap syntax) applied to each packet before flow processing')
    .option('--format <format>', `output: ${FORMATS.join(', ')}`, choice(FORMATS), 'json')
    .option('--max-entries <n>', 'flow table size; the least recently used flow is evicted beyond it', positiveInt)
    .option('--raw-packets <n>', 'keep up to N (max 10) raw packets per flow (RawPacketsCaptured)', positiveInt)
    .option('--node-tid <id>', 'NodeTID of the capture node (part of every flow UUID)')
    .action(async (o: FlowsCliOptions) => runFlows(o));
}

async function runFlows(o: FlowsCliOptions): Promise<void> {
  const progress = process.stderr.isTTY ? new Progress() : undefined;
  const result = flowsFromPcapFile(o.pcap, {
    linkType: o.linkType === undefined ? undefined : o.linkType === 'raw' ? LINKTYPE_RAW : LINKTYPE_ETHERNET,
    bpf: o.bpf,
    onProgress: progress?.update,
    table: {
      layerKeyMode: o.layerKeyMode,
      ipDefrag: o.defrag,
      extraTCPMetric: o.tcpMetric,
      reassembleTCP: o.tcpReassembly,
      extraLayers: o.extraLayers,
      maxEntries: o.maxEntries,
      rawPacketLimit: o.rawPackets,
      nodeTID: o.nodeTid,
    },
  });
  progress?.done();
  const out = new StdoutWriter();
  switch (o.format) {
    case 'json':
      await writeJSONArray(out, result.table.getFlows());
      break;
    case 'ndjson':
      for (const f of result.table.getFlows()) await out.write(JSON.stringify(f.toJSON()) + '\n');
      break;
    case 'table':
      await out.write(formatTable(result.table.getFlows()));
      break;
    case 'summary':
      await out.write(formatSummary(o.pcap, result));
      break;
  }
  await out.end();
}

async function writeJSONArray(out: StdoutWriter, flows: Flow[]): Promise<void> {
  await out.write('[');
  for (let i = 0; i < flows.length; i++) await out.write((i ? ',\n' : '\n') + JSON.stringify(flows[i].toJSON()));
  await out.write(flows.length ? '\n]\n' : ']\n');
}

/** Buffers stdout writes into large chunks and honours back-pressure, so millions of flows stream out. */
class StdoutWriter {
  private chunk = '';
  private closed = false;
  private error: Error | undefined;

  constructor() {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      this.closed = true;
      // a reader that goes away (`| head`) is not an error of ours
      if (err.code !== 'EPIPE') this.error = err;
    });
  }

  async write(s: string): Promise<void> {
    this.chunk += s;
    if (this.chunk.length >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    const c = this.chunk;
    this.chunk = '';
    if (this.closed || !c) return;
    if (process.stdout.write(c)) return;
    // events.once would reject on 'error'; an error here is recorded by the listener above
    await new Promise<void>((resolve) => {
      const done = () => {
        process.stdout.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      process.stdout.on('drain', done).on('close', done).on('error', done);
    });
  }

  async end(): Promise<void> {
    await this.flush();
    if (this.error) throw this.error;
  }
}

function endpoint(layer: { A?: string | number; B?: string | number } | undefined): string {
  if (!layer) return '';
  return `${layer.A ?? ''} → ${layer.B ?? ''}`;
}

function shortID(id: string | undefined): string {
  return id ? id.slice(0, 8) : '';
}

export function formatTable(flows: Flow[]): string {
  const header = ['UUID', 'Application', 'LayersPath', 'Link', 'Network', 'Transport', 'AB pkts/bytes', 'BA pkts/bytes', 'Parent'];
  const rows = [header];
  for (const flow of flows) {
    const f = flow.toJSON();
    const m = f.Metric;
    rows.push([
      shortID(f.UUID),
      f.Application ?? '',
      f.LayersPath ?? '',
      endpoint(f.Link),
      endpoint(f.Network),
      endpoint(f.Transport),
      m ? `${m.ABPackets}/${m.ABBytes}` : '',
      m ? `${m.BAPackets}/${m.BABytes}` : '',
      shortID(f.ParentUUID),
    ]);
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd());
  return lines.join('\n') + `\n${flows.length} flow${flows.length === 1 ? '' : 's'}\n`;
}

function formatSummary(path: string, r: PcapFlowsResult): string {
  const s: FlowTableStats = r.table.stats;
  const rd = r.read;
  const secs = r.elapsedMs / 1000;
  const lines: Array<[string, string | number]> = [
    ['file', `${path} (${rd.format}, link type ${rd.linkType}, snaplen ${rd.snaplen})`],
    ['records', rd.records],
    ['skipped records', rd.corruptRecords],
    ...(rd.stoppedEarly ? [['stopped early', rd.stoppedEarly] as [string, string]] : []),
    ['packets', r.processed],
    ['bytes', s.bytes],
    ['decode errors', s.decodeErrors],
    ['flows', s.activeFlows],
    ['flows created', s.flowsCreated],
    ['flows evicted', s.flowsEvicted],
    ['elapsed', `${secs.toFixed(3)} s`],
    ['packets/s', secs > 0 ? Math.round(rd.records / secs) : 0],
  ];
  const w = Math.max(...lines.map(([k]) => k.length)) + 1;
  return lines.map(([k, v]) => `${(k + ':').padEnd(w)} ${v}`).join('\n') + '\n';
}

/** A one-line progress indicator on a terminal's stderr, for files big enough to wait for. */
class Progress {
  private lastDraw = 0;
  private drawn = false;
  private static readonly MIN_FILE = 32 << 20;

  update = (bytesRead: number, fileSize: number): void => {
    if (fileSize < Progress.MIN_FILE) return;
    const now = Date.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.drawn = true;
    const pct = Math.min(100, (bytesRead * 100) / fileSize).toFixed(0);
    process.stderr.write(`\rreading ${pct}% (${(bytesRead / 1048576).toFixed(0)}/${(fileSize / 1048576).toFixed(0)} MiB)`);
  };

  done(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
  }
}
