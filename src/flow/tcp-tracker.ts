import {
  COLD_F64,
  F_TCP_AB,
  F_TCP_BA,
  FlowStore,
  TI_FLAGS,
  TI_HEAD,
  TI_OUT_OF_ORDER,
  TI_PENDING,
  TI_POOL,
  TI_SKIPPED,
  TS_BYTES,
  TS_INTS,
  TS_LAST_SEEN,
  TS_NEXT_SEQ,
  TS_PACKETS,
  TS_SKIPPED_BYTES,
  TS_TAIL_SEQ,
  TSF_CLOSED,
  TSF_SAW_END,
  TSF_SAW_START,
} from './flow-store.js';

/**
 * Lightweight TCP segment tracking (ReassembleTCP): it reproduces the segment statistics skydive gets from
 * gopacket's tcpassembly (out-of-order, skipped, packets, payload bytes, start/end seen) from sequence numbers
 * alone, for each direction of each flow. State lives in the flows' FlowStore records; no payload is copied.
 *
 * Semantics follow tcpassembly: in-order data is delivered at once; a segment beyond the next expected
 * sequence number waits until the gap is filled, and a waiting segment delivered after a later one counts as
 * out of order (it was seen before the last delivered segment). Differences, on purpose: a stream whose SYN was
 * not seen starts at its first segment (counted as skipped, unknown size) instead of waiting for a flush, at
 * most MAX_PENDING segments wait per stream and MAX_RINGS streams per table (beyond, the gap is skipped:
 * memory is bounded), and statistics are live, not only written when the stream completes.
 */

/** Segments that may wait for one gap to fill (gopacket: unlimited until a 30 s flush). */
const MAX_PENDING = 15;
/** Ring capacity of a waiting list (a power of two above MAX_PENDING). */
const RING = 16;
/** Rings of the whole table (8 MiB): beyond, a stream that meets a gap skips it at once. */
const MAX_RINGS = 16384;
/** tcpassembly stores early data in pages of this size; each page is one delivered unit. */
const PAGE_BYTES = 1900;

function seqDiff(from: number, to: number): number {
  return (to - from) | 0;
}

export class TcpTracker {
  /** Waiting-segment rings of (seq, length, end flag, seen time) × RING, sorted by seq; a record names its ring. */
  private rings = new Float64Array(256 * RING * 4);
  private ringCount = 0;
  private readonly freeRings: number[] = [];

  constructor(private readonly store: FlowStore) {}

  /** Prepares both directions of a new flow's record. */
  init(slot: number): void {
    const f64 = this.store.cf64;
    const r = slot * COLD_F64;
    f64[r + F_TCP_AB + TS_NEXT_SEQ] = -1;
    f64[r + F_TCP_AB + TS_LAST_SEEN] = -1;
    f64[r + F_TCP_BA + TS_NEXT_SEQ] = -1;
    f64[r + F_TCP_BA + TS_LAST_SEEN] = -1;
  }

  /** Returns the waiting-segment lists of a flow leaving the table. */
  release(slot: number): void {
    const r = slot * COLD_F64;
    this.freeList((r + F_TCP_AB + TS_INTS) * 2);
    this.freeList((r + F_TCP_BA + TS_INTS) * 2);
  }

  /** Offset in `rings` of the ring named by a record block (its TI_POOL). */
  private ring(bi: number): number {
    return (this.store.ci32[bi + TI_POOL] - 1) * RING * 4;
  }

  private freeList(bi: number): void {
    const i32 = this.store.ci32;
    const idx = i32[bi + TI_POOL];
    if (idx === 0) return;
    this.freeRings.push(idx - 1);
    i32[bi + TI_POOL] = 0;
    i32[bi + TI_PENDING] = 0;
  }

  /** Feeds one TCP segment (seq as uint32, payload length, flags, capture time in ms) of direction ba (0 = AB). */
  assemble(slot: number, ba: number, seq: number, len: number, syn: boolean, fin: boolean, rst: boolean, ts: number): void {
    if (!syn && !fin && !rst && len === 0) return;
    const f64 = this.store.cf64;
    const i32 = this.store.ci32;
    const b = slot * COLD_F64 + (ba ? F_TCP_BA : F_TCP_AB);
    const bi = (b + TS_INTS) * 2;
    if (i32[bi + TI_FLAGS] & TSF_CLOSED) {
      // a new connection on the same ports; a bare FIN/RST on a closed one is ignored, as tcpassembly does
      if (!syn && len === 0) return;
      i32[bi + TI_FLAGS] &= ~TSF_CLOSED;
      f64[b + TS_NEXT_SEQ] = -1;
      f64[b + TS_LAST_SEEN] = -1;
    }
    const end = fin || rst;
    let lastEnd: boolean;
    const next = f64[b + TS_NEXT_SEQ];
    if (next < 0) {
      if (syn) {
        this.deliver(b, len, 0, true, false, ts);
        f64[b + TS_NEXT_SEQ] = (seq + len + 1) >>> 0;
        lastEnd = false;
      } else {
        this.deliver(b, len, -1, false, end, ts);
        f64[b + TS_NEXT_SEQ] = (seq + len) >>> 0;
        lastEnd = end;
      }
    } else if (seqDiff(next, seq) > 0) {
      if (this.insert(b, seq, len, end, ts)) {
        if (i32[bi + TI_PENDING] <= MAX_PENDING) return;
        // too many waiting segments: give up on the first gap
        lastEnd = this.popFirst(b);
      } else {
        // no room to wait: skip the gap now
        this.deliver(b, len, seqDiff(next, seq), false, end, ts);
        f64[b + TS_NEXT_SEQ] = (seq + len) >>> 0;
        lastEnd = end;
      }
    } else {
      const span = seqDiff(seq, next);
      let bytes = 0;
      if (len >= span) {
        bytes = len - span;
        f64[b + TS_NEXT_SEQ] = (next + bytes) >>> 0;
      }
      this.deliver(b, bytes, 0, false, end, ts);
      lastEnd = end;
    }
    if (i32[bi + TI_PENDING] > 0) {
      const contiguousEnd = this.addContiguous(b);
      if (contiguousEnd !== 0) lastEnd = contiguousEnd > 0;
    }
    if (lastEnd) this.close(bi);
  }

  /** Delivers every waiting segment of both directions, skipping the gaps (the flow is flushed or expired). */
  flush(slot: number): void {
    for (let ba = 0; ba < 2; ba++) {
      const b = slot * COLD_F64 + (ba ? F_TCP_BA : F_TCP_AB);
      const bi = (b + TS_INTS) * 2;
      while (this.store.ci32[bi + TI_PENDING] > 0) {
        if (this.popFirst(b) || this.addContiguous(b) > 0) {
          this.close(bi);
          break;
        }
      }
    }
  }

  private close(bi: number): void {
    this.store.ci32[bi + TI_FLAGS] |= TSF_CLOSED;
    this.freeList(bi);
  }

  private deliver(b: number, bytes: number, skip: number, start: boolean, end: boolean, seen: number): void {
    const f64 = this.store.cf64;
    const i32 = this.store.ci32;
    const bi = (b + TS_INTS) * 2;
    const last = f64[b + TS_LAST_SEEN];
    if (last >= 0 && seen < last) i32[bi + TI_OUT_OF_ORDER]++;
    else f64[b + TS_LAST_SEEN] = seen;
    f64[b + TS_BYTES] += bytes;
    f64[b + TS_PACKETS]++;
    if (skip !== 0) {
      i32[bi + TI_SKIPPED]++;
      if (skip > 0) f64[b + TS_SKIPPED_BYTES] += skip;
    }
    if (start) i32[bi + TI_FLAGS] |= TSF_SAW_START;
    if (end) i32[bi + TI_FLAGS] |= TSF_SAW_END;
  }

  /** Adds a waiting segment to the stream's ring; false when no ring is left for it. */
  private insert(b: number, seq: number, len: number, end: boolean, ts: number): boolean {
    const i32 = this.store.ci32;
    const bi = (b + TS_INTS) * 2;
    if (i32[bi + TI_POOL] === 0) {
      let idx = this.freeRings.pop();
      if (idx === undefined) {
        if (this.ringCount === MAX_RINGS) return false;
        idx = this.ringCount++;
        if (this.ringCount * RING * 4 > this.rings.length) {
          const bigger = new Float64Array(this.rings.length * 2);
          bigger.set(this.rings);
          this.rings = bigger;
        }
      }
      i32[bi + TI_POOL] = idx + 1;
      i32[bi + TI_HEAD] = 0;
    }
    const p = this.rings;
    const o = this.ring(bi);
    const head = i32[bi + TI_HEAD];
    const count = i32[bi + TI_PENDING]++;
    const f64 = this.store.cf64;
    let pos = count;
    if (count > 0 && seqDiff(f64[b + TS_TAIL_SEQ], seq) < 0) {
      // keep the ring sorted: shift up the entries that come after seq (rare: the tail is checked first)
      while (pos > 0) {
        const q = o + ((head + pos - 1) & (RING - 1)) * 4;
        if (seqDiff(seq, p[q]) <= 0) break;
        const r = o + ((head + pos) & (RING - 1)) * 4;
        p[r] = p[q];
        p[r + 1] = p[q + 1];
        p[r + 2] = p[q + 2];
        p[r + 3] = p[q + 3];
        pos--;
      }
    } else {
      f64[b + TS_TAIL_SEQ] = seq;
    }
    const r = o + ((head + pos) & (RING - 1)) * 4;
    p[r] = seq;
    p[r + 1] = len;
    p[r + 2] = end ? 1 : 0;
    p[r + 3] = ts;
    return true;
  }

  /** Delivers the first waiting segment (skipping any gap before it); returns its End flag. */
  private popFirst(b: number): boolean {
    const f64 = this.store.cf64;
    const i32 = this.store.ci32;
    const bi = (b + TS_INTS) * 2;
    const p = this.rings;
    const head = i32[bi + TI_HEAD];
    const q = this.ring(bi) + head * 4;
    const seq = p[q];
    let len = p[q + 1];
    const end = p[q + 2] !== 0;
    const seen = p[q + 3];
    i32[bi + TI_HEAD] = (head + 1) & (RING - 1);
    // a ring is held only while a gap is open
    if (--i32[bi + TI_PENDING] === 0) this.freeList(bi);
    const next = f64[b + TS_NEXT_SEQ];
    let skip = 0;
    let s = seq;
    if (next < 0) skip = -1;
    else {
      const d = seqDiff(next, seq);
      if (d > 0) skip = d;
      else if (d < 0) {
        // overlaps data already delivered: only the rest is new
        len = len < -d ? 0 : len + d;
        s = next;
      }
    }
    f64[b + TS_NEXT_SEQ] = (s + len) >>> 0;
    const pages = Math.max(1, Math.ceil(len / PAGE_BYTES));
    for (let pg = 0; pg < pages; pg++) {
      const bytes = pg < pages - 1 ? PAGE_BYTES : len - PAGE_BYTES * (pages - 1);
      this.deliver(b, bytes, pg === 0 ? skip : 0, false, end && pg === pages - 1, seen);
    }
    return end;
  }

  /**
   * Delivers the waiting segments that the next expected sequence number has reached (the ring is sorted, its
   * head comes first). Returns 1 / -1: End flag of the last one delivered, 0: none delivered.
   */
  private addContiguous(b: number): number {
    const f64 = this.store.cf64;
    const i32 = this.store.ci32;
    const bi = (b + TS_INTS) * 2;
    let last = 0;
    while (i32[bi + TI_PENDING] > 0) {
      const headSeq = this.rings[this.ring(bi) + i32[bi + TI_HEAD] * 4];
      if (seqDiff(f64[b + TS_NEXT_SEQ], headSeq) > 0) break;
      last = this.popFirst(b) ? 1 : -1;
      if (last > 0) break;
    }
    return last;
  }
}
