/**
 * IPv4 defragmentation (the IPDefrag option). Fragments are rare, so this path may allocate: each fragment's
 * payload is copied until its datagram is complete. Datagrams are keyed by (source, destination, id,
 * protocol); their number and age are bounded so that a flood of lone fragments cannot exhaust memory.
 */

const MAX_DATAGRAM = 65535;
const MAX_FRAGMENTS_PER_DATAGRAM = 256;

interface Datagram {
  offsets: number[];
  datas: Uint8Array[];
  /** Payload length once the last fragment (MF=0) is known, else -1. */
  total: number;
  firstSeenMs: number;
  /** Fragments held before completion (IPMetric.Fragments). */
  fragments: number;
  errors: number;
}

export type DefragResult = 'incomplete' | 'error' | 'complete';

export class IPv4Defragmenter {
  private readonly datagrams = new Map<string, Datagram>();
  /** After a 'complete' result: the reassembled IP payload and the datagram's IPMetric counters. */
  payload: Uint8Array = new Uint8Array(0);
  fragments = 0;
  fragmentErrors = 0;

  constructor(private readonly maxDatagrams = 4096) {}

  get pending(): number {
    return this.datagrams.size;
  }

  /**
   * Feeds the IPv4 fragment whose header starts at b[ip] (ihl header bytes, captured payload up to `end`).
   * 'complete' means the datagram is whole: see payload, fragments and fragmentErrors.
   */
  feed(b: Uint8Array, ip: number, ihl: number, end: number, tsMs: number): DefragResult {
    const totalLength = (b[ip + 2] << 8) | b[ip + 3];
    const field = (b[ip + 6] << 8) | b[ip + 7];
    const more = (field & 0x2000) !== 0;
    const offset = (field & 0x1fff) * 8;
    const len = Math.max(0, totalLength - ihl);
    const src = `${b[ip + 12]}.${b[ip + 13]}.${b[ip + 14]}.${b[ip + 15]}`;
    const dst = `${b[ip + 16]}.${b[ip + 17]}.${b[ip + 18]}.${b[ip + 19]}`;
    const key = `${src}>${dst}#${(b[ip + 4] << 8) | b[ip + 5]}/${b[ip + 9]}`;
    let d = this.datagrams.get(key);
    if (!d) {
      if (this.datagrams.size >= this.maxDatagrams) {
        const oldest = this.datagrams.keys().next().value;
        if (oldest !== undefined) this.datagrams.delete(oldest);
      }
      d = { offsets: [], datas: [], total: -1, firstSeenMs: tsMs, fragments: 0, errors: 0 };
      this.datagrams.set(key, d);
    }
    const fragEnd = offset + len;
    let bad = fragEnd > MAX_DATAGRAM || d.offsets.length >= MAX_FRAGMENTS_PER_DATAGRAM || (more && len === 0);
    if (!more) {
      if (d.total >= 0 && d.total !== fragEnd) bad = true;
      else d.total = fragEnd;
    }
    if (!bad && d.total >= 0 && fragEnd > d.total) bad = true;
    if (bad) {
      // the datagram cannot be rebuilt: forget its fragments, remember the error for its next packets
      this.datagrams.set(key, { offsets: [], datas: [], total: -1, firstSeenMs: tsMs, fragments: 0, errors: d.errors + 1 });
      return 'error';
    }
    const data = new Uint8Array(len);
    data.set(b.subarray(ip + ihl, Math.min(end, ip + ihl + len)));
    d.offsets.push(offset);
    d.datas.push(data);
    if (d.total < 0 || !this.covered(d)) {
      d.fragments++;
      return 'incomplete';
    }
    const payload = new Uint8Array(d.total);
    const order = d.offsets.map((_, i) => i).sort((x, y) => d.offsets[x] - d.offsets[y]);
    for (const i of order) {
      const room = Math.max(0, Math.min(d.datas[i].length, d.total - d.offsets[i]));
      payload.set(d.datas[i].subarray(0, room), d.offsets[i]);
    }
    this.payload = payload;
    this.fragments = d.fragments;
    this.fragmentErrors = d.errors;
    this.datagrams.delete(key);
    return 'complete';
  }

  private covered(d: Datagram): boolean {
    const order = d.offsets.map((_, i) => i).sort((x, y) => d.offsets[x] - d.offsets[y]);
    let reach = 0;
    for (const i of order) {
      if (d.offsets[i] > reach) return false;
      reach = Math.max(reach, d.offsets[i] + d.datas[i].length);
    }
    return reach >= d.total;
  }

  /** Forgets the datagrams whose first fragment is older than the given time (ms). */
  discardOlderThan(ms: number): void {
    for (const [k, d] of this.datagrams) if (d.firstSeenMs < ms) this.datagrams.delete(k);
  }
}
