import {
  LINKTYPE_ETHERNET as DECODER_LINKTYPE_ETHERNET,
  LINKTYPE_RAW as DECODER_LINKTYPE_RAW,
  PacketDecoder,
  applicationLayerPresent,
  tcpPortNext,
  udpPortNext,
} from './decoder.js';
import { IPv4Defragmenter } from './defrag.js';
import { parseDNS } from './dns.js';
import { Flow, FINISH_NOT_FINISHED, FINISH_TCP_FIN, FINISH_TCP_RST, FINISH_TIMEOUT } from './flow.js';
import type { FlowContext } from './flow.js';
import { FlowIndex, MAX_INDEX_SLOTS } from './flow-index.js';
import {
  FastParser,
  LV_AFTER,
  LV_ETH,
  LV_ETH_SPAN,
  LV_HDR_BEFORE,
  LV_ICMP,
  LV_IP_LEN,
  LV_LINK_ID,
  LV_NET,
  LV_NET_ID,
  LV_STRIDE,
  LV_TAGS,
  LV_TR,
  LV_TR_END,
  LV_TR_HDR,
  LV_TR_TYPE,
  LV_TUNNEL,
  LV_V4,
} from './fast-parser.js';
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
  I_ACCESS,
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
  FL_SWAP_IP,
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
  I_UUID_HI,
  I_UUID_LO,
  TRANSPORT_SCTP,
  TRANSPORT_TCP,
  TRANSPORT_UDP,
  TCP_I32,
  TI_FLAGS,
  T_BA,
} from './flow-store.js';
import { hash64, hashString } from './hash.js';
import {
  EXTRA_DNS,
  ICMP_ECHO,
  L_DOT1Q,
  L_ETHERNET,
  L_GENEVE,
  L_GRE,
  L_ICMPV4,
  L_ICMPV6_ECHO,
  L_IPV4,
  L_IPV6,
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
  /**
   * Bound of the table; the least recently used flow is evicted (and counted) beyond it. Default 500000, at most
   * 16777215.
   */
  maxEntries?: number;
  nodeTID?: string;
  captureID?: string;
  /** Application name by port, overriding the decoded application (source port checked first). */
  applicationPorts?: { tcp?: Record<number, string>; udp?: Record<number, string> };
  /** Seconds of inactivity after which a flow of this application finishes, by uppercased name. Defaults ARP 10, DNS 10. */
  applicationTimeouts?: Record<string, number>;
  /** Idle time after which expire() ends a flow. Default 600000 (flow.expire 600 s). */
  expireAfterMs?: number;
  /** false: every packet goes through the full decoder (same results, slower; for tests). Default true. */
  fastPath?: boolean;
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
/** The access sequence (LRU order) is renumbered when it reaches this. */
const MAX_ACCESS = 0x7fffffff;
/** Flows sampled per eviction when the table is full. */
const EVICT_SAMPLE = 32;
const DEFAULT_APP_TIMEOUTS: Record<string, number> = { ARP: 10, DNS: 10 };

// transport kinds written into keys
const K_TCP = 1;
const K_UDP = 2;
const K_SCTP = 3;

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
  /** Flows keep raw packets or the DNS layer: every packet goes through updateExtras. */
  private readonly hasExtras: boolean;
  /** Common packets of existing flows skip the decoder (FastParser), unless the table keeps extras. */
  private readonly fastPath: boolean;
  private readonly maxEntries: number;
  private readonly expireAfterMs: number;
  /** Application id by port (ids index ctx.apps: LAYER_NAMES first, then the configured names). */
  private readonly tcpApps = new Map<number, number>();
  private readonly udpApps = new Map<number, number>();
  /** Application timeout (ms, 0 = none) by application id. */
  private readonly appTimeouts: number[] = [];

  private readonly decoder = new PacketDecoder();
  private readonly fast = new FastParser();
  private readonly defragger = new IPv4Defragmenter();
  /**
   * Room for 64 flows at first: the store then grows while flow creation still runs unoptimised, so that the
   * optimised createFlow knows the growth path (a first growth after it is optimised throws that code away).
   */
  private readonly store = new FlowStore(64);
  private readonly index = new FlowIndex(this.store);
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
  /** Layer types of the level createFastFlow rebuilds, and the LayersPath id of each shape of level it met. */
  private readonly fastTypes = new Uint8Array(8);
  private readonly fastPaths = new Map<number, number>();

  private readonly keyWords = new Int32Array(32);
  /** Words of keyWords that make the l3Key, and the l2Key, of the current sub-packet. */
  private l3Words = 0;
  private l2Words = 0;
  private readonly hashOut = new Int32Array(2);
  /** l3Key and l2Key (hi, lo pairs) of the flow being created. */
  private readonly keys = new Int32Array(4);
  /** Table key (hi, lo) of the sub-packet being processed. */
  private readonly key = new Int32Array(2);
  private readonly nodeHash = new Int32Array(2);

  // The level being counted, filled from a decoded sub-packet or from FastParser: header offsets in the buffer
  // (-1: absent) and what its key and counters need (see fast-parser.ts for each one's meaning).
  private rEth = -1;
  private rEthSpan = 0;
  private rNet = -1;
  private rV4 = false;
  private rIpLen = 0;
  private rTr = -1;
  private rTrType = 0;
  private rTrHdr = 0;
  private rTrEnd = 0;
  /** Key word of a UDP tunnel level (VNI, 0 for MPLS over UDP) instead of its ports, -1 for other levels. */
  private rTunnel = -1;
  private rIcmp = -1;
  private rIcmpV4 = false;
  /** ICMPv6 echo id. */
  private rIcmpEcho = 0;
  private rAfter = 0;
  // set by levelKey(), for the packet's direction: key orientation of the IPs, same IPs, source port, MAC
  // source (16 + 32 bits)
  private rSwapIP = false;
  private rSameIP = false;
  private rSp = 0;
  private rLinkKey = false;
  private rSHi = 0;
  private rSLo = 0;
  private rSameMAC = false;

  /** accessSeq at the latest update tick: a flow whose F_ACCESS is above it has had packets since. */
  private accessAtUpdate = 0;
  private lastUpdateMs = 0;
  /** IPMetric of the packet being processed (defragmentation result). */
  private pktFragments = 0;
  private pktFragmentErrors = 0;
  /**
   * Sink of the early loads of a TCP flow's segment-tracking record (countLevel): a packet's flow record and
   * TCP record are two cache misses in a large table, and issuing the second before the first has arrived
   * overlaps them. The value itself is never used.
   */
  private readonly tcpTouch = new Int32Array(1);

  constructor(opts: FlowTableOptions = {}) {
    this.l2Mode = (opts.layerKeyMode ?? 'L2') !== 'L3';
    this.ipDefrag = opts.ipDefrag ?? false;
    this.extraTCPMetric = opts.extraTCPMetric ?? false;
    this.reassembleTCP = opts.reassembleTCP ?? false;
    this.extraLayers = opts.extraLayers ?? 0;
    this.rawPacketLimit = Math.max(0, Math.min(MAX_RAW_PACKET_LIMIT, Math.floor(opts.rawPacketLimit ?? 0)));
    this.hasExtras = this.rawPacketLimit > 0 || (this.extraLayers & EXTRA_DNS) !== 0;
    this.fastPath = !this.hasExtras && opts.fastPath !== false;
    this.maxEntries = Math.max(1, Math.min(MAX_INDEX_SLOTS, Math.floor(opts.maxEntries ?? DEFAULT_MAX_ENTRIES)));
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
      if (linkType === LINKTYPE_ETHERNET && this.fastPath) {
        const levels = this.fast.parse(buf, this.decoder.view(buf), offset, caplen);
        if (levels > 0) {
          this.processFast(levels, wireLen, tsMs);
          return;
        }
      }
      const d = this.decoder;
      d.decode(buf, offset, caplen, linkType);
      this.pktFragments = 0;
      this.pktFragmentErrors = 0;
      if (this.ipDefrag && d.fragLayer >= 0 && !this.defragment(buf, offset, tsMs, linkType)) {
        if (d.malformed) stats.decodeErrors++;
        return;
      }
      if (d.malformed) stats.decodeErrors++;
      const count = d.subCount;
      if (count === 0) {
        if (!d.malformed) stats.decodeErrors++;
        return;
      }
      this.processLevels(0, -1, wireLen, tsMs, buf, offset, caplen, linkType);
    } catch {
      // never let one packet take the capture down; a decoder bug must show as a counted error
      stats.decodeErrors++;
    }
  }

  /** Counts the decoded packet in the flows of its levels from level `first` on, the first one inside `parent`. */
  private processLevels(
    first: number,
    parent: number,
    wireLen: number,
    tsMs: number,
    buf: Uint8Array,
    offset: number,
    caplen: number,
    linkType: number,
  ): void {
    const d = this.decoder;
    const count = d.subCount;
    const outer = d.outerLength(wireLen);
    for (let s = first; s < count; s++) {
      this.loadLevel(s);
      parent = this.countLevel(s, count, parent, outer - d.subHdrBefore[s], tsMs, true);
      if (this.hasExtras) this.updateExtras(parent, s, tsMs, buf, offset, caplen, wireLen, linkType);
    }
  }

  /**
   * A packet that FastParser took apart: counted level by level like a decoded one. A level whose flow does not
   * exist yet creates it from FastParser's fields (createFastFlow): FastParser guarantees that the decoder would
   * find the same levels.
   */
  private processFast(levels: number, wireLen: number, tsMs: number): void {
    const lv = this.fast.lv;
    const outer = wireLen > 0 ? wireLen : lv[LV_ETH_SPAN];
    let parent = -1;
    for (let k = 0; k < levels; k++) {
      const l = k * LV_STRIDE;
      this.rEth = lv[l + LV_ETH];
      this.rEthSpan = lv[l + LV_ETH_SPAN];
      this.rNet = lv[l + LV_NET];
      this.rV4 = lv[l + LV_V4] === 1;
      this.rIpLen = lv[l + LV_IP_LEN];
      this.rTr = lv[l + LV_TR];
      this.rTrType = lv[l + LV_TR_TYPE];
      this.rTrHdr = lv[l + LV_TR_HDR];
      this.rTrEnd = lv[l + LV_TR_END];
      this.rTunnel = lv[l + LV_TUNNEL];
      this.rIcmp = lv[l + LV_ICMP];
      this.rIcmpV4 = true;
      this.rAfter = lv[l + LV_AFTER];
      const subLen = outer - lv[l + LV_HDR_BEFORE];
      const slot = this.countLevel(k, levels, parent, subLen, tsMs, false);
      if (slot < 0) {
        this.pktFragments = 0;
        this.pktFragmentErrors = 0;
        const created = this.createFastFlow(lv, l, k, levels, parent, tsMs);
        this.updateFlow(created, subLen, tsMs);
        parent = created;
        continue;
      }
      parent = slot;
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

  /** Loads the level registers with decoded sub-packet s. */
  private loadLevel(s: number): void {
    const d = this.decoder;
    const eth = d.subEth[s];
    const net = d.subNet[s];
    const tr = d.subTrans[s];
    const icmp = d.subIcmp[s];
    this.rEth = eth >= 0 ? d.offs[eth] : -1;
    this.rEthSpan = eth >= 0 ? d.ends[eth] - d.offs[eth] : 0;
    this.rNet = net >= 0 ? d.offs[net] : -1;
    this.rV4 = net >= 0 && d.types[net] === L_IPV4;
    this.rIpLen = net >= 0 ? d.ipLengthField(net) : 0;
    this.rTr = -1;
    this.rTunnel = -1;
    if (tr >= 0) {
      const tt = d.types[tr];
      this.rTr = d.offs[tr];
      this.rTrType = tt;
      this.rTrHdr = d.lens[tr];
      this.rTrEnd = d.ends[tr];
      const last = d.types[d.subEnd[s] - 1];
      // a UDP tunnel is one flow whatever its entropy source port: VNI (none for MPLS) instead of ports
      if (tt === L_UDP && (last === L_VXLAN || last === L_GENEVE)) this.rTunnel = d.vals[d.subEnd[s] - 1];
      else if (tt === L_UDP && last === L_MPLS) this.rTunnel = 0;
    }
    this.rIcmp = icmp >= 0 ? d.offs[icmp] : -1;
    this.rIcmpV4 = icmp >= 0 && d.types[icmp] === L_ICMPV4;
    const echo = icmp + 1;
    this.rIcmpEcho = icmp >= 0 && echo < d.n && d.types[echo] === L_ICMPV6_ECHO ? d.dv.getUint16(d.offs[echo]) : 0;
    if (tr < 0 && icmp < 0) {
      const after = (net >= 0 ? net : this.lastLinkLayer(s)) + 1;
      this.rAfter = after < d.subEnd[s] ? d.types[after] : 0;
    }
  }

  /**
   * Counts the packet (subLen bytes from this level on) in the flow of the level in the registers, inside the
   * flow in slot `parent` (-1 for none); returns its slot. A flow that does not exist yet is created from
   * decoded sub-packet s of count with `create`; without (FastParser's registers: the caller creates it), the
   * packet is not counted and -1 is returned.
   */
  private countLevel(s: number, count: number, parent: number, subLen: number, tsMs: number, create: boolean): number {
    this.levelKey(parent);
    let slot = this.index.get(this.key[0], this.key[1]);
    if (slot < 0) {
      if (!create) return -1;
      slot = this.createFlow(s, count, parent, tsMs);
    } else if (this.rTr >= 0 && this.rTrType === L_TCP) {
      // load the TCP record's two lines now, while the flow record's line is on its way (see tcpTouch)
      const ti32 = this.store.ti32;
      this.tcpTouch[0] = ti32[slot * TCP_I32 + TI_FLAGS] + ti32[slot * TCP_I32 + 2 * T_BA + TI_FLAGS];
    }
    this.updateFlow(slot, subLen, tsMs);
    return slot;
  }

  /**
   * The table key of the level in the registers, inside the flow in slot `parent`: its endpoints are written
   * as words, the l3Key words (network, transport, ICMP), then the MACs (l2Key, in L2 mode or without IP), and
   * hashed with the parent flow. Each endpoint pair is written in a canonical order (smaller address first) so
   * that both directions give the same keys, and L3 keys never depend on the link layer. Endpoints are read
   * as big-endian words straight from the packet, once: the values that give the packet's direction are kept.
   */
  private levelKey(parent: number): void {
    const d = this.decoder;
    const b = d.buf;
    const dv = d.dv;
    const w = this.keyWords;
    const no = this.rNet;
    const to = this.rTr;
    const io = this.rIcmp;
    const sp = to >= 0 ? dv.getUint16(to) : 0;
    const dp = to >= 0 ? dv.getUint16(to + 2) : 0;
    let p = 0;
    let swapIP = false;
    let srcIP = 0;
    let sameIP = false;
    if (no >= 0) {
      if (this.rV4) {
        srcIP = dv.getInt32(no + 12);
        const dst = dv.getInt32(no + 16);
        sameIP = srcIP === dst;
        if (!sameIP) swapIP = srcIP >>> 0 > dst >>> 0;
        else if (to >= 0) swapIP = sp > dp;
        w[0] = swapIP ? dst : srcIP;
        w[1] = swapIP ? srcIP : dst;
        w[2] = 4;
        p = 3;
      } else {
        for (let i = 0; i < 4; i++) {
          w[i] = dv.getInt32(no + 8 + 4 * i);
          w[4 + i] = dv.getInt32(no + 24 + 4 * i);
        }
        let c = 0;
        for (let i = 0; i < 4 && c === 0; i++) c = (w[i] >>> 0) - (w[4 + i] >>> 0);
        sameIP = c === 0;
        if (!sameIP) swapIP = c > 0;
        else if (to >= 0) swapIP = sp > dp;
        if (swapIP) {
          for (let i = 0; i < 4; i++) {
            const t = w[i];
            w[i] = w[4 + i];
            w[4 + i] = t;
          }
        }
        w[8] = 6;
        p = 9;
      }
    }
    if (to >= 0) {
      if (this.rTunnel >= 0) {
        w[p++] = this.rTunnel;
        w[p++] = dp | 0x7000000;
      } else {
        const tt = this.rTrType;
        w[p++] = swapIP ? (dp << 16) | sp : (sp << 16) | dp;
        w[p++] = tt === L_TCP ? K_TCP : tt === L_UDP ? K_UDP : K_SCTP;
      }
    }
    if (io >= 0) {
      const type = b[io];
      if (this.rIcmpV4) {
        w[p++] = (icmpv4Kind(type) << 24) | (b[io + 1] << 16) | dv.getUint16(io + 4);
      } else {
        const kind = icmpv6Kind(type);
        w[p++] = kind === ICMP_ECHO ? (kind << 24) | this.rIcmpEcho : (kind << 24) | (b[io + 1] << 16);
      }
      w[p++] = 0x8000000;
    }
    // what the network (or link) layer carries, so that e.g. GRE and ESP between two hosts are two flows
    if (to < 0 && io < 0) w[p++] = this.rAfter | 0x9000000;
    this.l3Words = p;
    const eo = this.rEth;
    // the link layer gives the direction when it is part of the key and its two MACs differ
    const linkKey = eo >= 0 && (this.l2Mode || no < 0);
    let sHi = 0;
    let sLo = 0;
    let sameMAC = true;
    if (linkKey) {
      const dHi = dv.getUint16(eo);
      const dLo = dv.getInt32(eo + 2);
      sHi = dv.getUint16(eo + 6);
      sLo = dv.getInt32(eo + 8);
      sameMAC = sLo === dLo && sHi === dHi;
      const swapMAC = sHi !== dHi ? sHi > dHi : sLo >>> 0 > dLo >>> 0;
      w[p++] = swapMAC ? dHi : sHi;
      w[p++] = swapMAC ? dLo : sLo;
      w[p++] = swapMAC ? sHi : dHi;
      w[p++] = swapMAC ? sLo : dLo;
      w[p++] = 0xa000000;
    }
    this.l2Words = p;
    if (parent >= 0) {
      const i32 = this.store.i32;
      w[p] = i32[parent * HOT_I32 + I_UUID_HI];
      w[p + 1] = i32[parent * HOT_I32 + I_UUID_LO];
      w[p + 2] = 0xb000001;
    } else {
      w[p] = 0;
      w[p + 1] = 0;
      w[p + 2] = 0xb000000;
    }
    hash64(w, p + 3, 0x7a, 0x11, this.key);
    this.rSwapIP = swapIP;
    this.rSameIP = sameIP;
    this.rSp = sp;
    this.rLinkKey = linkKey;
    this.rSHi = sHi;
    this.rSLo = sLo;
    this.rSameMAC = sameMAC;
  }

  /** Counts the packet of the level in the registers (subLen bytes from this level on) in the flow of a slot. */
  private updateFlow(slot: number, subLen: number, tsMs: number): void {
    const st = this.store;
    const f64 = st.f64;
    const i32 = st.i32;
    const fb = slot * HOT_F64;
    const ib = slot * HOT_I32;
    const flags = i32[ib + I_FLAGS];
    const link = this.rLinkKey && (flags & FL_LINK) !== 0;
    const ab =
      link && !this.rSameMAC
        ? this.rSHi === i32[ib + I_LINK_A_HI] && this.rSLo === i32[ib + I_LINK_A_LO]
        : this.fromNetworkA(ib, flags);
    let bytes: number;
    if (this.l2Mode || this.rNet < 0) {
      if (link) bytes = subLen > 0 ? subLen : this.rEthSpan;
      else bytes = this.rNet >= 0 ? this.rIpLen : subLen;
    } else {
      bytes = subLen > 0 ? subLen : this.rEth >= 0 ? this.rEthSpan : this.rIpLen;
    }
    if (ab) {
      f64[fb + F_AB_PACKETS]++;
      f64[fb + F_AB_BYTES] += bytes;
    } else {
      f64[fb + F_BA_PACKETS]++;
      f64[fb + F_BA_BYTES] += bytes;
    }
    if (tsMs > f64[fb + F_LAST]) f64[fb + F_LAST] = tsMs;
    if (this.accessSeq === MAX_ACCESS) this.renumberAccess();
    i32[ib + I_ACCESS] = ++this.accessSeq;

    const io = this.rIcmp;
    if (io >= 0) {
      const t = this.decoder.buf[io];
      const v4 = this.rIcmpV4;
      if (v4 ? t === 8 : t === 128) {
        if (f64[fb + F_ECHO_TS] < 0) f64[fb + F_ECHO_TS] = tsMs;
      } else if ((v4 ? t === 0 : t === 129) && f64[fb + F_ECHO_TS] >= 0) {
        f64[fb + F_RTT] = rttNs(f64[fb + F_ECHO_TS], tsMs);
        f64[fb + F_ECHO_TS] = -1;
      }
    }
    if (flags & FL_TCP && this.rTr >= 0 && this.rTrType === L_TCP) this.updateTCP(slot, ab, tsMs);
  }

  /**
   * Direction by the IP rule: the packet's source is Network.A (same IPs: its source port is Transport.A). The
   * packet has its flow's key, so its two addresses are the flow's: its source is Network.A when the key lists
   * them in the same order as for the flow's first packet (FL_SWAP_IP), which spares reading Network.A.
   */
  private fromNetworkA(ib: number, flags: number): boolean {
    if (!(flags & FL_NETWORK) || this.rNet < 0) return true;
    if (this.rV4 === ((flags & FL_NET_V6) !== 0)) return false;
    if (this.rSameIP) return flags & FL_TRANSPORT && this.rTr >= 0 ? this.rSp === this.store.i32[ib + I_TRANSPORT_A] : true;
    return this.rSwapIP === ((flags & FL_SWAP_IP) !== 0);
  }

  /** RTT, FIN/RST and TCPMetric of a TCP level. */
  private updateTCP(slot: number, ab: boolean, tsMs: number): void {
    const d = this.decoder;
    const st = this.store;
    const f64 = st.f64;
    const i32 = st.i32;
    const fb = slot * HOT_F64;
    const ib = slot * HOT_I32;
    const to = this.rTr;
    const tcpFlags = d.buf[to + 13];
    const fin = (tcpFlags & 0x01) !== 0;
    const syn = (tcpFlags & 0x02) !== 0;
    const rst = (tcpFlags & 0x04) !== 0;
    if (tcpFlags & 0x07) {
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
    }
    const flags = i32[ib + I_FLAGS];
    const no = this.rNet;
    if (!(flags & FL_TCP_METRIC) || no < 0) return;
    const v4 = this.rV4;
    // the packet comes from Network.A (see fromNetworkA)
    const srcIsA = this.rSameIP || this.rSwapIP === ((flags & FL_SWAP_IP) !== 0);
    if (tcpFlags & 0x07) this.tcpMetricFlags(slot, srcIsA, syn, fin, rst, v4 ? d.buf[no + 8] : d.buf[no + 7], tsMs);
    if (flags & FL_TCP_TRACK) {
      // payload length from the IP length field (a truncated capture still moves the sequence numbers), or
      // from the reassembled bytes when they are longer (defragmented datagram)
      const ipEnd = v4 ? no + this.rIpLen : no + 40 + this.rIpLen;
      const trEnd = this.rTrEnd;
      const len = (ipEnd > trEnd ? ipEnd : trEnd) - (to + this.rTrHdr);
      if (len <= 0 && !(tcpFlags & 0x07)) return;
      // from Network.A, the packet's ports are the first packet's, unless both ends have the same IP
      const ba = srcIsA && (!this.rSameIP || this.rSp === i32[ib + I_TRANSPORT_A]) ? 0 : 1;
      this.tcp.assemble(slot, ba, d.dv.getUint32(to + 4), len > 0 ? len : 0, syn, fin, rst, tsMs);
    }
  }

  /** TCPMetric times (and SYN TTL) of a segment with SYN, FIN or RST. */
  private tcpMetricFlags(
    slot: number,
    srcIsA: boolean,
    syn: boolean,
    fin: boolean,
    rst: boolean,
    ttl: number,
    tsMs: number,
  ): void {
    const cf64 = this.store.cf64;
    const cb = slot * COLD_F64;
    if (syn) {
      if (srcIsA && cf64[cb + F_AB_SYN_START] === 0) {
        cf64[cb + F_AB_SYN_START] = tsMs;
        this.store.ci32[slot * COLD_I32 + I_AB_SYN_TTL] = ttl;
      } else if (cf64[cb + F_BA_SYN_START] === 0) {
        cf64[cb + F_BA_SYN_START] = tsMs;
        this.store.ci32[slot * COLD_I32 + I_BA_SYN_TTL] = ttl;
      }
    }
    if (fin) cf64[cb + (srcIsA ? F_AB_FIN_START : F_BA_FIN_START)] = tsMs;
    if (rst) cf64[cb + (srcIsA ? F_AB_RST_START : F_BA_RST_START)] = tsMs;
  }

  /** l3Key and l2Key of the level whose words levelKey() left in keyWords (flow creation only). */
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
    return this.pathIdOf(d.types, d.subStart[s], d.subEnd[s]);
  }

  /** Interned id of the LayersPath of the layer types types[a, e). */
  private pathIdOf(types: ArrayLike<number>, a: number, e: number): number {
    let h = 0x811c9dc5;
    for (let i = a; i < e; i++) h = Math.imul(h ^ types[i], 0x01000193);
    const key = (h >>> 0) * 64 + (e - a);
    const candidates = this.pathIds.get(key);
    if (candidates !== undefined) {
      for (const id of candidates) {
        const t = this.pathTypes[id];
        let same = t.length === e - a;
        for (let i = 0; same && i < t.length; i++) same = t[i] === types[a + i];
        if (same) return id;
      }
    }
    return this.internPath(Uint8Array.from({ length: e - a }, (_, i) => types[a + i]), key, candidates);
  }

  /** Interns a new LayersPath of these layer types, whose hash key is `key`. */
  private internPath(types: Uint8Array, key: number, candidates: number[] | undefined): number {
    const id = this.ctx.paths.length;
    this.ctx.paths.push(Array.from(types, (t) => LAYER_NAMES[t]).filter((_, i) => types[i] !== L_LINUX_SLL).join('/'));
    this.pathTypes.push(types);
    if (candidates !== undefined) candidates.push(id);
    else this.pathIds.set(key, [id]);
    return id;
  }

  /**
   * Creates the flow of decoded sub-packet s of count (its level in the registers, its words in keyWords by
   * levelKey) from its first packet, inside the flow in slot `parent` (-1 for none); returns its slot.
   */
  private createFlow(s: number, count: number, parent: number, tsMs: number): number {
    const d = this.decoder;
    let linkId = 0;
    for (let i = d.subEnd[s] - 1; i >= d.subStart[s]; i--) if (d.types[i] === L_DOT1Q) linkId = linkId * 4096 + d.vals[i];
    const tunnel = d.tunnelLayer(s);
    const netId = tunnel >= 0 ? d.vals[tunnel] : 0;
    return this.newFlow(this.pathId(s), d.types[d.subEnd[s] - 1], linkId, netId, s === count - 1, parent, tsMs);
  }

  /**
   * Creates the flow of FastParser level k of `levels` (fields at lv[l], level in the registers, words in
   * keyWords by levelKey) from its first packet, inside the flow in slot `parent`; returns its slot. Its layers
   * are those PacketDecoder would find, rebuilt from what FastParser noted: Ethernet, its 802.1Q tags, IPv4 or
   * IPv6, then TCP or UDP and the application layer of their ports (by the decoder's own rule, or the VXLAN or
   * Geneve header of a tunnel level), ICMPv4, or GRE. The fuzz test compares the flows with the decoder's.
   */
  private createFastFlow(lv: Int32Array, l: number, k: number, levels: number, parent: number, tsMs: number): number {
    const tags = lv[l + LV_TAGS];
    const net = lv[l + LV_V4] === 1 ? L_IPV4 : L_IPV6;
    const to = lv[l + LV_TR];
    let third: number;
    let fourth = 0;
    if (to >= 0) {
      third = lv[l + LV_TR_TYPE];
      const dv = this.decoder.dv;
      const ports = third === L_TCP ? tcpPortNext : udpPortNext;
      const app = ports(dv.getUint16(to + 2)) || ports(dv.getUint16(to));
      const pos = to + lv[l + LV_TR_HDR];
      const end = lv[l + LV_TR_END];
      if (app === L_VXLAN || app === L_GENEVE) fourth = app;
      else if (app !== 0 && pos < end && applicationLayerPresent(app, this.decoder.buf, pos, end, third)) fourth = app;
    } else {
      third = lv[l + LV_ICMP] >= 0 ? L_ICMPV4 : L_GRE;
    }
    // a level's layers are Ethernet, its tags, the network layer, then one or two more: a few shapes, interned once
    const shape = (((tags * 2 + (net === L_IPV4 ? 1 : 0)) * 64 + third) * 64 + fourth) | 0;
    let path = this.fastPaths.get(shape);
    if (path === undefined) {
      const t = this.fastTypes;
      let n = 0;
      t[n++] = L_ETHERNET;
      for (let i = tags; i > 0; i--) t[n++] = L_DOT1Q;
      t[n++] = net;
      t[n++] = third;
      if (fourth !== 0) t[n++] = fourth;
      path = this.pathIdOf(t, 0, n);
      this.fastPaths.set(shape, path);
    }
    const last = fourth !== 0 ? fourth : third;
    return this.newFlow(path, last, lv[l + LV_LINK_ID], lv[l + LV_NET_ID] >>> 0, k === levels - 1, parent, tsMs);
  }

  /**
   * Creates a flow from the first packet of the level in the registers (its words in keyWords by levelKey), with
   * what the level's layers give: interned LayersPath, last layer type (the application unless a port names
   * one), Link.ID (VLAN ids), Network.ID (tunnel), and whether it is the packet's innermost level (IPMetric).
   */
  private newFlow(path: number, lastType: number, linkId: number, netId: number, innermost: boolean, parent: number, tsMs: number): number {
    const st = this.store;
    // read before a possible eviction: in a tiny table the parent itself may be evicted
    const parentHi = parent >= 0 ? st.i32[parent * HOT_I32 + I_UUID_HI] : 0;
    const parentLo = parent >= 0 ? st.i32[parent * HOT_I32 + I_UUID_LO] : 0;
    if (this.stats.activeFlows >= this.maxEntries) this.evictOne();
    this.computeTrackingKeys();
    const keys = this.keys;
    const slot = this.allocSlot(this.key[0], this.key[1]);
    const i32 = st.i32;
    const ci32 = st.ci32;
    const ib = slot * HOT_I32;
    const cib = slot * COLD_I32;
    st.cf64[slot * COLD_F64 + F_START] = tsMs;
    st.f64[slot * HOT_F64 + F_LAST] = tsMs;
    st.f64[slot * HOT_F64 + F_ECHO_TS] = -1;
    st.f64[slot * HOT_F64 + F_SYN_TS] = -1;
    ci32[cib + I_L3_HI] = keys[0];
    ci32[cib + I_L3_LO] = keys[1];
    ci32[cib + I_L2_HI] = keys[2];
    ci32[cib + I_L2_LO] = keys[3];
    let flags = this.rSwapIP ? FL_LIVE | FL_SWAP_IP : FL_LIVE;
    if (parent >= 0) {
      flags |= FL_PARENT;
      ci32[cib + I_PARENT_HI] = parentHi;
      ci32[cib + I_PARENT_LO] = parentLo;
    }
    // UUID: the key, the first packet's ms and the capture node
    const startMs = Math.floor(tsMs);
    const words = this.keyWords;
    words[0] = this.key[0];
    words[1] = this.key[1];
    words[2] = Math.floor(startMs / 4294967296) | 0;
    words[3] = startMs | 0;
    words[4] = this.nodeHash[0];
    words[5] = this.nodeHash[1];
    hash64(words, 6, 0x55, 0xaa, this.hashOut);
    i32[ib + I_UUID_HI] = this.hashOut[0];
    i32[ib + I_UUID_LO] = this.hashOut[1];
    ci32[cib + I_PATH] = path;
    ci32[cib + I_APP] = this.applicationId(lastType);
    if (this.rEth >= 0) flags |= this.initLink(slot, linkId);
    if (this.rNet >= 0) flags |= this.initNetwork(slot, netId, innermost);
    if (this.rTr >= 0) flags |= this.initTransport(slot);
    if (this.rIcmp >= 0) flags |= this.initIcmp(slot);
    i32[ib + I_FLAGS] = flags;
    this.stats.flowsCreated++;
    return slot;
  }

  /** Application of a new flow: the configured name of its port (source first), else its last layer's type. */
  private applicationId(lastType: number): number {
    const tt = this.rTrType;
    const mapped = this.rTr >= 0 && (tt === L_TCP ? this.tcpApps.size > 0 : tt === L_UDP && this.udpApps.size > 0);
    const named = mapped ? this.namedApplication() : -1;
    return named >= 0 ? named : lastType;
  }

  /** Configured application of the level's transport ports (source port first), or -1. */
  private namedApplication(): number {
    const dv = this.decoder.dv;
    const apps = this.rTrType === L_TCP ? this.tcpApps : this.udpApps;
    return apps.get(dv.getUint16(this.rTr)) ?? apps.get(dv.getUint16(this.rTr + 2)) ?? -1;
  }

  /** Link layer of a new flow: MACs and Link.ID (VLAN ids of its level, outermost in the low bits). */
  private initLink(slot: number, linkId: number): number {
    const dv = this.decoder.dv;
    const eo = this.rEth;
    this.store.cf64[slot * COLD_F64 + F_LINK_ID] = linkId;
    this.store.i32[slot * HOT_I32 + I_LINK_A_HI] = dv.getUint16(eo + 6);
    this.store.i32[slot * HOT_I32 + I_LINK_A_LO] = dv.getInt32(eo + 8);
    this.store.ci32[slot * COLD_I32 + I_LINK_B_HI] = dv.getUint16(eo);
    this.store.ci32[slot * COLD_I32 + I_LINK_B_LO] = dv.getInt32(eo + 2);
    return FL_LINK;
  }

  /** Network layer of a new flow: addresses, Network.ID (tunnel), IPMetric of the innermost IPv4 level. */
  private initNetwork(slot: number, netId: number, innermost: boolean): number {
    const dv = this.decoder.dv;
    const i32 = this.store.i32;
    const ci32 = this.store.ci32;
    const ib = slot * HOT_I32;
    const cib = slot * COLD_I32;
    const no = this.rNet;
    this.store.cf64[slot * COLD_F64 + F_NET_ID] = netId;
    if (!this.rV4) {
      for (let w = 0; w < 4; w++) {
        i32[ib + I_NET_A + w] = dv.getInt32(no + 8 + 4 * w);
        ci32[cib + I_NET_B + w] = dv.getInt32(no + 24 + 4 * w);
      }
      return FL_NETWORK | FL_NET_V6;
    }
    i32[ib + I_NET_A] = dv.getInt32(no + 12);
    ci32[cib + I_NET_B] = dv.getInt32(no + 16);
    if (!this.ipDefrag || !innermost) return FL_NETWORK;
    ci32[cib + I_IPM_FRAGMENTS] = this.pktFragments;
    ci32[cib + I_IPM_ERRORS] = this.pktFragmentErrors;
    return FL_NETWORK | FL_IP_METRIC;
  }

  /** Transport layer of a new flow: ports, protocol, TCP state. */
  private initTransport(slot: number): number {
    const dv = this.decoder.dv;
    const cib = slot * COLD_I32;
    const tt = this.rTrType;
    this.store.i32[slot * HOT_I32 + I_TRANSPORT_A] = dv.getUint16(this.rTr);
    this.store.ci32[cib + I_TRANSPORT_B] = dv.getUint16(this.rTr + 2);
    this.store.ci32[cib + I_TRANSPORT_PROTO] = tt === L_TCP ? TRANSPORT_TCP : tt === L_UDP ? TRANSPORT_UDP : TRANSPORT_SCTP;
    if (tt !== L_TCP) return FL_TRANSPORT;
    if (!this.extraTCPMetric) return FL_TRANSPORT | FL_TCP;
    if (!this.reassembleTCP) return FL_TRANSPORT | FL_TCP | FL_TCP_METRIC;
    this.tcp.init(slot);
    return FL_TRANSPORT | FL_TCP | FL_TCP_METRIC | FL_TCP_TRACK;
  }

  /** ICMP layer of a new flow: type class, code and echo id. */
  private initIcmp(slot: number): number {
    const d = this.decoder;
    const io = this.rIcmp;
    const b = d.buf;
    let v: number;
    if (this.rIcmpV4) {
      v = (icmpv4Kind(b[io]) << 24) | (b[io + 1] << 16) | d.dv.getUint16(io + 4);
    } else {
      const kind = icmpv6Kind(b[io]);
      v = (kind << 24) | (b[io + 1] << 16) | (kind === ICMP_ECHO ? this.rIcmpEcho : 0);
    }
    this.store.ci32[slot * COLD_I32 + I_ICMP] = v;
    return FL_ICMP;
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
      if (this.slotCount > this.store.capacity) this.store.ensure(this.slotCount);
    }
    // a slot's records are zero: never used, or cleared when its flow left
    this.store.i32[slot * HOT_I32 + I_KEY_HI] = keyHi;
    this.store.i32[slot * HOT_I32 + I_KEY_LO] = keyLo;
    this.index.set(slot);
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
    this.index.delete(slot);
    this.tcp.release(slot);
    this.ctx.dns.delete(slot);
    this.ctx.raw.delete(slot);
    this.store.clear(slot);
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
    const i32 = this.store.i32;
    const sample = Math.min(n, EVICT_SAMPLE);
    let best = -1;
    let bestSeq = Infinity;
    for (let i = 0; i < sample; i++) {
      const slot = (this.evictHand + i) % n;
      if (!this.isLive(slot)) continue;
      const seq = i32[slot * HOT_I32 + I_ACCESS];
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

  /**
   * Numbers the live flows 1..n again, in the same order, when the access sequence reaches MAX_ACCESS (an int32
   * in each record): the order and the "packets since the last update" watermark are kept.
   */
  private renumberAccess(): void {
    const i32 = this.store.i32;
    const live = this.liveSlots();
    let watermark = 0;
    for (let k = 0; k < live.length; k++) {
      const ia = live[k] * HOT_I32 + I_ACCESS;
      if (i32[ia] <= this.accessAtUpdate) watermark = k + 1;
      i32[ia] = k + 1;
    }
    this.accessAtUpdate = watermark;
    this.accessSeq = live.length;
  }

  /** Live slots from least to most recently used. */
  private liveSlots(): number[] {
    const i32 = this.store.i32;
    const live: number[] = [];
    for (let slot = 0; slot < this.slotCount; slot++) if (this.isLive(slot)) live.push(slot);
    return live.sort((x, y) => i32[x * HOT_I32 + I_ACCESS] - i32[y * HOT_I32 + I_ACCESS]);
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
      if (i32[ib + I_ACCESS] > this.accessAtUpdate) {
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
    this.accessAtUpdate = this.accessSeq;
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
      const updated = i32[ib + I_ACCESS] > this.accessAtUpdate;
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
