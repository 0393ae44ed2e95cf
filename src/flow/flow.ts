import type { DNSJSON } from './dns.js';
import { formatIPv4, formatIPv6, formatMAC } from './addr.js';
import { hex64 } from './hash.js';
import { ICMP_TYPE_NAMES, PROTO_ETHERNET, PROTO_IPV4, PROTO_IPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP } from './layers.js';
import {
  COLD_F64,
  COLD_I32,
  HOT_F64,
  HOT_I32,
  F_AB_BYTES,
  F_AB_FIN_START,
  F_AB_PACKETS,
  F_AB_RST_START,
  F_AB_SYN_START,
  F_BA_BYTES,
  F_BA_FIN_START,
  F_BA_PACKETS,
  F_BA_RST_START,
  F_BA_SYN_START,
  F_LAST,
  F_LINK_ID,
  F_LUM,
  F_NET_ID,
  F_RTT,
  F_START,
  T_AB,
  T_BA,
  TCP_F64,
  TCP_I32,
  FL_ICMP,
  FL_IP_METRIC,
  FL_LINK,
  FL_LUM,
  FL_NET_V6,
  FL_NETWORK,
  FL_PARENT,
  FL_TCP_METRIC,
  FL_TCP_TRACK,
  FL_TRANSPORT,
  FlowStore,
  I_AB_SYN_TTL,
  I_APP,
  I_BA_SYN_TTL,
  I_FINISH_TYPE,
  I_FLAGS,
  I_ICMP,
  I_IPM_ERRORS,
  I_IPM_FRAGMENTS,
  I_L2_HI,
  I_L2_LO,
  I_L3_HI,
  I_L3_LO,
  I_LINK_A_HI,
  I_LINK_A_LO,
  I_LINK_B_HI,
  I_LINK_B_LO,
  I_NET_A,
  I_NET_B,
  I_PARENT_HI,
  I_PARENT_LO,
  I_PATH,
  I_RAW_COUNT,
  I_TRANSPORT_A,
  I_TRANSPORT_B,
  I_TRANSPORT_PROTO,
  I_UUID_HI,
  I_UUID_LO,
  TI_FLAGS,
  TI_OUT_OF_ORDER,
  TI_SKIPPED,
  TRANSPORT_TCP,
  TRANSPORT_UDP,
  TS_BYTES,
  TS_PACKETS,
  TS_SKIPPED_BYTES,
  TSF_SAW_END,
  TSF_SAW_START,
} from './flow-store.js';

/** Link or network layer of a flow (skydive FlowLayer). */
export interface FlowLayerJSON {
  Protocol: string;
  A?: string;
  B?: string;
  ID: number;
}
export interface TransportLayerJSON {
  Protocol: string;
  A: number;
  B: number;
  ID: number;
}
export interface ICMPLayerJSON {
  Type: string;
  Code?: number;
  ID?: number;
}
/** Counters; Start/Last in ms since the epoch, RTT in nanoseconds (omitted when 0). */
export interface FlowMetricJSON {
  ABPackets: number;
  ABBytes: number;
  BAPackets: number;
  BABytes: number;
  Start: number;
  Last: number;
  RTT?: number;
}
export interface TCPMetricJSON {
  ABSynStart: number;
  BASynStart: number;
  ABSynTTL?: number;
  BASynTTL?: number;
  ABFinStart: number;
  BAFinStart: number;
  ABRstStart: number;
  BARstStart: number;
  ABSegmentOutOfOrder: number;
  ABSegmentSkipped: number;
  ABSegmentSkippedBytes: number;
  ABPackets: number;
  ABBytes: number;
  ABSawStart: number;
  ABSawEnd: number;
  BASegmentOutOfOrder: number;
  BASegmentSkipped: number;
  BASegmentSkippedBytes: number;
  BAPackets: number;
  BABytes: number;
  BASawStart: number;
  BASawEnd: number;
}
export interface IPMetricJSON {
  Fragments: number;
  FragmentErrors: number;
}

/** A flow as the original serialises it (encoding/json of the Go struct: same keys, same order). */
export interface FlowJSON {
  UUID?: string;
  LayersPath?: string;
  Application?: string;
  Link?: FlowLayerJSON;
  Network?: FlowLayerJSON;
  Transport?: TransportLayerJSON;
  ICMP?: ICMPLayerJSON;
  DNS?: DNSJSON;
  LastUpdateMetric?: FlowMetricJSON;
  Metric: FlowMetricJSON;
  TCPMetric?: TCPMetricJSON;
  IPMetric?: IPMetricJSON;
  Start: number;
  Last: number;
  TrackingID?: string;
  L3TrackingID?: string;
  ParentUUID: string;
  NodeTID?: string;
  CaptureID?: string;
  RawPacketsCaptured: number;
  /** 1 TIMEOUT, 2 TCP_FIN, 3 TCP_RST; omitted while NOT_FINISHED (0). */
  FinishType?: number;
}

/** A copy of a captured frame kept for a flow (RawPacketLimit). */
export interface RawPacket {
  tsMs: number;
  data: Uint8Array;
  wireLen: number;
  linkType: number;
}

export const FINISH_NOT_FINISHED = 0;
export const FINISH_TIMEOUT = 1;
export const FINISH_TCP_FIN = 2;
export const FINISH_TCP_RST = 3;

const floorMs = Math.floor;

/** What a table shares with the Flow views of its records. */
export interface FlowContext {
  readonly store: FlowStore;
  /** Interned LayersPath strings and Application names, by id. */
  readonly paths: readonly string[];
  readonly apps: readonly string[];
  readonly nodeTID: string;
  readonly captureID: string;
  /** Per-slot extras: last DNS message, raw packets. */
  readonly dns: Map<number, DNSJSON>;
  readonly raw: Map<number, RawPacket[]>;
}

/** MAC held as 16 + 32 bits. */
function hexMAC(hi: number, lo: number): string {
  return formatMAC(Uint8Array.of(hi >>> 8, hi, lo >>> 24, lo >>> 16, lo >>> 8, lo), 0);
}

function ipFromWords(words: number[], v6: boolean): string {
  const b = new Uint8Array(16);
  for (let w = 0; w < (v6 ? 4 : 1); w++) {
    const v = words[w];
    b[4 * w] = v >>> 24;
    b[4 * w + 1] = (v >>> 16) & 0xff;
    b[4 * w + 2] = (v >>> 8) & 0xff;
    b[4 * w + 3] = v & 0xff;
  }
  return v6 ? formatIPv6(b, 0) : formatIPv4(b, 0);
}

/**
 * One flow: a view of its table record, made when the flow is listed or reported (creating a flow in the
 * table allocates no object). When the flow leaves its table, the view keeps a copy of the record, so a
 * reported flow stays readable. toJSON() builds the original's JSON shape.
 */
export class Flow {
  private readonly ctx: FlowContext;
  /** Slot of the record in ctx.store while the flow is in its table, -1 once detached. */
  private slot: number;
  private detachedF64: Float64Array | null = null;
  private detachedI32: Int32Array | null = null;
  private detachedDNS: DNSJSON | null = null;
  private detachedRaw: RawPacket[] | null = null;
  private cachedUUID: string | null = null;

  /** Views are made by their FlowTable. */
  constructor(ctx: FlowContext, slot: number) {
    this.ctx = ctx;
    this.slot = slot;
  }

  private num(field: number): number {
    if (this.detachedF64 !== null) return this.detachedF64[field];
    return this.ctx.store.f64[this.slot * HOT_F64 + field];
  }

  private int(field: number): number {
    if (this.detachedI32 !== null) return this.detachedI32[field];
    return this.ctx.store.i32[this.slot * HOT_I32 + field];
  }

  private coldNum(field: number): number {
    if (this.detachedF64 !== null) return this.detachedF64[HOT_F64 + field];
    return this.ctx.store.cf64[this.slot * COLD_F64 + field];
  }

  private coldInt(field: number): number {
    if (this.detachedI32 !== null) return this.detachedI32[HOT_I32 + field];
    return this.ctx.store.ci32[this.slot * COLD_I32 + field];
  }

  private tcpNum(field: number): number {
    if (this.detachedF64 !== null) return this.detachedF64[HOT_F64 + COLD_F64 + field];
    return this.ctx.store.tf64[this.slot * TCP_F64 + field];
  }

  private tcpInt(field: number): number {
    if (this.detachedI32 !== null) return this.detachedI32[HOT_I32 + COLD_I32 + field];
    return this.ctx.store.ti32[this.slot * TCP_I32 + field];
  }

  private get flags(): number {
    return this.int(I_FLAGS);
  }

  /** Keeps a copy of the record and extras: called by the table when the flow leaves it. */
  detach(): void {
    if (this.detachedF64 !== null) return;
    const rec = this.ctx.store.copy(this.slot);
    this.detachedDNS = this.ctx.dns.get(this.slot) ?? null;
    this.detachedRaw = this.ctx.raw.get(this.slot) ?? null;
    this.detachedF64 = rec;
    this.detachedI32 = new Int32Array(rec.buffer);
    this.slot = -1;
  }

  get uuid(): string {
    return (this.cachedUUID ??= hex64(this.int(I_UUID_HI), this.int(I_UUID_LO)));
  }
  get parentUUID(): string {
    return this.flags & FL_PARENT ? hex64(this.coldInt(I_PARENT_HI), this.coldInt(I_PARENT_LO)) : '';
  }
  get trackingID(): string {
    return hex64(this.coldInt(I_L2_HI), this.coldInt(I_L2_LO));
  }
  get l3TrackingID(): string {
    return hex64(this.coldInt(I_L3_HI), this.coldInt(I_L3_LO));
  }
  get layersPath(): string {
    return this.ctx.paths[this.coldInt(I_PATH)];
  }
  get application(): string {
    return this.ctx.apps[this.coldInt(I_APP)];
  }
  get nodeTID(): string {
    return this.ctx.nodeTID;
  }
  get captureID(): string {
    return this.ctx.captureID;
  }

  get link(): FlowLayerJSON | null {
    if (!(this.flags & FL_LINK)) return null;
    return {
      Protocol: PROTO_ETHERNET,
      A: hexMAC(this.int(I_LINK_A_HI), this.int(I_LINK_A_LO)),
      B: hexMAC(this.coldInt(I_LINK_B_HI), this.coldInt(I_LINK_B_LO)),
      ID: this.coldNum(F_LINK_ID),
    };
  }
  get network(): FlowLayerJSON | null {
    const flags = this.flags;
    if (!(flags & FL_NETWORK)) return null;
    const v6 = (flags & FL_NET_V6) !== 0;
    const a = [0, 1, 2, 3].map((w) => this.int(I_NET_A + w));
    const b = [0, 1, 2, 3].map((w) => this.coldInt(I_NET_B + w));
    return { Protocol: v6 ? PROTO_IPV6 : PROTO_IPV4, A: ipFromWords(a, v6), B: ipFromWords(b, v6), ID: this.coldNum(F_NET_ID) };
  }
  get transport(): TransportLayerJSON | null {
    if (!(this.flags & FL_TRANSPORT)) return null;
    const p = this.coldInt(I_TRANSPORT_PROTO);
    return {
      Protocol: p === TRANSPORT_TCP ? PROTO_TCP : p === TRANSPORT_UDP ? PROTO_UDP : PROTO_SCTP,
      A: this.int(I_TRANSPORT_A),
      B: this.coldInt(I_TRANSPORT_B),
      ID: 0,
    };
  }
  get icmp(): ICMPLayerJSON | null {
    const flags = this.flags;
    if (!(flags & FL_ICMP)) return null;
    const v = this.coldInt(I_ICMP);
    const j: ICMPLayerJSON = { Type: ICMP_TYPE_NAMES[v >>> 24] };
    if ((v >>> 16) & 0xff) j.Code = (v >>> 16) & 0xff;
    if (v & 0xffff) j.ID = v & 0xffff;
    return j;
  }
  get dns(): DNSJSON | null {
    return this.slot >= 0 ? (this.ctx.dns.get(this.slot) ?? null) : this.detachedDNS;
  }
  get ipMetric(): IPMetricJSON | null {
    if (!(this.flags & FL_IP_METRIC)) return null;
    return { Fragments: this.coldInt(I_IPM_FRAGMENTS), FragmentErrors: this.coldInt(I_IPM_ERRORS) };
  }
  get lastUpdateMetric(): FlowMetricJSON | null {
    if (!(this.flags & FL_LUM)) return null;
    const m: FlowMetricJSON = {
      ABPackets: this.coldNum(F_LUM),
      ABBytes: this.coldNum(F_LUM + 1),
      BAPackets: this.coldNum(F_LUM + 2),
      BABytes: this.coldNum(F_LUM + 3),
      Start: floorMs(this.coldNum(F_LUM + 4)),
      Last: floorMs(this.coldNum(F_LUM + 5)),
    };
    const rtt = this.coldNum(F_LUM + 6);
    if (rtt !== 0) m.RTT = rtt;
    return m;
  }

  get abPackets(): number {
    return this.num(F_AB_PACKETS);
  }
  get abBytes(): number {
    return this.num(F_AB_BYTES);
  }
  get baPackets(): number {
    return this.num(F_BA_PACKETS);
  }
  get baBytes(): number {
    return this.num(F_BA_BYTES);
  }
  /** Capture times (ms, may be fractional) of the first and latest packet. */
  get start(): number {
    return this.coldNum(F_START);
  }
  get last(): number {
    return this.num(F_LAST);
  }
  /** RTT in ns, 0 if unknown. */
  get rtt(): number {
    return this.num(F_RTT);
  }
  /** FINISH_* value. */
  get finishType(): number {
    return this.int(I_FINISH_TYPE);
  }
  get rawPacketsCaptured(): number {
    return this.coldInt(I_RAW_COUNT);
  }

  /** The raw packets kept for this flow (RawPacketLimit), oldest first. */
  rawPackets(): RawPacket[] {
    return (this.slot >= 0 ? this.ctx.raw.get(this.slot) : this.detachedRaw) ?? [];
  }

  /** Metric as the original serialises it. */
  metricJSON(): FlowMetricJSON {
    const m: FlowMetricJSON = {
      ABPackets: this.abPackets,
      ABBytes: this.abBytes,
      BAPackets: this.baPackets,
      BABytes: this.baBytes,
      Start: floorMs(this.start),
      Last: floorMs(this.last),
    };
    const rtt = this.rtt;
    if (rtt !== 0) m.RTT = rtt;
    return m;
  }

  /** TCPMetric as the original serialises it, or undefined for a flow without one. */
  tcpMetricJSON(): TCPMetricJSON | undefined {
    const flags = this.flags;
    if (!(flags & FL_TCP_METRIC)) return undefined;
    const j = {
      ABSynStart: floorMs(this.coldNum(F_AB_SYN_START)),
      BASynStart: floorMs(this.coldNum(F_BA_SYN_START)),
    } as TCPMetricJSON;
    // SynTTLs come right after the SynStarts in the original, omitted when 0
    const abTTL = this.coldInt(I_AB_SYN_TTL);
    const baTTL = this.coldInt(I_BA_SYN_TTL);
    if (abTTL) j.ABSynTTL = abTTL;
    if (baTTL) j.BASynTTL = baTTL;
    j.ABFinStart = floorMs(this.coldNum(F_AB_FIN_START));
    j.BAFinStart = floorMs(this.coldNum(F_BA_FIN_START));
    j.ABRstStart = floorMs(this.coldNum(F_AB_RST_START));
    j.BARstStart = floorMs(this.coldNum(F_BA_RST_START));
    const track = (flags & FL_TCP_TRACK) !== 0;
    for (const [dir, b] of [['AB', T_AB] as const, ['BA', T_BA] as const]) {
      const bi = b * 2;
      const sf = track ? this.tcpInt(bi + TI_FLAGS) : 0;
      j[`${dir}SegmentOutOfOrder`] = track ? this.tcpInt(bi + TI_OUT_OF_ORDER) : 0;
      j[`${dir}SegmentSkipped`] = track ? this.tcpInt(bi + TI_SKIPPED) : 0;
      j[`${dir}SegmentSkippedBytes`] = track ? this.tcpNum(b + TS_SKIPPED_BYTES) : 0;
      j[`${dir}Packets`] = track ? this.tcpNum(b + TS_PACKETS) : 0;
      j[`${dir}Bytes`] = track ? this.tcpNum(b + TS_BYTES) : 0;
      j[`${dir}SawStart`] = sf & TSF_SAW_START ? 1 : 0;
      j[`${dir}SawEnd`] = sf & TSF_SAW_END ? 1 : 0;
    }
    return j;
  }

  toJSON(): FlowJSON {
    const j: Partial<FlowJSON> = {};
    j.UUID = this.uuid;
    const path = this.layersPath;
    if (path) j.LayersPath = path;
    const app = this.application;
    if (app) j.Application = app;
    const link = this.link;
    if (link) j.Link = link;
    const network = this.network;
    if (network) j.Network = network;
    const transport = this.transport;
    if (transport) j.Transport = transport;
    const icmp = this.icmp;
    if (icmp) j.ICMP = icmp;
    const dns = this.dns;
    if (dns) j.DNS = dns;
    const lum = this.lastUpdateMetric;
    if (lum) j.LastUpdateMetric = lum;
    j.Metric = this.metricJSON();
    const tcp = this.tcpMetricJSON();
    if (tcp) j.TCPMetric = tcp;
    const ipm = this.ipMetric;
    if (ipm) j.IPMetric = ipm;
    j.Start = floorMs(this.start);
    j.Last = floorMs(this.last);
    j.TrackingID = this.trackingID;
    j.L3TrackingID = this.l3TrackingID;
    j.ParentUUID = this.parentUUID;
    if (this.ctx.nodeTID) j.NodeTID = this.ctx.nodeTID;
    if (this.ctx.captureID) j.CaptureID = this.ctx.captureID;
    j.RawPacketsCaptured = this.rawPacketsCaptured;
    const finish = this.finishType;
    if (finish !== FINISH_NOT_FINISHED) j.FinishType = finish;
    return j as FlowJSON;
  }
}
