import {
  L_ARP,
  L_BFD,
  L_DHCPV4,
  L_DHCPV6,
  L_DNS,
  L_DOT1Q,
  L_ETHERNET,
  L_FRAGMENT,
  L_GENEVE,
  L_GRE,
  L_GTPV1U,
  L_ICMPV4,
  L_ICMPV6,
  L_ICMPV6_ECHO,
  L_ICMPV6_NEIGHBOR_ADVERTISEMENT,
  L_ICMPV6_NEIGHBOR_SOLICITATION,
  L_ICMPV6_REDIRECT,
  L_ICMPV6_ROUTER_ADVERTISEMENT,
  L_ICMPV6_ROUTER_SOLICITATION,
  L_IGMP,
  L_IPSEC_AH,
  L_IPSEC_ESP,
  L_IPV4,
  L_IPV6,
  L_IPV6_DESTINATION,
  L_IPV6_FRAGMENT,
  L_IPV6_HOPBYHOP,
  L_IPV6_ROUTING,
  L_LINUX_SLL,
  L_LLC,
  L_MODBUSTCP,
  L_MPLS,
  L_NTP,
  L_SCTP,
  L_SCTP_DATA,
  L_SCTP_SHUTDOWN_COMPLETE,
  L_SCTP_UNKNOWN,
  L_SFLOW,
  L_SIP,
  L_SNAP,
  L_STP,
  L_TCP,
  L_TLS,
  L_UDP,
  L_VRRPV2,
  L_VXLAN,
} from './layers.js';
import { gtpv1uHeaderLength, isDNS, isSIP, isTLS } from './app-layers.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
/** Other pcap link types that carry bare IP packets (BSD/OpenBSD DLT_RAW values). */
export const LINKTYPE_RAW_BSD = 12;
export const LINKTYPE_RAW_OPENBSD = 14;
export const LINKTYPE_LINUX_SLL = 113;

/** At most this many layers are decoded per packet (deeper stacks are cut there, never an error). */
export const MAX_LAYERS = 64;
/** At most this many flows (encapsulation levels) per packet. */
export const MAX_SUBPACKETS = 32;

// pseudo decoders (not layers)
const D_ERSPAN = 200;
const D_MPLS_PAYLOAD = 201;
const D_RAWIP = 202;

function etherNext(et: number): number {
  switch (et) {
    case 0x0800:
      return L_IPV4;
    case 0x86dd:
      return L_IPV6;
    case 0x0806:
      return L_ARP;
    case 0x8100:
    case 0x88a8:
      return L_DOT1Q;
    case 0x8847:
    case 0x8848:
      return L_MPLS;
    case 0x6558:
      return L_ETHERNET;
    case 0x88be:
      return D_ERSPAN;
    default:
      return 0;
  }
}

function ipNext(proto: number): number {
  switch (proto) {
    case 1:
      return L_ICMPV4;
    case 6:
      return L_TCP;
    case 17:
      return L_UDP;
    case 58:
      return L_ICMPV6;
    case 47:
      return L_GRE;
    case 4:
      return L_IPV4;
    case 41:
      return L_IPV6;
    case 0:
      return L_IPV6_HOPBYHOP;
    case 43:
      return L_IPV6_ROUTING;
    case 44:
      return L_IPV6_FRAGMENT;
    case 60:
      return L_IPV6_DESTINATION;
    case 132:
      return L_SCTP;
    case 2:
      return L_IGMP;
    case 50:
      return L_IPSEC_ESP;
    case 51:
      return L_IPSEC_AH;
    case 112:
      return L_VRRPV2;
    case 137:
      return L_MPLS;
    default:
      return 0;
  }
}

/** Layer decoded after UDP for a port (0: none). */
export function udpPortNext(p: number): number {
  switch (p) {
    case 53:
      return L_DNS;
    case 4789:
    case 8472: // Linux's historical VXLAN port, registered by skydive
      return L_VXLAN;
    case 6081:
      return L_GENEVE;
    case 6635: // MPLS-over-UDP (RFC 7510)
      return L_MPLS;
    case 123:
      return L_NTP;
    case 67:
    case 68:
      return L_DHCPV4;
    case 546:
    case 547:
      return L_DHCPV6;
    case 5060:
      return L_SIP;
    case 6343:
      return L_SFLOW;
    case 3784:
      return L_BFD;
    case 2152:
      return L_GTPV1U;
    default:
      return 0;
  }
}

/** Layer decoded after TCP for a port (0: none). */
export function tcpPortNext(p: number): number {
  switch (p) {
    case 53:
      return L_DNS;
    case 443:
    case 636:
    case 989:
    case 990:
    case 992:
    case 993:
    case 994:
    case 995:
    case 5061:
      return L_TLS;
    case 502:
      return L_MODBUSTCP;
    default:
      return 0;
  }
}

/**
 * Whether the application layer t, named by a TCP or UDP port (tcpPortNext, udpPortNext), is there in the
 * non-empty payload b[pos, end) that follows a layer of type prevType: the decoder's rule, shared with the flow
 * table's creation of flows from FastParser's levels.
 */
export function applicationLayerPresent(t: number, b: Uint8Array, pos: number, end: number, prevType: number): boolean {
  const avail = end - pos;
  switch (t) {
    case L_DNS:
      // DNS over TCP carries a 2-byte length prefix before the message
      return isDNS(b, prevType === L_TCP ? pos + 2 : pos, end);
    case L_TLS:
      return isTLS(b, pos, end);
    case L_NTP:
      return avail >= 48;
    case L_DHCPV4:
      return avail >= 240;
    case L_DHCPV6:
      return avail >= 4;
    case L_SIP:
      return isSIP(b, pos, end);
    case L_SFLOW:
      return avail >= 28;
    case L_BFD:
      return avail >= 24 && b[pos] >> 5 === 1;
    case L_MODBUSTCP:
      return avail >= 7 && b[pos + 2] === 0 && b[pos + 3] === 0;
    default:
      return false;
  }
}

/** GRE header length after its source route entries (until a NULL one); beyond avail when they do not fit. */
function greRoutingEnd(b: Uint8Array, pos: number, hl: number, avail: number): number {
  for (;;) {
    if (hl + 4 > avail) return avail + 1;
    const sreLen = b[pos + hl + 3];
    hl += 4 + sreLen;
    if (sreLen === 0) return hl;
  }
}

function sctpChunkLayer(t: number): number {
  if (t <= 11) return L_SCTP_DATA + t;
  if (t === 14) return L_SCTP_SHUTDOWN_COMPLETE;
  return L_SCTP_UNKNOWN;
}

/**
 * Decodes one packet into preallocated typed arrays (layer type, offset, header length, payload end, value) and
 * splits it into sub-packets, one per encapsulation level. Nothing is allocated per packet: the decoder keeps
 * a reference to the caller's buffer until the next decode.
 *
 * decode() handles the common layers and tunnels itself and leaves the others to decodeRare(), which keeps the
 * function that runs for every decoded packet small for the JIT.
 */
export class PacketDecoder {
  buf: Uint8Array = new Uint8Array(0);
  /** Big-endian view of buf (see view()): one load per multi-byte field instead of one per byte. */
  dv = new DataView(this.buf.buffer);
  /** Number of decoded layers. */
  n = 0;
  readonly types = new Uint8Array(MAX_LAYERS);
  /** Absolute offset of each layer in buf. */
  readonly offs = new Int32Array(MAX_LAYERS);
  /** Header bytes of each layer (gopacket LayerContents length). */
  readonly lens = new Int32Array(MAX_LAYERS);
  /** End of the bytes that belong to the layer and its payload (bounded by length fields and caplen). */
  readonly ends = new Int32Array(MAX_LAYERS);
  /** VLAN id (Dot1Q), VNI (VXLAN, Geneve), key (GRE), label (MPLS). */
  readonly vals = new Float64Array(MAX_LAYERS);
  /** Decoding stopped on a malformed or truncated header (the layers before it are still valid). */
  malformed = false;
  /** Index of the first IPv4 layer when it is a fragment, else -1. */
  fragLayer = -1;
  /** Offset of an IPv4 header whose payload has been reassembled (decode it as complete), else -1. */
  reassembledAt = -1;

  /** Sub-packets: layers [subStart, subEnd). */
  subCount = 0;
  readonly subStart = new Int32Array(MAX_SUBPACKETS);
  readonly subEnd = new Int32Array(MAX_SUBPACKETS);
  /** Sum of the header lengths of all layers before each sub-packet. */
  readonly subHdrBefore = new Int32Array(MAX_SUBPACKETS);
  /** Per sub-packet: index of its Ethernet layer, network (first IPv4 else first IPv6), transport, ICMP, DNS; -1 if none. */
  readonly subEth = new Int32Array(MAX_SUBPACKETS);
  readonly subNet = new Int32Array(MAX_SUBPACKETS);
  readonly subTrans = new Int32Array(MAX_SUBPACKETS);
  readonly subIcmp = new Int32Array(MAX_SUBPACKETS);
  readonly subDns = new Int32Array(MAX_SUBPACKETS);

  // the sub-packet being built: its first layer, and its first layer of each role (-1 if none yet); plain fields
  // rather than an array, so that the JIT keeps them in registers
  private cStart = 0;
  private cEth = -1;
  private cV4 = -1;
  private cV6 = -1;
  private cTcp = -1;
  private cUdp = -1;
  private cSctp = -1;
  private cIcmp = -1;
  private cDns = -1;
  /** Header bytes of all layers so far. */
  private hdrAll = 0;
  private firstV4 = -1;
  /** Where decodeRare() left the decoding position. */
  private rarePos = 0;

  /** Appends a layer; returns its index. (The caller records its role in the sub-packet being built.) */
  private push(type: number, off: number, len: number, end: number, val: number): number {
    const n = this.n;
    this.types[n] = type;
    this.offs[n] = off;
    this.lens[n] = len;
    this.ends[n] = end;
    this.vals[n] = val;
    this.n = n + 1;
    this.hdrAll += len;
    return n;
  }

  /**
   * Ends the current sub-packet after the last added layer: after VXLAN, Geneve, the bottom MPLS label, and GRE
   * unless MPLS follows it. One with neither Ethernet nor IP is not ended: its layers become the start of the
   * next one.
   */
  private cut(): void {
    const eth = this.cEth;
    const net = this.cV4 >= 0 ? this.cV4 : this.cV6;
    if (eth < 0 && net < 0) return;
    const s = this.subCount;
    if (s >= MAX_SUBPACKETS) return;
    this.subStart[s] = this.cStart;
    this.subEnd[s] = this.n;
    this.subEth[s] = eth;
    this.subNet[s] = net;
    this.subTrans[s] = this.cTcp >= 0 ? this.cTcp : this.cUdp >= 0 ? this.cUdp : this.cSctp;
    this.subIcmp[s] = net >= 0 ? this.cIcmp : -1;
    this.subDns[s] = this.cDns;
    this.subCount = s + 1;
    this.subHdrBefore[s + 1] = this.hdrAll;
    this.cStart = this.n;
    this.resetRoles();
  }

  private resetRoles(): void {
    this.cEth = -1;
    this.cV4 = -1;
    this.cV6 = -1;
    this.cTcp = -1;
    this.cUdp = -1;
    this.cSctp = -1;
    this.cIcmp = -1;
    this.cDns = -1;
  }

  /** Decodes buf[off, off+caplen) captured with the given pcap link type. Returns the number of layers. */
  decode(buf: Uint8Array, off: number, caplen: number, linkType: number): number {
    this.view(buf);
    this.n = 0;
    this.malformed = false;
    this.fragLayer = -1;
    this.subCount = 0;
    this.subHdrBefore[0] = 0;
    this.cStart = 0;
    this.resetRoles();
    this.hdrAll = 0;
    this.firstV4 = -1;
    let next: number;
    if (linkType === LINKTYPE_ETHERNET) next = L_ETHERNET;
    else if (linkType === LINKTYPE_RAW || linkType === LINKTYPE_RAW_BSD || linkType === LINKTYPE_RAW_OPENBSD) next = D_RAWIP;
    else if (linkType === LINKTYPE_LINUX_SLL) next = L_LINUX_SLL;
    else {
      this.malformed = true;
      return 0;
    }
    const b = buf;
    const dv = this.dv;
    let pos = off;
    let end = off + caplen < buf.length ? off + caplen : buf.length;
    let prevType = 0;
    while (next !== 0 && this.n < MAX_LAYERS) {
      const avail = end - pos;
      // like gopacket, an empty payload is not decoded further
      if (avail <= 0) break;
      const cur = next;
      next = 0;
      switch (cur) {
        case L_ETHERNET: {
          if (avail < 14) {
            this.malformed = true;
            break;
          }
          const et = dv.getUint16(pos + 12);
          const i = this.push(L_ETHERNET, pos, 14, end, 0);
          if (this.cEth < 0) this.cEth = i;
          pos += 14;
          if (et <= 1500) {
            // 802.3 length field: the payload is LLC, any padding after it is not
            if (pos + et < end) end = pos + et;
            next = L_LLC;
          } else {
            next = etherNext(et);
          }
          break;
        }
        case L_DOT1Q: {
          if (avail < 4) {
            this.malformed = true;
            break;
          }
          this.push(L_DOT1Q, pos, 4, end, dv.getUint16(pos) & 0xfff);
          next = etherNext(dv.getUint16(pos + 2));
          pos += 4;
          break;
        }
        case L_IPV4: {
          if (avail < 20) {
            this.malformed = true;
            break;
          }
          const ihl = (b[pos] & 0x0f) << 2;
          if (ihl < 20 || ihl > avail) {
            this.malformed = true;
            break;
          }
          let tl = dv.getUint16(pos + 2);
          // a zero total length comes from TCP segmentation offload: the IP payload is the rest of the frame
          if (tl === 0) tl = avail;
          const reassembled = pos === this.reassembledAt;
          if (reassembled) tl = avail;
          if (tl < ihl) {
            // a bad total length still yields an IPv4 layer with its addresses, nothing after it
            this.addIPv4(pos, ihl, pos + ihl);
            this.malformed = true;
            break;
          }
          if (pos + tl < end) end = pos + tl;
          const ipIndex = this.addIPv4(pos, ihl, end);
          const proto = b[pos + 9];
          const fragField = dv.getUint16(pos + 6) & 0x3fff;
          pos += ihl;
          if (reassembled) {
            this.push(L_FRAGMENT, pos, 0, end, 0);
            next = ipNext(proto);
          } else if (fragField & 0x3fff) {
            // MF set or non-zero offset: the payload is a fragment, not decodable alone
            if (this.fragLayer < 0 && this.firstV4 === ipIndex) this.fragLayer = ipIndex;
            if (pos < end) this.push(L_FRAGMENT, pos, end - pos, end, 0);
          } else {
            next = ipNext(proto);
          }
          break;
        }
        case L_IPV6: {
          if (avail < 40) {
            this.malformed = true;
            break;
          }
          const plen = dv.getUint16(pos + 4);
          if (plen !== 0 && pos + 40 + plen < end) end = pos + 40 + plen;
          const i = this.push(L_IPV6, pos, 40, end, 0);
          if (this.cV6 < 0) this.cV6 = i;
          next = ipNext(b[pos + 6]);
          pos += 40;
          break;
        }
        case L_TCP: {
          if (avail < 20) {
            this.malformed = true;
            break;
          }
          const doff = (b[pos + 12] >> 4) << 2;
          if (doff < 20 || doff > avail) {
            this.malformed = true;
            break;
          }
          const i = this.push(L_TCP, pos, doff, end, 0);
          if (this.cTcp < 0) this.cTcp = i;
          const app = tcpPortNext(dv.getUint16(pos + 2));
          next = app !== 0 ? app : tcpPortNext(dv.getUint16(pos));
          pos += doff;
          break;
        }
        case L_UDP: {
          if (avail < 8) {
            this.malformed = true;
            break;
          }
          const ulen = dv.getUint16(pos + 4);
          if (ulen !== 0 && ulen < 8) {
            this.malformed = true;
            break;
          }
          if (ulen !== 0 && pos + ulen < end) end = pos + ulen;
          const i = this.push(L_UDP, pos, 8, end, 0);
          if (this.cUdp < 0) this.cUdp = i;
          const app = udpPortNext(dv.getUint16(pos + 2));
          next = app !== 0 ? app : udpPortNext(dv.getUint16(pos));
          pos += 8;
          break;
        }
        case L_ICMPV4: {
          if (avail < 8) {
            this.malformed = true;
            break;
          }
          const i = this.push(L_ICMPV4, pos, 8, end, 0);
          if (this.cIcmp < 0) this.cIcmp = i;
          break;
        }
        case L_VXLAN: {
          if (avail < 8) {
            this.malformed = true;
            break;
          }
          this.push(L_VXLAN, pos, 8, end, dv.getUint32(pos + 4) >>> 8);
          this.cut();
          pos += 8;
          next = L_ETHERNET;
          break;
        }
        case L_GENEVE: {
          if (avail < 8) {
            this.malformed = true;
            break;
          }
          const hl = 8 + ((b[pos] & 0x3f) << 2);
          if (hl > avail) {
            this.malformed = true;
            break;
          }
          let o = pos + 8;
          const optEnd = pos + hl;
          while (o < optEnd) {
            if (o + 4 > optEnd) break;
            o += 4 + ((b[o + 3] & 0x1f) << 2);
          }
          if (o !== optEnd) {
            this.malformed = true;
            break;
          }
          this.push(L_GENEVE, pos, hl, end, dv.getUint32(pos + 4) >>> 8);
          this.cut();
          next = etherNext(dv.getUint16(pos + 2));
          pos += hl;
          break;
        }
        case L_GRE: {
          if (avail < 4) {
            this.malformed = true;
            break;
          }
          const f = b[pos];
          let hl = 4;
          if (f & 0xc0) hl += 4; // checksum and/or routing present: checksum + offset word
          let key = 0;
          if (f & 0x20) {
            const k = pos + hl;
            if (hl + 4 <= avail) key = dv.getUint32(k);
            hl += 4;
          }
          if (f & 0x10) hl += 4; // sequence number
          if (b[pos + 1] & 0x80) hl += 4; // acknowledgment number (GRE version 1)
          if (f & 0x40) hl = greRoutingEnd(b, pos, hl, avail);
          if (hl > avail) {
            this.malformed = true;
            break;
          }
          this.push(L_GRE, pos, hl, end, key);
          next = etherNext(dv.getUint16(pos + 2));
          // GRE ends its level, unless an MPLS stack follows: the level then ends after the stack
          if (next !== L_MPLS) this.cut();
          pos += hl;
          break;
        }
        default:
          next = this.decodeRare(cur, pos, end, prevType);
          pos = this.rarePos;
          break;
      }
      prevType = cur;
    }
    // the rest after the last cut is the innermost sub-packet (dropped if it has neither Ethernet nor IP)
    if (this.n > this.cStart) this.cut();
    return this.n;
  }

  /** Makes buf the decoder's buffer; returns its DataView. */
  view(buf: Uint8Array): DataView {
    if (buf !== this.buf) {
      // a capture reader reuses one buffer: the view is made again only when the caller passes another one
      this.buf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.dv;
  }

  private addIPv4(pos: number, ihl: number, end: number): number {
    const i = this.push(L_IPV4, pos, ihl, end, 0);
    if (this.cV4 < 0) this.cV4 = i;
    if (this.firstV4 < 0) this.firstV4 = i;
    return i;
  }

  /**
   * The layers that decode() does not handle itself: decodes layer `cur` at pos (payload up to end), leaves the
   * next position in rarePos and returns the next decoder (0 = stop).
   */
  private decodeRare(cur: number, pos: number, end: number, prevType: number): number {
    const b = this.buf;
    const avail = end - pos;
    let next = 0;
    switch (cur) {
      case D_RAWIP: {
        const v = b[pos] >> 4;
        if (v === 4) next = L_IPV4;
        else if (v === 6) next = L_IPV6;
        else this.malformed = true;
        break;
      }
      case L_IPV6_HOPBYHOP:
      case L_IPV6_ROUTING:
      case L_IPV6_DESTINATION: {
        if (avail < 8) {
          this.malformed = true;
          break;
        }
        const hl = (b[pos + 1] + 1) << 3;
        if (hl > avail) {
          this.malformed = true;
          break;
        }
        this.push(cur, pos, hl, end, 0);
        next = ipNext(b[pos]);
        pos += hl;
        break;
      }
      case L_IPV6_FRAGMENT: {
        if (avail < 8) {
          this.malformed = true;
          break;
        }
        this.push(L_IPV6_FRAGMENT, pos, 8, end, 0);
        pos += 8;
        if (pos < end) this.push(L_FRAGMENT, pos, end - pos, end, 0);
        break;
      }
      case L_IPSEC_AH: {
        if (avail < 12) {
          this.malformed = true;
          break;
        }
        const hl = (b[pos + 1] + 2) << 2;
        if (hl > avail) {
          this.malformed = true;
          break;
        }
        this.push(L_IPSEC_AH, pos, hl, end, 0);
        next = ipNext(b[pos]);
        pos += hl;
        break;
      }
      case L_ICMPV6: {
        if (avail < 4) {
          this.malformed = true;
          break;
        }
        const i = this.push(L_ICMPV6, pos, 4, end, 0);
        if (this.cIcmp < 0) this.cIcmp = i;
        const t = b[pos];
        pos += 4;
        const rest = end - pos;
        if (t === 128 || t === 129) {
          if (rest >= 4) this.push(L_ICMPV6_ECHO, pos, 4, end, 0);
          else if (rest > 0) this.malformed = true;
        } else if (t === 133) {
          if (rest >= 4) this.push(L_ICMPV6_ROUTER_SOLICITATION, pos, rest, end, 0);
        } else if (t === 134) {
          if (rest >= 12) this.push(L_ICMPV6_ROUTER_ADVERTISEMENT, pos, rest, end, 0);
        } else if (t === 135) {
          if (rest >= 20) this.push(L_ICMPV6_NEIGHBOR_SOLICITATION, pos, rest, end, 0);
        } else if (t === 136) {
          if (rest >= 20) this.push(L_ICMPV6_NEIGHBOR_ADVERTISEMENT, pos, rest, end, 0);
        } else if (t === 137) {
          if (rest >= 36) this.push(L_ICMPV6_REDIRECT, pos, rest, end, 0);
        }
        break;
      }
      case D_ERSPAN: {
        // ERSPAN type II: an 8-byte header (not a layer of its own), then the mirrored Ethernet frame
        if (avail < 8) {
          this.malformed = true;
          break;
        }
        pos += 8;
        next = L_ETHERNET;
        break;
      }
      case L_MPLS: {
        if (avail < 4) {
          this.malformed = true;
          break;
        }
        const bottom = b[pos + 2] & 1;
        this.push(L_MPLS, pos, 4, end, (b[pos] << 12) | (b[pos + 1] << 4) | (b[pos + 2] >> 4));
        pos += 4;
        if (bottom) {
          this.cut();
          next = D_MPLS_PAYLOAD;
        } else {
          next = L_MPLS;
        }
        break;
      }
      case D_MPLS_PAYLOAD: {
        // as skydive's MPLS payload decoder: IP when the version nibble says so and the header fits, else Ethernet
        const v = b[pos] >> 4;
        const ihl = (b[pos] & 0x0f) << 2;
        if (v === 4 && avail >= 20 && ihl >= 20 && ihl <= avail) next = L_IPV4;
        else if (v === 6 && avail >= 40) next = L_IPV6;
        else next = L_ETHERNET;
        break;
      }
      case L_ARP: {
        if (avail < 8) {
          this.malformed = true;
          break;
        }
        const total = 8 + 2 * (b[pos + 4] + b[pos + 5]);
        if (total > avail) {
          this.malformed = true;
          break;
        }
        this.push(L_ARP, pos, total, end, 0);
        break;
      }
      case L_SCTP: {
        if (avail < 12) {
          this.malformed = true;
          break;
        }
        const i = this.push(L_SCTP, pos, 12, end, 0);
        if (this.cSctp < 0) this.cSctp = i;
        pos += 12;
        while (pos < end && this.n < MAX_LAYERS) {
          if (end - pos < 4) {
            this.malformed = true;
            break;
          }
          const clen = (b[pos + 2] << 8) | b[pos + 3];
          if (clen < 4 || pos + clen > end) {
            this.malformed = true;
            break;
          }
          const padded = (clen + 3) & ~3;
          this.push(sctpChunkLayer(b[pos]), pos, Math.min(padded, end - pos), end, 0);
          pos += padded;
        }
        break;
      }
      case L_IGMP: {
        if (avail < 8) {
          this.malformed = true;
          break;
        }
        this.push(L_IGMP, pos, avail, end, 0);
        break;
      }
      case L_VRRPV2: {
        const count = avail >= 4 ? b[pos + 3] : 0;
        if (avail >= 8 && b[pos] >> 4 === 2 && 16 + 4 * count <= avail) this.push(L_VRRPV2, pos, avail, end, 0);
        break;
      }
      case L_IPSEC_ESP: {
        if (avail < 8) {
          this.malformed = true;
          break;
        }
        this.push(L_IPSEC_ESP, pos, avail, end, 0);
        break;
      }
      case L_LLC: {
        if (avail < 3) {
          this.malformed = true;
          break;
        }
        const dsap = b[pos];
        const ssap = b[pos + 1];
        const hl = (b[pos + 2] & 3) === 3 ? 3 : 4;
        if (hl > avail) {
          this.malformed = true;
          break;
        }
        this.push(L_LLC, pos, hl, end, 0);
        pos += hl;
        if (dsap === 0xaa && ssap === 0xaa) {
          if (end - pos >= 5) {
            this.push(L_SNAP, pos, 5, end, 0);
            next = etherNext((b[pos + 3] << 8) | b[pos + 4]);
            pos += 5;
          } else if (end > pos) this.malformed = true;
        } else if (dsap === 0x42 && ssap === 0x42 && end - pos >= 4) {
          this.push(L_STP, pos, end - pos, end, 0);
        }
        break;
      }
      case L_LINUX_SLL: {
        if (avail < 16) {
          this.malformed = true;
          break;
        }
        this.push(L_LINUX_SLL, pos, 16, end, 0);
        next = etherNext((b[pos + 14] << 8) | b[pos + 15]);
        pos += 16;
        break;
      }
      case L_GTPV1U: {
        const hl = gtpv1uHeaderLength(b, pos, end);
        if (hl < 0) break;
        this.push(L_GTPV1U, pos, hl, end, 0);
        pos += hl;
        if (pos < end) {
          const v = b[pos] >> 4;
          if (v === 4) next = L_IPV4;
          else if (v === 6) next = L_IPV6;
        }
        break;
      }
      case L_DNS: {
        if (applicationLayerPresent(L_DNS, b, pos, end, prevType)) {
          // DNS over TCP carries a 2-byte length prefix before the message
          const msg = prevType === L_TCP ? pos + 2 : pos;
          const i = this.push(L_DNS, msg, end - msg, end, 0);
          if (this.cDns < 0) this.cDns = i;
        }
        break;
      }
      case L_TLS:
      case L_NTP:
      case L_DHCPV4:
      case L_DHCPV6:
      case L_SIP:
      case L_SFLOW:
      case L_BFD:
      case L_MODBUSTCP:
        if (applicationLayerPresent(cur, b, pos, end, prevType)) this.push(cur, pos, avail, end, 0);
        break;
      default:
        break;
    }
    this.rarePos = pos;
    return next;
  }

  /**
   * Number of sub-packets of the decoded packet, one per encapsulation level: layers [subStart, subEnd), with
   * their Ethernet, network (first IPv4, else first IPv6), transport (TCP, else UDP, else SCTP), ICMP and DNS
   * layers in subEth... (-1 if none). A level that has neither Ethernet nor IP is merged into the next one; if
   * nothing follows, it is dropped. (Computed by decode; an MPLS stack is one level.)
   */
  split(): number {
    return this.subCount;
  }

  /**
   * Length of the whole packet as skydive counts it: the wire length for an Ethernet frame, the IPv4 total
   * length or the IPv6 payload length for a raw IP packet.
   */
  outerLength(wireLen: number): number {
    if (this.n === 0) return 0;
    const t = this.types[0];
    const o = this.offs[0];
    const b = this.buf;
    if (t === L_ETHERNET) return wireLen > 0 ? wireLen : this.ends[0] - o;
    if (t === L_IPV4) return (b[o + 2] << 8) | b[o + 3];
    if (t === L_IPV6) return (b[o + 4] << 8) | b[o + 5];
    if (t === L_LINUX_SLL) return wireLen > 0 ? wireLen : this.ends[0] - o;
    return 0;
  }

  /** IPv4 total length or IPv6 payload length of the network layer at index i. */
  ipLengthField(i: number): number {
    const o = this.offs[i];
    const b = this.buf;
    if (this.types[i] === L_IPV4) {
      const tl = (b[o + 2] << 8) | b[o + 3];
      return tl !== 0 ? tl : this.ends[i] - o;
    }
    return (b[o + 4] << 8) | b[o + 5];
  }

  /** Index of the layer that gives a sub-packet's Network.ID (last VXLAN, GRE or Geneve), or -1. */
  tunnelLayer(s: number): number {
    for (let i = this.subEnd[s] - 1; i >= this.subStart[s]; i--) {
      const t = this.types[i];
      if (t === L_VXLAN || t === L_GRE || t === L_GENEVE) return i;
    }
    return -1;
  }
}
