import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../common/errors.js';

/**
 * Frames for packet injection: Ethernet + IPv4/IPv6 + ICMP echo request / TCP SYN / UDP, with every checksum the
 * receiving kernel verifies, so that the real kernels of the lab answer them (echo replies, RSTs, port unreachables).
 */

export const INJECTION_TYPES = ['icmp4', 'icmp6', 'tcp4', 'tcp6', 'udp4', 'udp6'] as const;
export type InjectionType = (typeof INJECTION_TYPES)[number];

export interface FrameSpec {
  type: InjectionType;
  srcMAC: string;
  dstMAC: string;
  srcIP: string;
  dstIP: string;
  /** TCP/UDP ports. */
  srcPort?: number;
  dstPort?: number;
  /** ICMP echo identifier and sequence number. */
  icmpID?: number;
  icmpSeq?: number;
  /** IPv4 TTL / IPv6 hop limit, default 64. */
  ttl?: number;
  payload?: Uint8Array;
  /** IPv4 identification field (lets the receiver tell retransmissions apart), default 0. */
  ipID?: number;
}

const ETH_HLEN = 14;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;
const ICMP_HLEN = 8;
const TCP_HLEN = 20;
const UDP_HLEN = 8;

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;

export function isIPv6Type(type: InjectionType): boolean {
  return type.endsWith('6');
}

export function parseMAC(mac: string): Buffer {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(mac.trim());
  if (!m) throw new UsageError('SKYDIVE_INJECT_BAD_MAC', `invalid MAC address '${mac}'`);
  return Buffer.from(m.slice(1).map((h) => parseInt(h, 16)));
}

export function parseIPv4(ip: string): Buffer {
  if (!isIPv4(ip)) throw new UsageError('SKYDIVE_INJECT_BAD_IP', `invalid IPv4 address '${ip}'`);
  return Buffer.from(ip.split('.').map(Number));
}

export function parseIPv6(ip: string): Buffer {
  if (!isIPv6(ip)) throw new UsageError('SKYDIVE_INJECT_BAD_IP', `invalid IPv6 address '${ip}'`);
  let s = ip;
  // an embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = parseIPv4(v4[1]);
    s = s.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

/** RFC 1071 one's-complement sum of buf[start, end), folded, not inverted; `initial` chains pseudo-headers. */
function onesSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function finish(sum: number): number {
  return ~sum & 0xffff;
}

/** Internet checksum of buf[start, end). */
export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return finish(onesSum(buf, start, end));
}

function pseudoHeaderSum(src: Buffer, dst: Buffer, proto: number, length: number): number {
  let sum = onesSum(src, 0, src.length);
  sum = onesSum(dst, 0, dst.length, sum);
  // IPv4: zero/proto/length16; IPv6: length32/zero24/next header, which sums the same for lengths < 65536
  sum += proto + (length & 0xffff) + (length >>> 16);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function checkPort(p: number | undefined, what: string): number {
  const v = p ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new UsageError('SKYDIVE_INJECT_BAD_PORT', `invalid ${what} ${p}`);
  return v;
}

/** Builds one complete Ethernet frame. */
export function buildFrame(spec: FrameSpec): Buffer {
  const v6 = isIPv6Type(spec.type);
  const src = v6 ? parseIPv6(spec.srcIP) : parseIPv4(spec.srcIP);
  const dst = v6 ? parseIPv6(spec.dstIP) : parseIPv4(spec.dstIP);
  const payload = spec.payload ?? new Uint8Array(0);
  const l4 = spec.type.slice(0, -1);
  const l4hlen = l4 === 'tcp' ? TCP_HLEN : l4 === 'udp' ? UDP_HLEN : ICMP_HLEN;
  const l4len = l4hlen + payload.length;
  const iphlen = v6 ? IPV6_HLEN : IPV4_HLEN;
  if (l4len + (v6 ? 0 : iphlen) > 65535) throw new UsageError('SKYDIVE_INJECT_BAD_PAYLOAD', `payload of ${payload.length} bytes is too large`);
  const ttl = spec.ttl ?? 64;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) throw new UsageError('SKYDIVE_INJECT_BAD_TTL', `invalid TTL ${spec.ttl}`);
  const proto = l4 === 'tcp' ? PROTO_TCP : l4 === 'udp' ? PROTO_UDP : v6 ? PROTO_ICMPV6 : PROTO_ICMP;

  const frame = Buffer.alloc(ETH_HLEN + iphlen + l4len);
  parseMAC(spec.dstMAC).copy(frame, 0);
  parseMAC(spec.srcMAC).copy(frame, 6);
  frame.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);

  const ip = ETH_HLEN;
  if (v6) {
    frame.writeUInt32BE(0x60000000, ip);
    frame.writeUInt16BE(l4len, ip + 4);
    frame[ip + 6] = proto;
    frame[ip + 7] = ttl;
    src.copy(frame, ip + 8);
    dst.copy(frame, ip + 24);
  } else {
    frame[ip] = 0x45;
    frame.writeUInt16BE(iphlen + l4len, ip + 2);
    frame.writeUInt16BE((spec.ipID ?? 0) & 0xffff, ip + 4);
    frame.writeUInt16BE(0x4000, ip + 6); // DF
    frame[ip + 8] = ttl;
    frame[ip + 9] = proto;
    src.copy(frame, ip + 12);
    dst.copy(frame, ip + 16);
    frame.writeUInt16BE(internetChecksum(frame, ip, ip + iphlen), ip + 10);
  }

  const t = ip + iphlen;
  frame.set(payload, t + l4hlen);
  let csumAt: number;
  if (l4 === 'icmp') {
    frame[t] = v6 ? 128 : 8; // echo request
    frame.writeUInt16BE((spec.icmpID ?? 0) & 0xffff, t + 4);
    frame.writeUInt16BE((spec.icmpSeq ?? 0) & 0xffff, t + 6);
    csumAt = t + 2;
  } else if (l4 === 'tcp') {
    frame.writeUInt16BE(checkPort(spec.srcPort, 'source port'), t);
    frame.writeUInt16BE(checkPort(spec.dstPort, 'destination port'), t + 2);
    frame.writeUInt32BE(((spec.icmpSeq ?? 0) * 2654435761) >>> 0, t + 4); // initial sequence number
    frame[t + 12] = (TCP_HLEN / 4) << 4;
    frame[t + 13] = 0x02; // SYN
    frame.writeUInt16BE(64240, t + 14);
    csumAt = t + 16;
  } else {
    frame.writeUInt16BE(checkPort(spec.srcPort, 'source port'), t);
    frame.writeUInt16BE(checkPort(spec.dstPort, 'destination port'), t + 2);
    frame.writeUInt16BE(l4len, t + 4);
    csumAt = t + 6;
  }
  // ICMPv4 has no pseudo-header; ICMPv6, TCP and UDP (both versions) do
  const initial = l4 === 'icmp' && !v6 ? 0 : pseudoHeaderSum(src, dst, proto, l4len);
  let csum = finish(onesSum(frame, t, t + l4len, initial));
  if (l4 === 'udp' && csum === 0) csum = 0xffff; // 0 means "no checksum" in UDP
  frame.writeUInt16BE(csum, csumAt);
  return frame;
}

/** Broadcast ARP request for `targetIP` (resolving the destination MAC when the kernel has no neighbour entry). */
export function buildARPRequest(srcMAC: string, srcIP: string, targetIP: string): Buffer {
  const f = Buffer.alloc(42);
  f.fill(0xff, 0, 6);
  const mac = parseMAC(srcMAC);
  mac.copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14); // Ethernet
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(1, 20); // request
  mac.copy(f, 22);
  parseIPv4(srcIP).copy(f, 28);
  parseIPv4(targetIP).copy(f, 38);
  return f;
}

/** ICMPv6 Neighbor Solicitation for `targetIP`, to its solicited-node multicast address. */
export function buildNeighborSolicitation(srcMAC: string, srcIP: string, targetIP: string): Buffer {
  const target = parseIPv6(targetIP);
  const src = parseIPv6(srcIP);
  const dst = Buffer.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13], target[14], target[15]]);
  const mac = parseMAC(srcMAC);
  const l4len = 8 + 16 + 8;
  const f = Buffer.alloc(ETH_HLEN + IPV6_HLEN + l4len);
  Buffer.from([0x33, 0x33, 0xff, target[13], target[14], target[15]]).copy(f, 0);
  mac.copy(f, 6);
  f.writeUInt16BE(0x86dd, 12);
  const ip = ETH_HLEN;
  f.writeUInt32BE(0x60000000, ip);
  f.writeUInt16BE(l4len, ip + 4);
  f[ip + 6] = PROTO_ICMPV6;
  f[ip + 7] = 255; // RFC 4861: hop limit 255
  src.copy(f, ip + 8);
  dst.copy(f, ip + 24);
  const t = ip + IPV6_HLEN;
  f[t] = 135;
  target.copy(f, t + 8);
  f[t + 24] = 1; // source link-layer address option
  f[t + 25] = 1;
  mac.copy(f, t + 26);
  f.writeUInt16BE(finish(onesSum(f, t, t + l4len, pseudoHeaderSum(src, dst, PROTO_ICMPV6, l4len))), t + 2);
  return f;
}

function macString(b: Uint8Array, o: number): string {
  const h: string[] = [];
  for (let i = 0; i < 6; i++) h.push(b[o + i].toString(16).padStart(2, '0'));
  return h.join(':');
}

/**
 * The MAC that a frame announces for `ip`: an ARP reply from it, or an ICMPv6 Neighbor Advertisement for it
 * (target link-layer option, else the frame's source); undefined for any other frame.
 */
export function neighbourAnswer(frame: Uint8Array, caplen: number, ip: string): string | undefined {
  if (caplen < 14) return undefined;
  const type = (frame[12] << 8) | frame[13];
  if (type === 0x0806 && caplen >= 42 && ((frame[20] << 8) | frame[21]) === 2) {
    const want = parseIPv4(ip);
    for (let i = 0; i < 4; i++) if (frame[28 + i] !== want[i]) return undefined;
    return macString(frame, 22);
  }
  if (type === 0x86dd && caplen >= 14 + 40 + 24 && frame[20] === PROTO_ICMPV6 && frame[54] === 136) {
    const want = parseIPv6(ip);
    for (let i = 0; i < 16; i++) if (frame[62 + i] !== want[i]) return undefined;
    for (let o = 78; o + 8 <= caplen; ) {
      const len = frame[o + 1] * 8;
      if (len === 0) break;
      if (frame[o] === 2) return macString(frame, o + 2);
      o += len;
    }
    return macString(frame, 6);
  }
  return undefined;
}
