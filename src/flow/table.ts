import {
  LINKTYPE_ETHERNET as DECODER_LINKTYPE_ETHERNET,
  LINKTYPE_RAW as DECODER_LINKTYPE_RAW,
  PacketDecoder,
} from './decoder.js';
import { IPv4Defragmenter } from './defrag.js';
import { parseDNS } from './dns.js';
import { Flow, FINISH_NOT_FINISHED, FINISH_TCP_FIN, FINISH_TCP_RST, FINISH_TIMEOUT } from './flow.js';
import type { FlowContext } from './flow.js';
import { FlowIndex } from './flow-index.js';
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
  F_ACCESS,
  F_BA_BYTES,
  F_BA_FIN_START,
  F_BA_PACKETS,
  F_BA_RST_START,
  F_BA_SYN_START,
  F_ECHO_TS,
  F_LAST,
  F_LINK_ID,
  F_LUM,
  F_NET_ID,
  F_RTT,
  F_SNAP,
  F_START,
  F_SYN_TS,
  FL_EXTRAS,
  FL_FIN_AB,
  FL_FIN_BA,
  FL_ICMP,
  FL_IP_METRIC,
  FL_LINK,
  FL_LIVE,
  FL_LUM,
  FL_NET_V6,
  FL_NETWORK,
  FL_PARENT,
  FL_SNAPSHOT,
  FL_TCP,
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
  I_KEY_HI,
  I_KEY_LO,
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
  I_UPDATE_VERSION,
  I_UUID_HI,
  I_UUID_LO,
  TRANSPORT_SCTP,
  TRANSPORT_TCP,
  TRANSPORT_UDP,
} from './flow-store.js';
import { hash64, hashString } from './hash.js';
import {
  EXTRA_DNS,
  ICMP_ECHO,
  L_DOT1Q,
  L_GENEVE,
  L_ICMPV4,
  L_ICMPV6_ECHO,
  L_IPV4,
  L_LINUX_SLL,
  L_MPLS,
  L_TCP,
  L_UDP,
  L_VXLAN,
  LAYER_NAMES,
  icmpv4Kind,
  icmpv6Kind,
} from './layers.js';
import { TcpTracker } from './tcp-tracker.js';

export const LINKTYPE_ETHERNET = DECODER_LINKTYPE_ETHERNET;
export const LINKTYPE_RAW = DECODER_LINKTYPE_RAW;

export interface FlowTableOptions {
  /** L2 (default): flows keyed by MACs too; L3: by IPs only (skydive's L3PreferredKeyMode). */
  layerKeyMode?: 'L2' | 'L3';
  ipDefrag?: boolean;
  extraTCPMetric?: boolean;
  reassembleTCP?: boolean;
  /** Bitmask VRRP=1, DNS=2, DHCPv4=4. */
  extraLayers?: number;
  /** Raw packets kept per flow, 0..10. */
  rawPacketLimit?: number;
  /** Bound of the table; the least recently used flow is evicted (and counted) beyond it. Default 500000. */
  maxEntries?: number;
  nodeTID?: string;
  captureID?: string;
  /** Application name by port, overriding the decoded application (source port checked first). */
  applicationPorts?: { tcp?: Record<number, string>; udp?: Record<number, string> };
  /** Seconds of inactivity after which a flow of this application finishes, by uppercased name. Defaults ARP 10, DNS 10. */
  applicationTimeouts?: Record<string, number>;
  /** Idle time after which expire() ends a flow. Default 600000 (flow.expire 600 s). */
  expireAfterMs?: number;
}

export interface FlowTableStats {
  /** Packets given to processPacket. */
  packets: number;
  /** Wire bytes of those packets. */
  bytes: number;
  flowsCreated: number;
  /** Flows dropped because the table was full (never reported). */
  flowsEvicted: number;
  /** Packets whose decoding stopped on a malformed header or that could not be decoded at all. */
  decodeErrors: number;
  activeFlows: number;
}

export const DEFAULT_MAX_ENTRIES = 500000;
export const DEFAULT_EXPIRE_AFTER_MS = 600000;
export const MAX_RAW_PACKET_LIMIT = 10;
/** A finished flow stays this long after its last packet before update() removes it. */
const FINISHED_HOLD_MS = 15000;
/** Fragments older than this are forgotten (skydive's 30 s conntrack flush). */
const CONNTRACK_FLUSH_MS = 30000;
/** Flows sampled per eviction when the table is full. */
const EVICT_SAMPLE = 32;
const DEFAULT_APP_TIMEOUTS: Record<string, number> = { ARP: 10, DNS: 10 };

// transport kinds written into keys
const K_TCP = 1;
const K_UDP = 2;
const K_SCTP = 3;

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function i32be(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** RTT in ns from two capture times in ms; the capture times carry microseconds at best. */
function rttNs(fromMs: number, toMs: number): number {
  return Math.round((toMs - fromMs) * 1000) * 1000;
}

/**
 * The flow table: decodes packets, splits them per encapsulation level and keeps one flow per level and
 * direction-independent key, as skydive's flow.Table does. Each flow is a record of a FlowStore (see
 * flow-store.ts): processPacket allocates nothing, not even for a new flow (beyond growing its arrays). Keys
 * are hashed from the packet bytes and looked up in an open-addressing index; Flow objects are views made when
 * flows are listed or reported (getFlows, update, expire).
 */
export class FlowTable {
  readonly stats: FlowTableStats = {
    packets: 0,
    bytes: 0,
    flowsCreated: 0,
    flowsEvicted: 0,
    decodeErrors: 0,
    activeFlows: 0,
  };

  private readonly l2Mode: boolean;
  private readonly ipDefrag: boolean;
  private readonly extraTCPMetric: boolean;
  private readonly reassembleTCP: boolean;
  private readonly extraLayers: number;
  private readonly rawPacketLimit: number;
  private readonly maxEntries: number;
  private readonly expireAfterMs: number;
  /** Application id by port (ids index ctx.apps: LAYER_NAMES first, then the configured names). */
  private readonly tcpApps = new Map<number, number>();
  private readonly udpApps = new Map<number, number>();
  /** Application timeout (ms, 0 = none) by application id. */
  private readonly appTimeouts: number[] = [];

  private readonly decoder = new PacketDecoder();
  private readonly defragger = new IPv4Defragmenter();
  private readonly index = new FlowIndex(1 << 12);
  private readonly store = new FlowStore(1024);
  private readonly tcp = new TcpTracker(this.store);
  private readonly ctx: FlowContext & { paths: string[]; apps: string[] };
  /** Views handed out, by slot (a slot's view is detached when its flow leaves the table). */
  private views: (Flow | undefined)[] = [];
  /** Slots ever used; free ones are reused first. */
  private slotCount = 0;
  private freeSlots: number[] = [];
  /** Sequence number of the latest packet: a flow's record holds the value of its latest packet (LRU order). */
  private accessSeq = 0;
  /** Where the next eviction starts sampling. */
  private evictHand = 0;
  /** Interned LayersPath ids by a hash of the layer types; the types of each interned path, to check. */
  private readonly pathIds = new Map<number, number[]>();
  private readonly pathTypes: Uint8Array[] = [];

  private readonly keyWords = new Int32Array(32);
  /** Words of keyWords that make the l3Key, and the l2Key, of the current sub-packet. */
  private l3Words = 0;
  private l2Words = 0;
  private readonly hashOut = new Int32Array(2);
  /** l3Key, l2Key, key of the sub-packet being processed (hi, lo pairs). */
  private readonly keys = new Int32Array(6);
  private readonly nodeHash = new Int32Array(2);

  private updateVersion = 0;
  private lastUpdateMs = 0;
  /** IPMetric of the packet being processed (defragmentation result). */
  private pktFragments = 0;
  private pktFragmentErrors = 0;

  constructor(opts: FlowTableOptions = {}) {
    this.l2Mode = (opts.layerKeyMode ?? 'L2') !== 'L3';
    this.ipDefrag = opts.ipDefrag ?? false;
    this.extraTCPMetric = opts.extraTCPMetric ?? false;
    this.reassembleTCP = opts.reassembleTCP ?? false;
    this.extraLayers = opts.extraLayers ?? 0;
    this.rawPacketLimit = Math.max(0, Math.min(MAX_RAW_PACKET_LIMIT, Math.floor(opts.rawPacketLimit ?? 0)));
    this.maxEntries = Math.max(1, Math.floor(opts.maxEntries ?? DEFAULT_MAX_ENTRIES));
    this.expireAfterMs = opts.expireAfterMs ?? DEFAULT_EXPIRE_AFTER_MS;
    const nodeTID = opts.nodeTID ?? '';
    this.ctx = {
      store: this.store,
      paths: [],
      apps: [...LAYER_NAMES],
      nodeTID,
      captureID: opts.captureID ?? '',
      dns: new Map(),
      raw: new Map(),
    };
    const appId = (name: string): number => {
      const upper = name.toUpperCase();
      const known = this.ctx.apps.indexOf(upper, LAYER_NAMES.length);
      if (known >= 0) return known;
      this.ctx.apps.push(upper);
      return this.ctx.apps.length - 1;
    };
    for (const [p, a] of Object.entries(opts.applicationPorts?.tcp ?? {})) this.tcpApps.set(Number(p), appId(a));
    for (const [p, a] of Object.entries(opts.applicationPorts?.udp ?? {})) this.udpApps.set(Number(p), appId(a));
    const timeouts = new Map<string, number>();
    for (const [app, sec] of Object.entries({ ...DEFAULT_APP_TIMEOUTS, ...(opts.applicationTimeouts ?? {}) })) {
      timeouts.set(app.toUpperCase(), sec * 1000);
    }
    this.appTimeouts = this.ctx.apps.map((name) => timeouts.get(name.toUpperCase()) ?? 0);
    hashString(nodeTID, this.nodeHash);
  }

  // ------------------------------------------------------------------ packets

  /** buf[offset, offset+caplen) = captured bytes; wireLen = original length; tsMs = capture time in ms (may be fractional) */
  processPacket(buf: Uint8Array, offset: number, caplen: number, wireLen: number, tsMs: number, linkType: number): void {
    const stats = this.stats;
    stats.packets++;
    stats.bytes += wireLen;
    try {
      const d = this.decoder;
      d.decode(buf, offset, caplen, linkType);
      this.pktFragments = 0;
      this.pktFragmentErrors = 0;
      if (this.ipDefrag && d.fragLayer >= 0 && !this.defragment(buf, offset, tsMs, linkType)) {
        if (d.malformed) stats.decodeErrors++;
        return;
      }
      if (d.malformed) stats.decodeErrors++;
      const count = d.split();
      if (count === 0) {
        if (!d.malformed) stats.decodeErrors++;
        return;
      }
      const outer = d.outerLength(wireLen);
      let parent = -1;
      for (let s = 0; s < count; s++) {
        parent = this.processSubPacket(s, count, parent, outer, tsMs, buf, offset, caplen, wireLen, linkType);
      }
    } catch {
      // never let one packet take the capture down; a decoder bug must show as a counted error
      stats.decodeErrors++;
    }
  }

  /**
   * Feeds the fragment to the defragmenter. Returns false when the packet is consumed (incomplete datagram or
   * error); true when the datagram is complete, the decoder then holds the reassembled packet.
   */
  private defragment(buf: Uint8Array, offset: number, tsMs: number, linkType: number): boolean {
    const d = this.decoder;
    const ip = d.fragLayer;
    const ipOff = d.offs[ip];
    const ihl = d.lens[ip];
    const res = this.defragger.feed(buf, ipOff, ihl, d.ends[ip], tsMs);
    if (res !== 'complete') return false;
    const head = ipOff + ihl - offset;
    const payload = this.defragger.payload;
    const whole = new Uint8Array(head + payload.length);
    whole.set(buf.subarray(offset, offset + head));
    whole.set(payload, head);
    d.reassembledAt = ipOff - offset;
    try {
      d.decode(whole, 0, whole.length, linkType);
    } finally {
      d.reassembledAt = -1;
    }
    this.pktFragments = this.defragger.fragments;
    this.pktFragmentErrors = this.defragger.fragmentErrors;
    return true;
  }

  /**
   * Finds or creates the flow of sub-packet s (inside the flow in slot `parent`, -1 for none) and counts the
   * packet in it; returns its slot.
   */
  private processSubPacket(
    s: number,
    count: number,
    parent: number,
    outer: number,
    tsMs: number,
    buf: Uint8Array,
    offset: number,
    caplen: number,
    wireLen: number,
    linkType: number,
  ): number {
    this.computeKeys(s, parent);
    let slot = this.index.get(this.keys[4], this.keys[5], this.store.i32, HOT_I32, I_KEY_HI);
    if (slot < 0) slot = this.createFlow(s, count, parent, tsMs);
    this.updateRecord(slot, s, outer - this.decoder.subHdrBefore[s], tsMs);
    if (this.store.i32[slot * HOT_I32 + I_FLAGS] & FL_EXTRAS) {
      this.updateExtras(slot, s, tsMs, buf, offset, caplen, wireLen, linkType);
    }
    return slot;
  }

  /**
   * Writes the sub-packet's endpoints as key words: the l3Key words (network, transport, ICMP), then the MACs
   * (l2Key, in L2 mode or without IP), and hashes them with the parent flow into the table key. Each endpoint
   * pair is written in a canonical order (smaller address first) so that both directions give the same keys,
   * and L3 keys never depend on the link layer. Endpoints are read as big-endian words straight from the packet.
   */
  private computeKeys(s: number, parent: number): void {
    const d = this.decoder;
    const b = d.buf;
    const w = this.keyWords;
    const eth = d.subEth[s];
    const net = d.subNet[s];
    const tr = d.subTrans[s];
    const icmp = d.subIcmp[s];
    let p = 0;
    let swapIP = false;
    if (net >= 0) {
      const no = d.offs[net];
      if (d.types[net] === L_IPV4) {
        const src = i32be(b, no + 12);
        const dst = i32be(b, no + 16);
        if (src !== dst) swapIP = src >>> 0 > dst >>> 0;
        else if (tr >= 0) swapIP = u16(b, d.offs[tr]) > u16(b, d.offs[tr] + 2);
        w[0] = swapIP ? dst : src;
        w[1] = swapIP ? src : dst;
        w[2] = 4;
        p = 3;
      } else {
        let c = 0;
        for (let i = 0; i < 16 && c === 0; i += 4) {
          const x = i32be(b, no + 8 + i) >>> 0;
          const y = i32be(b, no + 24 + i) >>> 0;
          c = x - y;
        }
        if (c !== 0) swapIP = c > 0;
        else if (tr >= 0) swapIP = u16(b, d.offs[tr]) > u16(b, d.offs[tr] + 2);
        const first = swapIP ? no + 24 : no + 8;
        const second = swapIP ? no + 8 : no + 24;
        for (let i = 0; i < 4; i++) {
          w[i] = i32be(b, first + 4 * i);
          w[4 + i] = i32be(b, second + 4 * i);
        }
        w[8] = 6;
        p = 9;
      }
    }
    if (tr >= 0) {
      const to = d.offs[tr];
      const tt = d.types[tr];
      const last = d.types[d.subEnd[s] - 1];
      if (tt === L_UDP && (last === L_VXLAN || last === L_GENEVE || last === L_MPLS)) {
        // a UDP tunnel is one flow whatever its entropy source port: VNI and destination port only
        w[p++] = last === L_MPLS ? 0 : d.vals[d.subEnd[s] - 1];
        w[p++] = u16(b, to + 2) | 0x7000000;
      } else {
        const sp = u16(b, to);
        const dp = u16(b, to + 2);
        w[p++] = swapIP ? (dp << 16) | sp : (sp << 16) | dp;
        w[p++] = tt === L_TCP ? K_TCP : tt === L_UDP ? K_UDP : K_SCTP;
      }
    }
    if (icmp >= 0) {
      const io = d.offs[icmp];
      const type = b[io];
      if (d.types[icmp] === L_ICMPV4) {
        w[p++] = (icmpv4Kind(type) << 24) | (b[io + 1] << 16) | u16(b, io + 4);
      } else {
        const kind = icmpv6Kind(type);
        if (kind === ICMP_ECHO) {
          const echo = icmp + 1 < d.n && d.types[icmp + 1] === L_ICMPV6_ECHO ? u16(b, d.offs[icmp + 1]) : 0;
          w[p++] = (kind << 24) | echo;
        } else {
          w[p++] = (kind << 24) | (b[io + 1] << 16);
        }
      }
      w[p++] = 0x8000000;
    }
    if (tr < 0 && icmp < 0) {
      // what the network (or link) layer carries, so that e.g. GRE and ESP between two hosts are two flows
      const after = (net >= 0 ? net : this.lastLinkLayer(s)) + 1;
      w[p++] = (after < d.subEnd[s] ? d.types[after] : 0) | 0x9000000;
    }
    this.l3Words = p;
    if (eth >= 0 && (this.l2Mode || net < 0)) {
      const eo = d.offs[eth];
      const dHi = u16(b, eo);
      const dLo = i32be(b, eo + 2);
      const sHi = u16(b, eo + 6);
      const sLo = i32be(b, eo + 8);
      const swapMAC = sHi !== dHi ? sHi > dHi : sLo >>> 0 > dLo >>> 0;
      w[p++] = swapMAC ? dHi : sHi;
      w[p++] = swapMAC ? dLo : sLo;
      w[p++] = swapMAC ? sHi : dHi;
      w[p++] = swapMAC ? sLo : dLo;
      w[p++] = 0xa000000;
    }
    this.l2Words = p;
    // the table key: every endpoint word and the parent flow, in one hash (TrackingIDs are hashed at creation)
    const pi = parent * HOT_I32;
    w[p] = parent >= 0 ? this.store.i32[pi + I_UUID_HI] : 0;
    w[p + 1] = parent >= 0 ? this.store.i32[pi + I_UUID_LO] : 0;
    w[p + 2] = parent >= 0 ? 0xb000001 : 0xb000000;
    hash64(w, p + 3, 0x7a, 0x11, this.hashOut);
    this.keys[4] = this.hashOut[0];
    this.keys[5] = this.hashOut[1];
  }

  /** l3Key and l2Key of the sub-packet whose words computeKeys() left in keyWords (flow creation only). */
  private computeTrackingKeys(): void {
    const keys = this.keys;
    const out = this.hashOut;
    hash64(this.keyWords, this.l3Words, 0x13, 0x37, out);
    keys[0] = out[0];
    keys[1] = out[1];
    if (this.l2Words !== this.l3Words) {
      hash64(this.keyWords, this.l2Words, 0x13, 0x37, out);
      keys[2] = out[0];
      keys[3] = out[1];
    } else {
      keys[2] = keys[0];
      keys[3] = keys[1];
    }
  }

  private lastLinkLayer(s: number): number {
    const d = this.decoder;
    let last = d.subStart[s];
    for (let i = d.subStart[s]; i < d.subEnd[s]; i++) {
      const t = d.types[i];
      if (t === L_DOT1Q || t === L_MPLS || i === d.subEth[s]) last = i;
    }
    return last;
  }

  /** Interned id of the sub-packet's LayersPath (gopacket names; LinuxSLL is not a named layer here). */
  private pathId(s: number): number {
    const d = this.decoder;
    const a = d.subStart[s];
    const e = d.subEnd[s];
    let h = 0x811c9dc5;
    for (let i = a; i < e; i++) h = Math.imul(h ^ d.types[i], 0x01000193);
    const key = (h >>> 0) * 64 + (e - a);
    const candidates = this.pathIds.get(key);
    if (candidates !== undefined) {
      for (const id of candidates) {
        const t = this.pathTypes[id];
        let same = t.length === e - a;
        for (let i = 0; same && i < t.length; i++) same = t[i] === d.types[a + i];
        if (same) return id;
      }
    }
    const types = d.types.slice(a, e);
    const id = this.ctx.paths.length;
    this.ctx.paths.push(Array.from(types, (t) => LAYER_NAMES[t]).filter((_, i) => types[i] !== L_LINUX_SLL).join('/'));
    this.pathTypes.push(types);
    if (candidates !== undefined) candidates.push(id);
    else this.pathIds.set(key, [id]);
    return id;
  }

  /** Creates the flow of sub-packet s from its first packet; returns its slot. */
  private createFlow(s: number, count: number, parent: number, tsMs: number): number {
    const d = this.decoder;
    const b = d.buf;
    const st = this.store;
    // read before a possible eviction: in a tiny table the parent itself may be evicted
    const parentHi = parent >= 0 ? st.i32[parent * HOT_I32 + I_UUID_HI] : 0;
    const parentLo = parent >= 0 ? st.i32[parent * HOT_I32 + I_UUID_LO] : 0;
    if (this.stats.activeFlows >= this.maxEntries) this.evictOne();
    this.computeTrackingKeys();
    const keys = this.keys;
    const slot = this.allocSlot(keys[4], keys[5]);
    const f64 = st.f64;
    const i32 = st.i32;
    const cf64 = st.cf64;
    const ci32 = st.ci32;
    const ib = slot * HOT_I32;
    const fb = slot * HOT_F64;
    const cb = slot * COLD_F64;
    const cib = slot * COLD_I32;
    cf64[cb + F_START] = tsMs;
    f64[fb + F_LAST] = tsMs;
    f64[fb + F_ECHO_TS] = -1;
    f64[fb + F_SYN_TS] = -1;
    ci32[cib + I_L3_HI] = keys[0];
    ci32[cib + I_L3_LO] = keys[1];
    ci32[cib + I_L2_HI] = keys[2];
    ci32[cib + I_L2_LO] = keys[3];
    let flags = FL_LIVE;
    if (parent >= 0) {
      flags |= FL_PARENT;
      ci32[cib + I_PARENT_HI] = parentHi;
      ci32[cib + I_PARENT_LO] = parentLo;
    }
    // UUID: the key, the first packet's ms and the capture node
    const startMs = Math.floor(tsMs);
    const words = this.keyWords;
    words[0] = keys[4];
    words[1] = keys[5];
    words[2] = Math.floor(startMs / 4294967296) | 0;
    words[3] = startMs | 0;
    words[4] = this.nodeHash[0];
    words[5] = this.nodeHash[1];
    hash64(words, 6, 0x55, 0xaa, this.hashOut);
    i32[ib + I_UUID_HI] = this.hashOut[0];
    i32[ib + I_UUID_LO] = this.hashOut[1];

    ci32[cib + I_PATH] = this.pathId(s);
    let app = d.types[d.subEnd[s] - 1];
    const a = d.subStart[s];
    const e = d.subEnd[s];
    const eth = d.subEth[s];
    if (eth >= 0) {
      const eo = d.offs[eth];
      let id = 0;
      for (let i = e - 1; i >= a; i--) if (d.types[i] === L_DOT1Q) id = id * 4096 + d.vals[i];
      flags |= FL_LINK;
      cf64[cb + F_LINK_ID] = id;
      i32[ib + I_LINK_A_HI] = u16(b, eo + 6);
      i32[ib + I_LINK_A_LO] = i32be(b, eo + 8);
      ci32[cib + I_LINK_B_HI] = u16(b, eo);
      ci32[cib + I_LINK_B_LO] = i32be(b, eo + 2);
    }
    const net = d.subNet[s];
    if (net >= 0) {
      const no = d.offs[net];
      const tunnel = d.tunnelLayer(s);
      cf64[cb + F_NET_ID] = tunnel >= 0 ? d.vals[tunnel] : 0;
      flags |= FL_NETWORK;
      if (d.types[net] === L_IPV4) {
        i32[ib + I_NET_A] = i32be(b, no + 12);
        ci32[cib + I_NET_B] = i32be(b, no + 16);
        if (this.ipDefrag && s === count - 1) {
          flags |= FL_IP_METRIC;
          ci32[cib + I_IPM_FRAGMENTS] = this.pktFragments;
          ci32[cib + I_IPM_ERRORS] = this.pktFragmentErrors;
        }
      } else {
        flags |= FL_NET_V6;
        for (let w = 0; w < 4; w++) {
          i32[ib + I_NET_A + w] = i32be(b, no + 8 + 4 * w);
          ci32[cib + I_NET_B + w] = i32be(b, no + 24 + 4 * w);
        }
      }
    }
    const tr = d.subTrans[s];
    if (tr >= 0) {
      const to = d.offs[tr];
      const tt = d.types[tr];
      const sp = u16(b, to);
      const dp = u16(b, to + 2);
      flags |= FL_TRANSPORT;
      i32[ib + I_TRANSPORT_A] = sp;
      ci32[cib + I_TRANSPORT_B] = dp;
      ci32[cib + I_TRANSPORT_PROTO] = tt === L_TCP ? TRANSPORT_TCP : tt === L_UDP ? TRANSPORT_UDP : TRANSPORT_SCTP;
      if (tt === L_TCP || tt === L_UDP) {
        const apps = tt === L_TCP ? this.tcpApps : this.udpApps;
        if (apps.size > 0) {
          const named = apps.get(sp) ?? apps.get(dp);
          if (named !== undefined) app = named;
        }
      }
      if (tt === L_TCP) {
        flags |= FL_TCP;
        if (this.extraTCPMetric) {
          flags |= FL_TCP_METRIC;
          if (this.reassembleTCP) {
            flags |= FL_TCP_TRACK;
            this.tcp.init(slot);
          }
        }
      }
    }
    const icmp = d.subIcmp[s];
    if (icmp >= 0) {
      const io = d.offs[icmp];
      flags |= FL_ICMP;
      if (d.types[icmp] === L_ICMPV4) {
        ci32[cib + I_ICMP] = (icmpv4Kind(b[io]) << 24) | (b[io + 1] << 16) | u16(b, io + 4);
      } else {
        const kind = icmpv6Kind(b[io]);
        const echo = kind === ICMP_ECHO && icmp + 1 < d.n && d.types[icmp + 1] === L_ICMPV6_ECHO ? u16(b, d.offs[icmp + 1]) : 0;
        ci32[cib + I_ICMP] = (kind << 24) | (b[io + 1] << 16) | echo;
      }
    }
    if (this.rawPacketLimit > 0 || (this.extraLayers & EXTRA_DNS) !== 0) flags |= FL_EXTRAS;
    ci32[cib + I_APP] = app;
    i32[ib + I_FLAGS] = flags;
    this.stats.flowsCreated++;
    return slot;
  }

  /** Direction by the IP rule: the packet's source is Network.A (same IPs: its source port is Transport.A). */
  private fromNetworkA(ib: number, flags: number, s: number): boolean {
    if (!(flags & FL_NETWORK)) return true;
    const d = this.decoder;
    const b = d.buf;
    const net = d.subNet[s];
    if (net < 0) return true;
    const i32 = this.store.i32;
    const no = d.offs[net];
    let sameIP: boolean;
    let isA: boolean;
    if (d.types[net] === L_IPV4) {
      if (flags & FL_NET_V6) return false;
      const src = i32be(b, no + 12);
      isA = src === i32[ib + I_NET_A];
      sameIP = src === i32be(b, no + 16);
    } else {
      if (!(flags & FL_NET_V6)) return false;
      isA =
        i32be(b, no + 8) === i32[ib + I_NET_A] &&
        i32be(b, no + 12) === i32[ib + I_NET_A + 1] &&
        i32be(b, no + 16) === i32[ib + I_NET_A + 2] &&
        i32be(b, no + 20) === i32[ib + I_NET_A + 3];
      sameIP =
        i32be(b, no + 8) === i32be(b, no + 24) &&
        i32be(b, no + 12) === i32be(b, no + 28) &&
        i32be(b, no + 16) === i32be(b, no + 32) &&
        i32be(b, no + 20) === i32be(b, no + 36);
    }
    if (sameIP && flags & FL_TRANSPORT) {
      const tr = d.subTrans[s];
      if (tr >= 0) return u16(b, d.offs[tr]) === i32[ib + I_TRANSPORT_A];
    }
    return isA;
  }

  /** Counts the packet in the flow's record: direction, bytes, times, RTT, TCP state. */
  private updateRecord(slot: number, s: number, subLen: number, tsMs: number): void {
    const d = this.decoder;
    const b = d.buf;
    const st = this.store;
    const f64 = st.f64;
    const i32 = st.i32;
    const fb = slot * HOT_F64;
    const ib = slot * HOT_I32;
    const flags = i32[ib + I_FLAGS];
    const eth = d.subEth[s];
    const net = d.subNet[s];
    let ab: boolean;
    let bytes: number;
    if (this.l2Mode || net < 0) {
      if (eth >= 0 && flags & FL_LINK) {
        const eo = d.offs[eth];
        const sHi = u16(b, eo + 6);
        const sLo = i32be(b, eo + 8);
        if (sLo === i32be(b, eo + 2) && sHi === u16(b, eo)) ab = this.fromNetworkA(ib, flags, s);
        else ab = sHi === i32[ib + I_LINK_A_HI] && sLo === i32[ib + I_LINK_A_LO];
        bytes = subLen > 0 ? subLen : d.ends[eth] - eo;
      } else {
        ab = this.fromNetworkA(ib, flags, s);
        bytes = net >= 0 ? d.ipLengthField(net) : subLen;
      }
    } else {
      ab = this.fromNetworkA(ib, flags, s);
      bytes = subLen > 0 ? subLen : eth >= 0 ? d.ends[eth] - d.offs[eth] : d.ipLengthField(net);
    }
    if (ab) {
      f64[fb + F_AB_PACKETS]++;
      f64[fb + F_AB_BYTES] += bytes;
    } else {
      f64[fb + F_BA_PACKETS]++;
      f64[fb + F_BA_BYTES] += bytes;
    }
    if (tsMs > f64[fb + F_LAST]) f64[fb + F_LAST] = tsMs;
    f64[fb + F_ACCESS] = ++this.accessSeq;
    i32[ib + I_UPDATE_VERSION] = this.updateVersion + 1;

    const icmp = d.subIcmp[s];
    if (icmp >= 0) {
      const t = b[d.offs[icmp]];
      const v4 = d.types[icmp] === L_ICMPV4;
      if (v4 ? t === 8 : t === 128) {
        if (f64[fb + F_ECHO_TS] < 0) f64[fb + F_ECHO_TS] = tsMs;
      } else if ((v4 ? t === 0 : t === 129) && f64[fb + F_ECHO_TS] >= 0) {
        f64[fb + F_RTT] = rttNs(f64[fb + F_ECHO_TS], tsMs);
        f64[fb + F_ECHO_TS] = -1;
      }
    }
    if (flags & FL_TCP) {
      const tr = d.subTrans[s];
      if (tr >= 0 && d.types[tr] === L_TCP) this.updateTCP(slot, s, tr, ab, tsMs);
    }
  }

  private updateTCP(slot: number, s: number, tr: number, ab: boolean, tsMs: number): void {
    const d = this.decoder;
    const b = d.buf;
    const st = this.store;
    const f64 = st.f64;
    const i32 = st.i32;
    const fb = slot * HOT_F64;
    const ib = slot * HOT_I32;
    const to = d.offs[tr];
    const tcpFlags = b[to + 13];
    const fin = (tcpFlags & 0x01) !== 0;
    const syn = (tcpFlags & 0x02) !== 0;
    const rst = (tcpFlags & 0x04) !== 0;
    const ack = (tcpFlags & 0x10) !== 0;
    if (syn && !ack) {
      if (f64[fb + F_SYN_TS] === -1) f64[fb + F_SYN_TS] = tsMs;
    } else if ((syn || rst) && f64[fb + F_SYN_TS] >= 0) {
      f64[fb + F_RTT] = rttNs(f64[fb + F_SYN_TS], tsMs);
      // only the first handshake of the flow gives its RTT
      f64[fb + F_SYN_TS] = -2;
    }
    if (fin) {
      const both = FL_FIN_AB | FL_FIN_BA;
      const flags = (i32[ib + I_FLAGS] |= ab ? FL_FIN_AB : FL_FIN_BA);
      if ((flags & both) === both && i32[ib + I_FINISH_TYPE] === FINISH_NOT_FINISHED) i32[ib + I_FINISH_TYPE] = FINISH_TCP_FIN;
    }
    if (rst && i32[ib + I_FINISH_TYPE] === FINISH_NOT_FINISHED) i32[ib + I_FINISH_TYPE] = FINISH_TCP_RST;
    const flags = i32[ib + I_FLAGS];
    if (!(flags & FL_TCP_METRIC)) return;
    const net = d.subNet[s];
    if (net < 0) return;
    const no = d.offs[net];
    const v4 = d.types[net] === L_IPV4;
    const cf64 = st.cf64;
    const cb = slot * COLD_F64;
    const srcIsA = v4
      ? i32be(b, no + 12) === i32[ib + I_NET_A]
      : i32be(b, no + 8) === i32[ib + I_NET_A] &&
        i32be(b, no + 12) === i32[ib + I_NET_A + 1] &&
        i32be(b, no + 16) === i32[ib + I_NET_A + 2] &&
        i32be(b, no + 20) === i32[ib + I_NET_A + 3];
    if (syn) {
      const ttl = v4 ? b[no + 8] : b[no + 7];
      if (srcIsA && cf64[cb + F_AB_SYN_START] === 0) {
        cf64[cb + F_AB_SYN_START] = tsMs;
        st.ci32[slot * COLD_I32 + I_AB_SYN_TTL] = ttl;
      } else if (cf64[cb + F_BA_SYN_START] === 0) {
        cf64[cb + F_BA_SYN_START] = tsMs;
        st.ci32[slot * COLD_I32 + I_BA_SYN_TTL] = ttl;
      }
    }
    if (fin) cf64[cb + (srcIsA ? F_AB_FIN_START : F_BA_FIN_START)] = tsMs;
    if (rst) cf64[cb + (srcIsA ? F_AB_RST_START : F_BA_RST_START)] = tsMs;
    if (flags & FL_TCP_TRACK) {
      // payload length from the IP length field (a truncated capture still moves the sequence numbers), or
      // from the reassembled bytes when they are longer (defragmented datagram)
      const ipEnd = v4 ? no + d.ipLengthField(net) : no + 40 + d.ipLengthField(net);
      const len = Math.max(0, Math.max(ipEnd, d.ends[tr]) - (to + d.lens[tr]));
      const seq = i32be(b, to + 4) >>> 0;
      const ba = srcIsA && u16(b, to) === i32[ib + I_TRANSPORT_A] ? 0 : 1;
      this.tcp.assemble(slot, ba, seq, len, syn, fin, rst, tsMs);
    }
  }

  /** Raw packet copies and the DNS extra layer, for tables that keep them. */
  private updateExtras(
    slot: number,
    s: number,
    tsMs: number,
    buf: Uint8Array,
    offset: number,
    caplen: number,
    wireLen: number,
    linkType: number,
  ): void {
    const ci32 = this.store.ci32;
    const cib = slot * COLD_I32;
    if (ci32[cib + I_RAW_COUNT] < this.rawPacketLimit) {
      const data = new Uint8Array(caplen);
      data.set(buf.subarray(offset, offset + caplen));
      let list = this.ctx.raw.get(slot);
      if (list === undefined) this.ctx.raw.set(slot, (list = []));
      list.push({ tsMs, data, wireLen, linkType });
      ci32[cib + I_RAW_COUNT]++;
    }
    if (this.extraLayers & EXTRA_DNS) {
      const d = this.decoder;
      const dns = d.subDns[s];
      if (dns >= 0) this.ctx.dns.set(slot, parseDNS(d.buf, d.offs[dns], d.ends[dns], tsMs));
    }
  }

  // ------------------------------------------------------------------ storage

  private allocSlot(keyHi: number, keyLo: number): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slotCount++;
      this.store.ensure(this.slotCount);
    }
    this.store.clear(slot);
    this.store.i32[slot * HOT_I32 + I_KEY_HI] = keyHi;
    this.store.ci32[slot * COLD_I32 + I_KEY_LO] = keyLo;
    this.index.set(keyLo, slot);
    this.stats.activeFlows++;
    return slot;
  }

  private isLive(slot: number): boolean {
    return (this.store.i32[slot * HOT_I32 + I_FLAGS] & FL_LIVE) !== 0;
  }

  /** The view of a live slot (made on first use). */
  private flowAt(slot: number): Flow {
    let v = this.views[slot];
    if (v === undefined) {
      v = new Flow(this.ctx, slot);
      this.views[slot] = v;
    }
    return v;
  }

  /** Removes a flow; returns its (detached) view when `keepView`, for reporting it. */
  private removeSlot(slot: number, keepView: boolean): Flow | undefined {
    const i32 = this.store.i32;
    const ib = slot * HOT_I32;
    if (!(i32[ib + I_FLAGS] & FL_LIVE)) return undefined;
    const view = keepView ? this.flowAt(slot) : this.views[slot];
    if (view !== undefined) {
      view.detach();
      this.views[slot] = undefined;
    }
    this.index.delete(this.store.ci32[slot * COLD_I32 + I_KEY_LO], slot);
    this.tcp.release(slot);
    this.ctx.dns.delete(slot);
    this.ctx.raw.delete(slot);
    i32[ib + I_FLAGS] = 0;
    this.freeSlots.push(slot);
    this.stats.activeFlows--;
    return view;
  }

  /**
   * Drops the least recently used flow among a sample of EVICT_SAMPLE slots (all of them in a small table):
   * exact LRU would cost a linked-list update per packet, this costs nothing until the table is full.
   */
  private evictOne(): void {
    const n = this.slotCount;
    if (n === 0) return;
    const f64 = this.store.f64;
    const sample = Math.min(n, EVICT_SAMPLE);
    let best = -1;
    let bestSeq = Infinity;
    for (let i = 0; i < sample; i++) {
      const slot = (this.evictHand + i) % n;
      if (!this.isLive(slot)) continue;
      const seq = f64[slot * HOT_F64 + F_ACCESS];
      if (seq < bestSeq) {
        bestSeq = seq;
        best = slot;
      }
    }
    this.evictHand = (this.evictHand + sample) % n;
    if (best < 0) return;
    this.removeSlot(best, false);
    this.stats.flowsEvicted++;
  }

  /** Live slots from least to most recently used. */
  private liveSlots(): number[] {
    const f64 = this.store.f64;
    const live: number[] = [];
    for (let slot = 0; slot < this.slotCount; slot++) if (this.isLive(slot)) live.push(slot);
    return live.sort((x, y) => f64[x * HOT_F64 + F_ACCESS] - f64[y * HOT_F64 + F_ACCESS]);
  }

  /** Flows from least to most recently used. */
  getFlows(): Flow[] {
    return this.liveSlots().map((slot) => this.flowAt(slot));
  }

  // ------------------------------------------------------------------ update and expiry

  /** LastUpdateMetric = the counters since the previous update (or since the flow started), over [from, to]. */
  private fillLastUpdateMetric(slot: number, from: number, to: number): void {
    const f64 = this.store.f64;
    const i32 = this.store.i32;
    const cf64 = this.store.cf64;
    const fb = slot * HOT_F64;
    const ib = slot * HOT_I32;
    const cb = slot * COLD_F64;
    const snap = (i32[ib + I_FLAGS] & FL_SNAPSHOT) !== 0;
    for (let k = 0; k < 4; k++) cf64[cb + F_LUM + k] = f64[fb + F_AB_PACKETS + k] - cf64[cb + F_SNAP + k];
    cf64[cb + F_LUM + 4] = snap ? from : cf64[cb + F_START];
    cf64[cb + F_LUM + 5] = to;
    cf64[cb + F_LUM + 6] = f64[fb + F_RTT];
    i32[ib + I_FLAGS] |= FL_LUM;
  }

  /**
   * Update tick (skydive's flow.update, every 60 s by default): returns the flows that received packets since
   * the previous update, with LastUpdateMetric set to that window, plus the flows that reached their
   * application timeout (FinishType TIMEOUT, removed). Finished flows leave the table 15 s after their last packet.
   */
  update(nowMs: number): Flow[] {
    const from = this.lastUpdateMs;
    const st = this.store;
    const f64 = st.f64;
    const i32 = st.i32;
    const sent: Flow[] = [];
    for (const slot of this.liveSlots()) {
      const fb = slot * HOT_F64;
      const ib = slot * HOT_I32;
      const cf64 = st.cf64;
      const ci32 = st.ci32;
      const cb = slot * COLD_F64;
      const cib = slot * COLD_I32;
      const last = f64[fb + F_LAST];
      if (i32[ib + I_UPDATE_VERSION] > this.updateVersion) {
        this.fillLastUpdateMetric(slot, from, nowMs);
        sent.push(this.flowAt(slot));
      } else {
        const timeout = this.appTimeouts[ci32[cib + I_APP]] ?? 0;
        if (timeout > 0 && nowMs - last > timeout && i32[ib + I_FINISH_TYPE] === FINISH_NOT_FINISHED) {
          i32[ib + I_FINISH_TYPE] = FINISH_TIMEOUT;
          this.tcp.flush(slot);
          sent.push(this.removeSlot(slot, true)!);
          continue;
        }
        for (let k = 0; k < 4; k++) cf64[cb + F_LUM + k] = 0;
        cf64[cb + F_LUM + 4] = from;
        cf64[cb + F_LUM + 5] = nowMs;
        cf64[cb + F_LUM + 6] = 0;
        i32[ib + I_FLAGS] |= FL_LUM;
      }
      for (let k = 0; k < 4; k++) cf64[cb + F_SNAP + k] = f64[fb + F_AB_PACKETS + k];
      i32[ib + I_FLAGS] |= FL_SNAPSHOT;
      if (i32[ib + I_FINISH_TYPE] !== FINISH_NOT_FINISHED && nowMs - last >= FINISHED_HOLD_MS) this.removeSlot(slot, false);
    }
    this.updateVersion++;
    this.lastUpdateMs = nowMs;
    this.defragger.discardOlderThan(nowMs - CONNTRACK_FLUSH_MS);
    return sent;
  }

  /**
   * Expiry tick (skydive's flow.expire): flows idle for more than expireAfterMs end with FinishType TIMEOUT and
   * leave the table. Returned: those that were not finished yet, and finished ones with packets since the last update.
   */
  expire(nowMs: number): Flow[] {
    return this.expireBefore(nowMs - this.expireAfterMs);
  }

  /** Ends every flow (capture stop, flush). */
  expireNow(): Flow[] {
    return this.expireBefore(Infinity);
  }

  private expireBefore(limit: number): Flow[] {
    const f64 = this.store.f64;
    const i32 = this.store.i32;
    const out: Flow[] = [];
    for (const slot of this.liveSlots()) {
      const fb = slot * HOT_F64;
      const ib = slot * HOT_I32;
      if (!(f64[fb + F_LAST] < limit)) continue;
      const updated = i32[ib + I_UPDATE_VERSION] > this.updateVersion;
      if (updated) this.fillLastUpdateMetric(slot, this.lastUpdateMs, f64[fb + F_LAST]);
      this.tcp.flush(slot);
      const unfinished = i32[ib + I_FINISH_TYPE] === FINISH_NOT_FINISHED;
      if (unfinished) i32[ib + I_FINISH_TYPE] = FINISH_TIMEOUT;
      const view = this.removeSlot(slot, unfinished || updated);
      if (view !== undefined && (unfinished || updated)) out.push(view);
    }
    if (limit !== Infinity) this.defragger.discardOlderThan(limit);
    return out;
  }
}

export { Flow } from './flow.js';
export type { FlowJSON, RawPacket } from './flow.js';
