import { udpPortNext } from './decoder.js';
import { L_GENEVE, L_GRE, L_GTPV1U, L_MPLS, L_TCP, L_UDP, L_VXLAN } from './layers.js';

/**
 * Parser of the packets that make most of the traffic: Ethernet frames (802.1Q/802.1ad tags allowed) carrying
 * IPv4 or IPv6 with TCP, UDP or ICMPv4, and the VXLAN, Geneve and GRE (Ethernet over GRE) tunnels that carry
 * such frames. Per encapsulation level it writes exactly what the flow table's key and counters read, and what
 * a new flow needs besides (802.1Q tags and VLAN ids, the tunnel's VNI or key), without PacketDecoder's
 * layer-by-layer bookkeeping.
 *
 * Anything else (another protocol, an application port that changes the levels, a malformed or truncated
 * header, an IPv4 fragment, a deeper stack) makes parse() return 0 and the packet goes through PacketDecoder.
 * For every packet that parse() accepts, PacketDecoder finds the same levels, with nothing malformed: the table
 * creates flows from these levels, rebuilding the layers the decoder would find (FlowTable.createFastFlow).
 */

/** At most this many levels (a deeper stack goes through PacketDecoder). */
export const FAST_MAX_LEVELS = 4;
/** At most this many 802.1Q tags per level. */
const MAX_TAGS = 2;

// fields of a level in FastParser.lv (offsets are absolute in the buffer, -1 when absent)
/** Ethernet header. */
export const LV_ETH = 0;
/** Bytes from the Ethernet header to the end of the level's data (bounded by lengths and the capture). */
export const LV_ETH_SPAN = 1;
/** IPv4 or IPv6 header. */
export const LV_NET = 2;
/** 1 for IPv4, 0 for IPv6. */
export const LV_V4 = 3;
/** The IPv4 total length (or captured IP bytes when it is 0), or the IPv6 payload length. */
export const LV_IP_LEN = 4;
/** TCP or UDP header. */
export const LV_TR = 5;
export const LV_TR_TYPE = 6;
export const LV_TR_HDR = 7;
/** End of the transport layer's data. */
export const LV_TR_END = 8;
/** VNI of a VXLAN or Geneve level (its UDP ports are not part of its key), -1 otherwise. */
export const LV_TUNNEL = 9;
/** ICMPv4 header. */
export const LV_ICMP = 10;
/** Layer type after the network layer when there is no transport and no ICMP (GRE). */
export const LV_AFTER = 11;
/** Header bytes of every layer before the level (its byte count is the packet's length minus those). */
export const LV_HDR_BEFORE = 12;
/** 802.1Q tags of the level, and their VLAN ids as Link.ID (outermost in the low 12 bits). */
export const LV_TAGS = 13;
export const LV_LINK_ID = 14;
/** Network.ID: the value of the level's tunnel layer (VXLAN or Geneve VNI, GRE key), 0 without one. */
export const LV_NET_ID = 15;
export const LV_STRIDE = 16;

export class FastParser {
  /** The levels of the last parsed packet, LV_STRIDE fields each. */
  readonly lv = new Int32Array(FAST_MAX_LEVELS * LV_STRIDE);

  /** Parses the Ethernet frame b[off, off+caplen); returns its number of levels, 0 when it is not for this parser. */
  parse(b: Uint8Array, dv: DataView, off: number, caplen: number): number {
    const lv = this.lv;
    let end = off + caplen < b.length ? off + caplen : b.length;
    let pos = off;
    let hdr = 0;
    for (let k = 0; k < FAST_MAX_LEVELS; k++) {
      const l = k * LV_STRIDE;
      if (end - pos < 14) return 0;
      lv[l + LV_HDR_BEFORE] = hdr;
      lv[l + LV_ETH] = pos;
      lv[l + LV_ETH_SPAN] = end - pos;
      let et = dv.getUint16(pos + 12);
      pos += 14;
      hdr += 14;
      let tags = 0;
      let linkId = 0;
      for (; et === 0x8100 || et === 0x88a8; tags++) {
        if (tags === MAX_TAGS || end - pos < 4) return 0;
        linkId += (dv.getUint16(pos) & 0xfff) * (tags === 0 ? 1 : 4096);
        et = dv.getUint16(pos + 2);
        pos += 4;
        hdr += 4;
      }
      lv[l + LV_TAGS] = tags;
      lv[l + LV_LINK_ID] = linkId;
      lv[l + LV_NET_ID] = 0;
      let proto: number;
      lv[l + LV_NET] = pos;
      if (et === 0x0800) {
        const avail = end - pos;
        if (avail < 20) return 0;
        const ihl = (b[pos] & 0x0f) << 2;
        if (ihl < 20 || ihl > avail) return 0;
        const tl = dv.getUint16(pos + 2);
        // a zero total length (segmentation offload) means the rest of the frame
        if (tl !== 0) {
          if (tl < ihl) return 0;
          if (pos + tl < end) end = pos + tl;
        }
        // fragments are defragmented or make a Fragment level: PacketDecoder's business
        if (dv.getUint16(pos + 6) & 0x3fff) return 0;
        lv[l + LV_V4] = 1;
        lv[l + LV_IP_LEN] = tl !== 0 ? tl : end - pos;
        proto = b[pos + 9];
        pos += ihl;
        hdr += ihl;
      } else if (et === 0x86dd) {
        if (end - pos < 40) return 0;
        const plen = dv.getUint16(pos + 4);
        if (plen !== 0 && pos + 40 + plen < end) end = pos + 40 + plen;
        lv[l + LV_V4] = 0;
        lv[l + LV_IP_LEN] = plen;
        proto = b[pos + 6];
        pos += 40;
        hdr += 40;
      } else {
        return 0;
      }
      const avail = end - pos;
      // an empty IP payload ends the decoding there: PacketDecoder's business
      if (avail <= 0) return 0;
      lv[l + LV_TR] = -1;
      lv[l + LV_TUNNEL] = -1;
      lv[l + LV_ICMP] = -1;
      if (proto === 6) {
        if (avail < 20) return 0;
        const doff = (b[pos + 12] >> 4) << 2;
        if (doff < 20 || doff > avail) return 0;
        lv[l + LV_TR] = pos;
        lv[l + LV_TR_TYPE] = L_TCP;
        lv[l + LV_TR_HDR] = doff;
        lv[l + LV_TR_END] = end;
        return k + 1;
      }
      if (proto === 17) {
        if (avail < 8) return 0;
        const ulen = dv.getUint16(pos + 4);
        if (ulen !== 0) {
          if (ulen < 8) return 0;
          if (pos + ulen < end) end = pos + ulen;
        }
        lv[l + LV_TR] = pos;
        lv[l + LV_TR_TYPE] = L_UDP;
        lv[l + LV_TR_HDR] = 8;
        lv[l + LV_TR_END] = end;
        const app = udpPortNext(dv.getUint16(pos + 2));
        const next = app !== 0 ? app : udpPortNext(dv.getUint16(pos));
        pos += 8;
        hdr += 8;
        const rest = end - pos;
        if (next === L_VXLAN) {
          if (rest < 8) return 0;
          lv[l + LV_TUNNEL] = lv[l + LV_NET_ID] = dv.getUint32(pos + 4) >>> 8;
          pos += 8;
          hdr += 8;
        } else if (next === L_GENEVE) {
          if (rest < 8) return 0;
          const hl = 8 + ((b[pos] & 0x3f) << 2);
          if (hl > rest || dv.getUint16(pos + 2) !== 0x6558) return 0;
          let o = pos + 8;
          while (o + 4 <= pos + hl) o += 4 + ((b[o + 3] & 0x1f) << 2);
          if (o !== pos + hl) return 0;
          lv[l + LV_TUNNEL] = lv[l + LV_NET_ID] = dv.getUint32(pos + 4) >>> 8;
          pos += hl;
          hdr += hl;
        } else if (next === L_MPLS || next === L_GTPV1U) {
          // MPLS over UDP cuts the level, GTP-U carries IP inside it: PacketDecoder's business
          return 0;
        } else {
          // any other application layer stays in the level
          return k + 1;
        }
      } else if (proto === 1 && lv[l + LV_V4] === 1) {
        if (avail < 8) return 0;
        lv[l + LV_ICMP] = pos;
        return k + 1;
      } else if (proto === 47) {
        // GRE version 0 without checksum, routing or sequence number (a key is fine), carrying Ethernet
        if (avail < 4 || (b[pos] & ~0x20) !== 0 || b[pos + 1] !== 0) return 0;
        const hl = b[pos] === 0 ? 4 : 8;
        if (hl > avail || dv.getUint16(pos + 2) !== 0x6558) return 0;
        lv[l + LV_AFTER] = L_GRE;
        // the key, when the K flag is set
        lv[l + LV_NET_ID] = hl === 8 ? dv.getInt32(pos + 4) : 0;
        pos += hl;
        hdr += hl;
      } else {
        return 0;
      }
      // a tunnel level: the next level is the Ethernet frame it carries, if any
      if (end - pos <= 0) return 0;
    }
    return 0;
  }
}
