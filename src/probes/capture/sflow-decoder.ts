import { SkydiveError } from '../../common/errors.js';

/**
 * sFlow version 5 datagram decoder (sflow.org/sflow_version_5.txt): flow samples (plain and expanded) with
 * raw packet header records, and counter samples with generic interface counters. Other record types are skipped
 * by their length.
 *
 * Per datagram the decoder allocates nothing for packets: each sampled header is handed to the callback as a view
 * into the datagram buffer, with the sample's fields in the decoder's reused `sample` object. Counter records are
 * rare (one per interface per polling interval) and are passed as small objects.
 */

export const SFLOW_VERSION = 5;
export const SFLOW_HEADER_PROTOCOL_ETHERNET = 1;
export const SFLOW_HEADER_PROTOCOL_IPV4 = 11;
export const SFLOW_HEADER_PROTOCOL_IPV6 = 12;

const FLOW_SAMPLE = 1;
const COUNTER_SAMPLE = 2;
const FLOW_SAMPLE_EXPANDED = 3;
const COUNTER_SAMPLE_EXPANDED = 4;
const RECORD_RAW_PACKET_HEADER = 1;
const RECORD_GENERIC_IF_COUNTERS = 1;

/** Fields of the flow sample being decoded (valid during the callback only). */
export interface SFlowSampleInfo {
  sequence: number;
  sourceIdType: number;
  sourceIdIndex: number;
  samplingRate: number;
  samplePool: number;
  drops: number;
  inputIfIndex: number;
  outputIfIndex: number;
}

/** sFlow generic interface counters (counter record 0:1), names as in the original's SFlow metadata. */
export interface SFlowIfCounters {
  IfIndex: number;
  IfType: number;
  IfSpeed: number;
  IfDirection: number;
  IfStatus: number;
  IfInOctets: number;
  IfInUcastPkts: number;
  IfInMulticastPkts: number;
  IfInBroadcastPkts: number;
  IfInDiscards: number;
  IfInErrors: number;
  IfInUnknownProtos: number;
  IfOutOctets: number;
  IfOutUcastPkts: number;
  IfOutMulticastPkts: number;
  IfOutBroadcastPkts: number;
  IfOutDiscards: number;
  IfOutErrors: number;
  IfPromiscuousMode: number;
}

export interface SFlowHandlers {
  /**
   * A sampled packet: header bytes buf[offset, offset+headerLength), `frameLength` on the wire of which `stripped`
   * bytes (e.g. the FCS) were removed before sampling.
   */
  onPacketHeader(buf: Uint8Array, offset: number, headerLength: number, frameLength: number, stripped: number, headerProtocol: number, sample: SFlowSampleInfo): void;
  onIfCounters?(counters: SFlowIfCounters): void;
}

export interface SFlowDatagramInfo {
  agentAddress: string;
  subAgentID: number;
  sequence: number;
  uptimeMs: number;
  samples: number;
}

export class SFlowDecodeError extends SkydiveError {
  constructor(message: string) {
    super('SKYDIVE_SFLOW_MALFORMED', message, 400);
  }
}

function ipString(b: Uint8Array, o: number, v6: boolean): string {
  if (!v6) return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[o + i] << 8) | b[o + i + 1]);
  // RFC 5952: the longest run (≥ 2) of zero groups becomes '::'
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export class SFlowDecoder {
  readonly sample: SFlowSampleInfo = { sequence: 0, sourceIdType: 0, sourceIdIndex: 0, samplingRate: 0, samplePool: 0, drops: 0, inputIfIndex: 0, outputIfIndex: 0 };
  private buf: Uint8Array = new Uint8Array(0);
  private end = 0;

  constructor(private readonly handlers: SFlowHandlers) {}

  private u32(o: number): number {
    if (o + 4 > this.end) throw new SFlowDecodeError(`sFlow datagram truncated at byte ${o}`);
    const b = this.buf;
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  }

  private u64(o: number): number {
    return this.u32(o) * 4294967296 + this.u32(o + 4);
  }

  /** Decodes one datagram from buf[offset, offset+length); throws SFlowDecodeError on malformed input. */
  decode(buf: Uint8Array, offset = 0, length = buf.length - offset): SFlowDatagramInfo {
    this.buf = buf;
    this.end = offset + length;
    let o = offset;
    const version = this.u32(o);
    if (version !== SFLOW_VERSION) throw new SFlowDecodeError(`unsupported sFlow version ${version}`);
    const addrType = this.u32(o + 4);
    if (addrType !== 1 && addrType !== 2) throw new SFlowDecodeError(`unknown sFlow agent address type ${addrType}`);
    const addrLen = addrType === 1 ? 4 : 16;
    o += 8;
    if (o + addrLen > this.end) throw new SFlowDecodeError('sFlow datagram truncated in the agent address');
    const agentAddress = ipString(buf, o, addrType === 2);
    o += addrLen;
    const info: SFlowDatagramInfo = { agentAddress, subAgentID: this.u32(o), sequence: this.u32(o + 4), uptimeMs: this.u32(o + 8), samples: 0 };
    const count = this.u32(o + 12);
    o += 16;
    for (let i = 0; i < count; i++) {
      const format = this.u32(o);
      const len = this.u32(o + 4);
      const body = o + 8;
      const next = body + len;
      if (next > this.end) throw new SFlowDecodeError(`sFlow sample ${i} of ${len} bytes overruns the datagram`);
      const enterprise = format >>> 12;
      if (enterprise === 0) {
        const saved = this.end;
        this.end = next;
        switch (format & 0xfff) {
          case FLOW_SAMPLE:
            this.flowSample(body, false);
            break;
          case FLOW_SAMPLE_EXPANDED:
            this.flowSample(body, true);
            break;
          case COUNTER_SAMPLE:
            this.counterSample(body + 8);
            break;
          case COUNTER_SAMPLE_EXPANDED:
            this.counterSample(body + 12);
            break;
        }
        this.end = saved;
      }
      info.samples++;
      o = next;
    }
    return info;
  }

  private flowSample(o: number, expanded: boolean): void {
    const s = this.sample;
    s.sequence = this.u32(o);
    if (expanded) {
      s.sourceIdType = this.u32(o + 4);
      s.sourceIdIndex = this.u32(o + 8);
      o += 12;
    } else {
      const id = this.u32(o + 4);
      s.sourceIdType = id >>> 24;
      s.sourceIdIndex = id & 0xffffff;
      o += 8;
    }
    s.samplingRate = this.u32(o);
    s.samplePool = this.u32(o + 4);
    s.drops = this.u32(o + 8);
    if (expanded) {
      s.inputIfIndex = this.u32(o + 16);
      s.outputIfIndex = this.u32(o + 24);
      o += 28;
    } else {
      // compact form: top 2 bits are the format, the rest the ifIndex (or packet count when discarded/multiple)
      s.inputIfIndex = this.u32(o + 12) & 0x3fffffff;
      s.outputIfIndex = this.u32(o + 16) & 0x3fffffff;
      o += 20;
    }
    const records = this.u32(o);
    o += 4;
    for (let r = 0; r < records; r++) {
      const format = this.u32(o);
      const len = this.u32(o + 4);
      const body = o + 8;
      if (body + len > this.end) throw new SFlowDecodeError(`sFlow flow record of ${len} bytes overruns its sample`);
      if (format === RECORD_RAW_PACKET_HEADER) {
        const protocol = this.u32(body);
        const frameLength = this.u32(body + 4);
        const stripped = this.u32(body + 8);
        const headerLength = this.u32(body + 12);
        if (body + 16 + headerLength > body + len) throw new SFlowDecodeError(`sFlow packet header of ${headerLength} bytes overruns its record`);
        this.handlers.onPacketHeader(this.buf, body + 16, headerLength, frameLength, stripped, protocol, s);
      }
      o = body + len;
    }
  }

  private counterSample(o: number): void {
    const records = this.u32(o);
    o += 4;
    for (let r = 0; r < records; r++) {
      const format = this.u32(o);
      const len = this.u32(o + 4);
      const b = o + 8;
      if (b + len > this.end) throw new SFlowDecodeError(`sFlow counter record of ${len} bytes overruns its sample`);
      if (format === RECORD_GENERIC_IF_COUNTERS && this.handlers.onIfCounters) {
        if (len < 88) throw new SFlowDecodeError(`sFlow generic interface counters record too short (${len} bytes)`);
        this.handlers.onIfCounters({
          IfIndex: this.u32(b),
          IfType: this.u32(b + 4),
          IfSpeed: this.u64(b + 8),
          IfDirection: this.u32(b + 16),
          IfStatus: this.u32(b + 20),
          IfInOctets: this.u64(b + 24),
          IfInUcastPkts: this.u32(b + 32),
          IfInMulticastPkts: this.u32(b + 36),
          IfInBroadcastPkts: this.u32(b + 40),
          IfInDiscards: this.u32(b + 44),
          IfInErrors: this.u32(b + 48),
          IfInUnknownProtos: this.u32(b + 52),
          IfOutOctets: this.u64(b + 56),
          IfOutUcastPkts: this.u32(b + 64),
          IfOutMulticastPkts: this.u32(b + 68),
          IfOutBroadcastPkts: this.u32(b + 72),
          IfOutDiscards: this.u32(b + 76),
          IfOutErrors: this.u32(b + 80),
          IfPromiscuousMode: this.u32(b + 84),
        });
      }
      o = b + len;
    }
  }
}
