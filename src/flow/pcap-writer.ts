import { closeSync, openSync, writeSync } from 'node:fs';
import { SkydiveError } from '../common/errors.js';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US } from './pcap-reader.js';

/** Writer of classic pcap files (raw packet export, tests). Writes are buffered and synchronous. */

export interface PcapWriterOptions {
  /** LINKTYPE_* of every record (default 1, Ethernet). */
  linkType?: number;
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanoseconds?: boolean;
  /** Byte order of the file; default little-endian. */
  bigEndian?: boolean;
}

export interface PacketRecord {
  data: Uint8Array;
  /** Milliseconds since the epoch; the fraction carries µs (or ns) precision. */
  tsMs: number;
  /** Original length on the wire; default data.length. */
  wireLen?: number;
}

const BUFFER_SIZE = 1 << 20;

function fileHeader(o: Required<PcapWriterOptions>): Buffer {
  const h = Buffer.alloc(24);
  const w32 = (v: number, at: number) => (o.bigEndian ? h.writeUInt32BE(v, at) : h.writeUInt32LE(v, at));
  const w16 = (v: number, at: number) => (o.bigEndian ? h.writeUInt16BE(v, at) : h.writeUInt16LE(v, at));
  w32(o.nanoseconds ? PCAP_MAGIC_NS : PCAP_MAGIC_US, 0);
  w16(2, 4);
  w16(4, 6);
  w32(o.snaplen, 16);
  w32(o.linkType, 20);
  return h;
}

function withDefaults(opts: PcapWriterOptions): Required<PcapWriterOptions> {
  return { linkType: opts.linkType ?? 1, snaplen: opts.snaplen ?? 262144, nanoseconds: !!opts.nanoseconds, bigEndian: !!opts.bigEndian };
}

/** Splits a timestamp into seconds and the sub-second count in µs or ns, carrying a rounded-up fraction. */
function splitTs(tsMs: number, nano: boolean): [number, number] {
  const perSec = nano ? 1e9 : 1e6;
  let sec = Math.floor(tsMs / 1000);
  let frac = Math.round((tsMs - sec * 1000) * (perSec / 1000));
  if (frac >= perSec) {
    sec += 1;
    frac -= perSec;
  }
  return [sec, frac];
}

function recordHeader(o: Required<PcapWriterOptions>, caplen: number, wireLen: number, tsMs: number): Buffer {
  const [sec, frac] = splitTs(tsMs, o.nanoseconds);
  const h = Buffer.allocUnsafe(16);
  const w32 = o.bigEndian ? h.writeUInt32BE.bind(h) : h.writeUInt32LE.bind(h);
  w32(sec >>> 0, 0);
  w32(frac, 4);
  w32(caplen, 8);
  w32(Math.max(wireLen, caplen), 12);
  return h;
}

export class PcapWriter {
  readonly path: string;
  private readonly opts: Required<PcapWriterOptions>;
  private fd: number;
  private readonly buf = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  packets = 0;

  constructor(path: string, opts: PcapWriterOptions = {}) {
    this.path = path;
    this.opts = withDefaults(opts);
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new SkydiveError('SKYDIVE_PCAP_WRITE', `cannot create pcap file '${path}': ${(err as Error).message}`, 500);
    }
    this.append(fileHeader(this.opts));
  }

  private append(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buf.length) this.flush();
    if (bytes.length > this.buf.length) {
      writeSync(this.fd, bytes);
      return;
    }
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }

  private flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }

  write(data: Uint8Array, tsMs: number, wireLen = data.length): void {
    if (this.fd < 0) throw new SkydiveError('SKYDIVE_PCAP_WRITE', `pcap file '${this.path}' is already closed`, 500);
    this.append(recordHeader(this.opts, data.length, wireLen, tsMs));
    this.append(data);
    this.packets++;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Writes records to a new pcap file in one call. */
export function writePcapFile(path: string, records: Iterable<PacketRecord>, opts: PcapWriterOptions = {}): number {
  const w = new PcapWriter(path, opts);
  try {
    for (const r of records) w.write(r.data, r.tsMs, r.wireLen);
  } finally {
    w.close();
  }
  return w.packets;
}

/** A whole pcap file in memory (tests, API downloads of raw packets). */
export function encodePcap(records: Iterable<PacketRecord>, opts: PcapWriterOptions = {}): Buffer {
  const o = withDefaults(opts);
  const parts: Buffer[] = [fileHeader(o)];
  for (const r of records) {
    parts.push(recordHeader(o, r.data.length, r.wireLen ?? r.data.length, r.tsMs), Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length));
  }
  return Buffer.concat(parts);
}
