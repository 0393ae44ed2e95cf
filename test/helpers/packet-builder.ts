/**
 * Test packet builder: a fluent stack of layers, outermost first, encoded by build() with every "next
 * protocol", length and checksum field filled from the layers that follow.
 *
 *   const frame = new PacketBuilder()
 *     .ethernet('02:00:00:00:00:01', '02:00:00:00:00:02')
 *     .ipv4('10.0.0.1', '10.0.0.2')
 *     .udp(40000, 4789).vxlan(42)
 *     .ethernet('02:00:00:00:01:01', '02:00:00:00:01:02')
 *     .ipv4('192.168.0.1', '192.168.0.2').icmpv4Echo(8, 7, 1)
 *     .build();
 *
 * Fields a test wants to break (lengths, next-protocol) can be forced through the options.
 */

export function mac(s: string): Uint8Array {
  const parts = s.split(':');
  if (parts.length !== 6) throw new Error(`bad MAC ${s}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function ip4(s: string): Uint8Array {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4 ${s}`);
  return Uint8Array.from(parts);
}

export function ip6(s: string): Uint8Array {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new Error(`bad IPv6 ${s}`);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Internet checksum (RFC 1071). */
export function inetChecksum(...parts: Uint8Array[]): number {
  const data = concat(...parts);
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += (data[i] << 8) | (i + 1 < data.length ? data[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function be16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}
function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** TCP flags from letters: F S R P A U E C (e.g. 'SA' = SYN+ACK). */
export function tcpFlags(s: string): number {
  const bits: Record<string, number> = { F: 1, S: 2, R: 4, P: 8, A: 16, U: 32, E: 64, C: 128 };
  let v = 0;
  for (const c of s.toUpperCase()) {
    if (!(c in bits)) throw new Error(`bad TCP flag ${c}`);
    v |= bits[c];
  }
  return v;
}

export interface IPv4Options {
  ttl?: number;
  id?: number;
  tos?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In bytes (a multiple of 8). */
  fragmentOffset?: number;
  /** Protocol number, else from the next layer. */
  protocol?: number;
  /** Total length field, else header + payload. */
  totalLength?: number;
  /** Extra header bytes (options), a multiple of 4. */
  options?: Uint8Array;
}
export interface IPv6Options {
  hopLimit?: number;
  nextHeader?: number;
  payloadLength?: number;
  flowLabel?: number;
}
export interface TCPOptions {
  seq?: number;
  ack?: number;
  flags?: string;
  window?: number;
}
export interface GREOptions {
  key?: number;
  seq?: number;
  checksum?: boolean;
  protocol?: number;
}
export interface ArpOptions {
  op?: number;
  senderMAC: string;
  senderIP: string;
  targetMAC?: string;
  targetIP: string;
}
export interface SCTPChunk {
  type: number;
  flags?: number;
  data?: Uint8Array;
}

type Layer =
  | { kind: 'ethernet'; src: Uint8Array; dst: Uint8Array; type?: number }
  | { kind: 'dot1q'; vid: number; pcp: number; tpid: number; type?: number }
  | { kind: 'mpls'; label: number; ttl: number; tc: number; bottom?: boolean }
  | { kind: 'ipv4'; src: Uint8Array; dst: Uint8Array; o: IPv4Options }
  | { kind: 'ipv6'; src: Uint8Array; dst: Uint8Array; o: IPv6Options }
  | { kind: 'ipv6ext'; nh: number; body: Uint8Array }
  | { kind: 'ipv6frag'; offset: number; more: boolean; id: number }
  | { kind: 'tcp'; sport: number; dport: number; o: TCPOptions }
  | { kind: 'udp'; sport: number; dport: number; length?: number }
  | { kind: 'sctp'; sport: number; dport: number; chunks: SCTPChunk[] }
  | { kind: 'icmpv4'; type: number; code: number; rest: number }
  | { kind: 'icmpv6'; type: number; code: number }
  | { kind: 'icmpv6echo'; id: number; seq: number }
  | { kind: 'arp'; o: ArpOptions }
  | { kind: 'gre'; o: GREOptions }
  | { kind: 'erspan2'; session: number }
  | { kind: 'vxlan'; vni: number }
  | { kind: 'geneve'; vni: number; options: Uint8Array; protocol?: number }
  | { kind: 'raw'; bytes: Uint8Array };

/** EtherType announcing a layer (Ethernet, Dot1Q, GRE, Geneve "next protocol" fields). */
function etherTypeOf(next: Layer | undefined): number {
  switch (next?.kind) {
    case 'ipv4':
      return 0x0800;
    case 'ipv6':
      return 0x86dd;
    case 'arp':
      return 0x0806;
    case 'dot1q':
      return next.tpid;
    case 'mpls':
      return 0x8847;
    case 'ethernet':
      return 0x6558;
    case 'erspan2':
      return 0x88be;
    default:
      return 0x88b5; // local experimental EtherType: "nothing we decode"
  }
}

/** IP protocol number announcing a layer. */
function ipProtoOf(next: Layer | undefined): number {
  switch (next?.kind) {
    case 'tcp':
      return 6;
    case 'udp':
      return 17;
    case 'icmpv4':
      return 1;
    case 'icmpv6':
      return 58;
    case 'gre':
      return 47;
    case 'ipv4':
      return 4;
    case 'ipv6':
      return 41;
    case 'sctp':
      return 132;
    case 'mpls':
      return 137;
    case 'ipv6ext':
      return next.nh;
    case 'ipv6frag':
      return 44;
    default:
      return 253; // experimental
  }
}

export class PacketBuilder {
  private readonly layers: Layer[] = [];

  ethernet(src: string, dst: string, type?: number): this {
    this.layers.push({ kind: 'ethernet', src: mac(src), dst: mac(dst), type });
    return this;
  }
  /** 802.1Q tag (tpid 0x8100) or 802.1ad service tag (tpid 0x88a8). */
  dot1q(vid: number, opts: { pcp?: number; tpid?: number; type?: number } = {}): this {
    this.layers.push({ kind: 'dot1q', vid, pcp: opts.pcp ?? 0, tpid: opts.tpid ?? 0x8100, type: opts.type });
    return this;
  }
  /** One MPLS label; the bottom-of-stack bit is set on the last label of a run unless `bottom` says otherwise. */
  mpls(label: number, opts: { ttl?: number; tc?: number; bottom?: boolean } = {}): this {
    this.layers.push({ kind: 'mpls', label, ttl: opts.ttl ?? 64, tc: opts.tc ?? 0, bottom: opts.bottom });
    return this;
  }
  ipv4(src: string, dst: string, o: IPv4Options = {}): this {
    this.layers.push({ kind: 'ipv4', src: ip4(src), dst: ip4(dst), o });
    return this;
  }
  ipv6(src: string, dst: string, o: IPv6Options = {}): this {
    this.layers.push({ kind: 'ipv6', src: ip6(src), dst: ip6(dst), o });
    return this;
  }
  /** IPv6 extension header: 0 hop-by-hop, 43 routing, 60 destination options (padded to 8 bytes). */
  ipv6Ext(nh: 0 | 43 | 60, body: Uint8Array = new Uint8Array(6)): this {
    this.layers.push({ kind: 'ipv6ext', nh, body });
    return this;
  }
  ipv6Fragment(offset: number, more: boolean, id = 1): this {
    this.layers.push({ kind: 'ipv6frag', offset, more, id });
    return this;
  }
  tcp(sport: number, dport: number, o: TCPOptions = {}): this {
    this.layers.push({ kind: 'tcp', sport, dport, o });
    return this;
  }
  udp(sport: number, dport: number, opts: { length?: number } = {}): this {
    this.layers.push({ kind: 'udp', sport, dport, length: opts.length });
    return this;
  }
  sctp(sport: number, dport: number, chunks: SCTPChunk[]): this {
    this.layers.push({ kind: 'sctp', sport, dport, chunks });
    return this;
  }
  /** Any ICMPv4 message; `rest` is the 4-byte "rest of header" (id << 16 | seq for echo). */
  icmpv4(type: number, code = 0, rest = 0): this {
    this.layers.push({ kind: 'icmpv4', type, code, rest });
    return this;
  }
  /** Echo request (8) or reply (0). */
  icmpv4Echo(type: 0 | 8, id: number, seq: number): this {
    return this.icmpv4(type, 0, ((id & 0xffff) << 16) | (seq & 0xffff));
  }
  icmpv6(type: number, code = 0): this {
    this.layers.push({ kind: 'icmpv6', type, code });
    return this;
  }
  /** Echo request (128) or reply (129). */
  icmpv6Echo(type: 128 | 129, id: number, seq: number): this {
    this.layers.push({ kind: 'icmpv6', type, code: 0 });
    this.layers.push({ kind: 'icmpv6echo', id, seq });
    return this;
  }
  arp(o: ArpOptions): this {
    this.layers.push({ kind: 'arp', o });
    return this;
  }
  gre(o: GREOptions = {}): this {
    this.layers.push({ kind: 'gre', o });
    return this;
  }
  /** ERSPAN type II header (carried by GRE protocol 0x88BE), followed by the mirrored Ethernet frame. */
  erspan2(session = 1): this {
    this.layers.push({ kind: 'erspan2', session });
    return this;
  }
  vxlan(vni: number): this {
    this.layers.push({ kind: 'vxlan', vni });
    return this;
  }
  /** Geneve with raw TLV option bytes (a multiple of 4). */
  geneve(vni: number, opts: { options?: Uint8Array; protocol?: number } = {}): this {
    this.layers.push({ kind: 'geneve', vni, options: opts.options ?? new Uint8Array(0), protocol: opts.protocol });
    return this;
  }
  payload(bytes: Uint8Array | number): this {
    this.layers.push({ kind: 'raw', bytes: typeof bytes === 'number' ? new Uint8Array(bytes) : bytes });
    return this;
  }

  build(): Uint8Array {
    let out: Uint8Array = new Uint8Array(0);
    for (let i = this.layers.length - 1; i >= 0; i--) out = this.encode(i, out);
    return out;
  }

  private encode(i: number, payload: Uint8Array): Uint8Array {
    const l = this.layers[i];
    const next = this.layers[i + 1];
    switch (l.kind) {
      case 'ethernet':
        return concat(l.dst, l.src, Uint8Array.from(be16(l.type ?? etherTypeOf(next))), payload);
      case 'dot1q':
        return concat(Uint8Array.from([...be16((l.pcp << 13) | (l.vid & 0xfff)), ...be16(l.type ?? etherTypeOf(next))]), payload);
      case 'mpls': {
        const bottom = l.bottom ?? next?.kind !== 'mpls';
        const v = ((l.label & 0xfffff) << 12) | ((l.tc & 7) << 9) | (bottom ? 0x100 : 0) | (l.ttl & 0xff);
        return concat(Uint8Array.from(be32(v >>> 0)), payload);
      }
      case 'ipv4': {
        const o = l.o;
        const opts = o.options ?? new Uint8Array(0);
        const ihl = 20 + opts.length;
        const frag = (o.dontFragment ? 0x4000 : 0) | (o.moreFragments ? 0x2000 : 0) | ((o.fragmentOffset ?? 0) >> 3);
        const h = Uint8Array.from([
          0x40 | (ihl >> 2),
          o.tos ?? 0,
          ...be16(o.totalLength ?? ihl + payload.length),
          ...be16(o.id ?? 0),
          ...be16(frag),
          o.ttl ?? 64,
          o.protocol ?? ipProtoOf(next),
          0,
          0,
          ...l.src,
          ...l.dst,
          ...opts,
        ]);
        const c = inetChecksum(h);
        h[10] = c >> 8;
        h[11] = c & 0xff;
        return concat(h, payload);
      }
      case 'ipv6': {
        const o = l.o;
        const fl = o.flowLabel ?? 0;
        const h = Uint8Array.from([
          0x60,
          (fl >> 16) & 0x0f,
          (fl >> 8) & 0xff,
          fl & 0xff,
          ...be16(o.payloadLength ?? payload.length),
          o.nextHeader ?? ipProtoOf(next),
          o.hopLimit ?? 64,
          ...l.src,
          ...l.dst,
        ]);
        return concat(h, payload);
      }
      case 'ipv6ext': {
        const len = Math.ceil((2 + l.body.length) / 8) * 8;
        const h = new Uint8Array(len);
        h[0] = ipProtoOf(next);
        h[1] = len / 8 - 1;
        h.set(l.body, 2);
        return concat(h, payload);
      }
      case 'ipv6frag': {
        const h = Uint8Array.from([ipProtoOf(next), 0, ...be16((l.offset & ~7) | (l.more ? 1 : 0)), ...be32(l.id)]);
        return concat(h, payload);
      }
      case 'tcp': {
        const o = l.o;
        const h = Uint8Array.from([
          ...be16(l.sport),
          ...be16(l.dport),
          ...be32((o.seq ?? 0) >>> 0),
          ...be32((o.ack ?? 0) >>> 0),
          0x50,
          tcpFlags(o.flags ?? 'A'),
          ...be16(o.window ?? 65535),
          0,
          0,
          0,
          0,
        ]);
        return concat(h, payload);
      }
      case 'udp':
        return concat(Uint8Array.from([...be16(l.sport), ...be16(l.dport), ...be16(l.length ?? 8 + payload.length), 0, 0]), payload);
      case 'sctp': {
        const chunks = l.chunks.map((c) => {
          const data = c.data ?? new Uint8Array(0);
          const len = 4 + data.length;
          const padded = new Uint8Array((len + 3) & ~3);
          padded.set([c.type, c.flags ?? 0, ...be16(len)]);
          padded.set(data, 4);
          return padded;
        });
        return concat(Uint8Array.from([...be16(l.sport), ...be16(l.dport), 0, 0, 0, 1, 0, 0, 0, 0]), ...chunks, payload);
      }
      case 'icmpv4': {
        const h = Uint8Array.from([l.type, l.code, 0, 0, ...be32(l.rest >>> 0)]);
        const c = inetChecksum(h, payload);
        h[2] = c >> 8;
        h[3] = c & 0xff;
        return concat(h, payload);
      }
      case 'icmpv6':
        return concat(Uint8Array.from([l.type, l.code, 0, 0]), payload);
      case 'icmpv6echo':
        return concat(Uint8Array.from([...be16(l.id), ...be16(l.seq)]), payload);
      case 'arp': {
        const o = l.o;
        return concat(
          Uint8Array.from([0, 1, 8, 0, 6, 4, ...be16(o.op ?? 1)]),
          mac(o.senderMAC),
          ip4(o.senderIP),
          mac(o.targetMAC ?? '00:00:00:00:00:00'),
          ip4(o.targetIP),
          payload,
        );
      }
      case 'gre': {
        const o = l.o;
        const flags = (o.checksum ? 0x8000 : 0) | (o.key !== undefined ? 0x2000 : 0) | (o.seq !== undefined ? 0x1000 : 0);
        const parts = [...be16(flags), ...be16(o.protocol ?? etherTypeOf(next))];
        if (o.checksum) parts.push(0, 0, 0, 0);
        if (o.key !== undefined) parts.push(...be32(o.key >>> 0));
        if (o.seq !== undefined) parts.push(...be32(o.seq >>> 0));
        return concat(Uint8Array.from(parts), payload);
      }
      case 'erspan2':
        return concat(Uint8Array.from([0x10, 0, 0, l.session & 0xff, 0, 0, 0, 0]), payload);
      case 'vxlan':
        return concat(Uint8Array.from([0x08, 0, 0, 0, ...be32((l.vni << 8) >>> 0)]), payload);
      case 'geneve': {
        const h = Uint8Array.from([l.options.length >> 2, 0, ...be16(l.protocol ?? etherTypeOf(next)), ...be32((l.vni << 8) >>> 0)]);
        return concat(h, l.options, payload);
      }
      case 'raw':
        return concat(l.bytes, payload);
    }
  }
}

/** A Geneve option TLV (class, type, data padded to 4 bytes). */
export function geneveOption(cls: number, type: number, data: Uint8Array): Uint8Array {
  const len = Math.ceil(data.length / 4) * 4;
  const out = new Uint8Array(4 + len);
  out.set([...be16(cls), type, len / 4]);
  out.set(data, 4);
  return out;
}

export interface DNSRecordSpec {
  name: string;
  type: number;
  ttl?: number;
  /** A/AAAA address, CNAME/NS/PTR target name, or raw rdata. */
  data: string | Uint8Array;
}

function dnsName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.').filter(Boolean)) out.push(label.length, ...Array.from(label, (c) => c.charCodeAt(0)));
  out.push(0);
  return out;
}

/** A DNS message (no name compression). Types: 1 A, 28 AAAA, 5 CNAME, 2 NS, 12 PTR; others take raw rdata. */
export function dnsMessage(m: {
  id: number;
  response?: boolean;
  rcode?: number;
  questions: { name: string; type: number }[];
  answers?: DNSRecordSpec[];
}): Uint8Array {
  const flags = (m.response ? 0x8000 : 0) | 0x0100 | (m.response ? 0x0080 : 0) | (m.rcode ?? 0);
  const out: number[] = [...be16(m.id), ...be16(flags), ...be16(m.questions.length), ...be16(m.answers?.length ?? 0), 0, 0, 0, 0];
  for (const q of m.questions) out.push(...dnsName(q.name), ...be16(q.type), 0, 1);
  for (const a of m.answers ?? []) {
    let rdata: number[];
    if (a.data instanceof Uint8Array) rdata = Array.from(a.data);
    else if (a.type === 1) rdata = Array.from(ip4(a.data));
    else if (a.type === 28) rdata = Array.from(ip6(a.data));
    else rdata = dnsName(a.data);
    out.push(...dnsName(a.name), ...be16(a.type), 0, 1, ...be32(a.ttl ?? 60), ...be16(rdata.length), ...rdata);
  }
  return Uint8Array.from(out);
}
