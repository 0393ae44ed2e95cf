/** Small hand-made frames and pcapng blocks for the pcap I/O tests (no dependency on the flow decoder). */

function csum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  if (b.length % 2) s += b[b.length - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

export function ipv4(src: number[], dst: number[], proto: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(0x4000, 6);
  h[8] = 64;
  h[9] = proto;
  h.set(src, 12);
  h.set(dst, 16);
  h.writeUInt16BE(csum(h), 10);
  return Buffer.concat([h, payload]);
}

export function udp(sport: number, dport: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function icmpEcho(id: number, seq: number, reply = false): Buffer {
  const h = Buffer.alloc(16);
  h[0] = reply ? 0 : 8;
  h.writeUInt16BE(id, 4);
  h.writeUInt16BE(seq, 6);
  h.writeUInt16BE(csum(h), 2);
  return h;
}

export function ethernet(src: number, dst: number, etherType: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(14);
  h.set([2, 0, 0, 0, 0, dst], 0);
  h.set([2, 0, 0, 0, 0, src], 6);
  h.writeUInt16BE(etherType, 12);
  return Buffer.concat([h, payload]);
}

/** Ethernet/IPv4/UDP from 10.0.0.a:sport to 10.0.0.b:dport. */
export function udpFrame(a: number, b: number, sport: number, dport: number, payloadLen = 0): Buffer {
  return ethernet(a, b, 0x0800, ipv4([10, 0, 0, a], [10, 0, 0, b], 17, udp(sport, dport, Buffer.alloc(payloadLen, 0xab))));
}

export function icmpFrame(a: number, b: number, id: number, seq: number, reply = false): Buffer {
  return ethernet(a, b, 0x0800, ipv4([10, 0, 0, a], [10, 0, 0, b], 1, icmpEcho(id, seq, reply)));
}

export function arpFrame(src: number): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0);
  arp.writeUInt16BE(0x0800, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(1, 6);
  arp.set([2, 0, 0, 0, 0, src, 10, 0, 0, src], 8);
  arp.set([10, 0, 0, 99], 24);
  const h = Buffer.alloc(14, 0xff);
  h.set([2, 0, 0, 0, 0, src], 6);
  h.writeUInt16BE(0x0806, 12);
  return Buffer.concat([h, arp]);
}

/** pcapng blocks, in the byte order given. */
export class PcapngBuilder {
  private readonly parts: Buffer[] = [];
  constructor(private readonly le = true) {}

  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  }
  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }
  private pad(b: Uint8Array): Buffer {
    return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  }
  block(type: number, body: Buffer, lengthOverride?: number): this {
    const len = 12 + body.length;
    this.parts.push(this.u32(type), this.u32(lengthOverride ?? len), body, this.u32(len));
    return this;
  }
  shb(): this {
    return this.block(0x0a0d0d0a, Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), Buffer.alloc(8, 0xff)]));
  }
  /** tsresol: if_tsresol option byte (6 = µs, 9 = ns, 0x80|n = 2^-n); tsoffset in seconds. */
  idb(linkType: number, snaplen = 262144, tsresol?: number, tsoffset?: number): this {
    const opts: Buffer[] = [];
    if (tsresol !== undefined) opts.push(this.u16(9), this.u16(1), Buffer.from([tsresol, 0, 0, 0]));
    if (tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (this.le) v.writeBigInt64LE(BigInt(tsoffset));
      else v.writeBigInt64BE(BigInt(tsoffset));
      opts.push(this.u16(14), this.u16(8), v);
    }
    if (opts.length) opts.push(this.u16(0), this.u16(0));
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(snaplen), ...opts]));
  }
  /** ts in interface units as a bigint. */
  epb(ifId: number, ts: bigint, data: Uint8Array, wireLen = data.length, caplenOverride?: number): this {
    return this.block(
      6,
      Buffer.concat([
        this.u32(ifId),
        this.u32(Number(ts >> 32n)),
        this.u32(Number(ts & 0xffffffffn)),
        this.u32(caplenOverride ?? data.length),
        this.u32(wireLen),
        this.pad(data),
      ]),
    );
  }
  spb(data: Uint8Array, wireLen = data.length): this {
    return this.block(3, Buffer.concat([this.u32(wireLen), this.pad(data)]));
  }
  /** a block type the reader must skip (Name Resolution Block) */
  nrb(): this {
    return this.block(4, Buffer.concat([this.u16(0), this.u16(0)]));
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** An Ethernet frame carrying `payload` (an IPv4 packet) under the 802.1Q tags `vids`, outermost first. */
export function vlanFrame(vids: number[], payload: Uint8Array): Buffer {
  const tags = vids.map((vid, i) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(vid, 0);
    t.writeUInt16BE(i === vids.length - 1 ? 0x0800 : 0x8100, 2);
    return t;
  });
  return ethernet(1, 2, 0x8100, Buffer.concat([...tags, payload]));
}
