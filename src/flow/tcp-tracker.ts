import {
  FlowStore,
  T_AB,
  T_BA,
  TCP_F64,
  TI_FLAGS,
  TI_HEAD,
  TI_NEXT_SEQ,
  TI_OUT_OF_ORDER,
  TI_PENDING,
  TI_RING,
  TI_SKIPPED,
  TI_TAIL_SEQ,
  TS_BYTES,
  TS_LAST_SEEN,
  TS_PACKETS,
  TS_SKIPPED_BYTES,
  TSF_CLOSED,
  TSF_SAW_END,
  TSF_SAW_START,
  TSF_STARTED,
} from './flow-store.js';

/**
 * Lightweight TCP segment tracking (ReassembleTCP): it reproduces the segment statistics skydive gets from
 * gopacket's tcpassembly (out-of-order, skipped, packets, payload bytes, start/end seen) from sequence numbers
 * alone, for each direction of each flow. State lives in the flows' TCP records (FlowStore); no payload is copied.
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
/** Rings of the whole table (4 MiB): beyond, a stream that meets a gap skips it at once. */
const MAX_RINGS = 16384;
/** tcpassembly stores early data in pages of this size; each page is one delivered unit. */
const PAGE_BYTES = 1900;
/**
 * A waiting segment is 16 bytes: int32 sequence number, int32 length * 2 + end flag (FIN or RST), float64 seen
 * time; int32 index of entry e is 4 * e.
 */
const ENTRY_I32 = 4;

function seqDiff(from: number, to: number): number {
  return (to - from) | 0;
}

export class TcpTracker {
  /** Waiting-segment rings, RING entries each, sorted by sequence number from the head; a block names its ring. */
  private ringI32 = new Int32Array(256 * RING * ENTRY_I32);
  private ringF64 = new Float64Array(this.ringI32.buffer);
  private ringCount = 0;
  private readonly freeRings: number[] = [];

  constructor(
    private readonly store: FlowStore,
    /** Rings of the whole tracker (MAX_RINGS; smaller only to exercise the no-room path). */
    private readonly maxRings = MAX_RINGS,
  ) {
    if (!primed) primeTracker();
  }

  /** Prepares both directions of a new flow (its TCP record is zeroed). */
  init(slot: number): void {
    const f64 = this.store.tf64;
    f64[slot * TCP_F64 + T_AB + TS_LAST_SEEN] = -1;
    f64[slot * TCP_F64 + T_BA + TS_LAST_SEEN] = -1;
  }

  /** Returns the waiting-segment rings of a flow leaving the table. */
  release(slot: number): void {
    this.freeRing((slot * TCP_F64 + T_AB) * 2);
    this.freeRing((slot * TCP_F64 + T_BA) * 2);
  }

  private freeRing(bi: number): void {
    const i32 = this.store.ti32;
    const ring = i32[bi + TI_RING];
    if (ring === 0) return;
    this.freeRings.push(ring - 1);
    i32[bi + TI_RING] = 0;
    i32[bi + TI_PENDING] = 0;
  }

  /** Feeds one TCP segment (seq as uint32, payload length, flags, capture time in ms) of direction ba (0 = AB). */
  assemble(slot: number, ba: number, seq: number, len: number, syn: boolean, fin: boolean, rst: boolean, ts: number): void {
    if (!syn && !fin && !rst && len === 0) return;
    const i32 = this.store.ti32;
    const b = slot * TCP_F64 + (ba ? T_BA : T_AB);
    const bi = b * 2;
    let flags = i32[bi + TI_FLAGS];
    if (
      (flags & (TSF_STARTED | TSF_CLOSED)) === TSF_STARTED &&
      !syn &&
      !fin &&
      !rst &&
      i32[bi + TI_PENDING] === 0 &&
      i32[bi + TI_NEXT_SEQ] === (seq | 0)
    ) {
      // the common case, in-order data with no gap open: what deliver() does for it, without the general path
      const f64 = this.store.tf64;
      i32[bi + TI_NEXT_SEQ] = seq + len;
      const last = f64[b + TS_LAST_SEEN];
      if (last >= 0 && ts < last) i32[bi + TI_OUT_OF_ORDER]++;
      else f64[b + TS_LAST_SEEN] = ts;
      f64[b + TS_BYTES] += len;
      f64[b + TS_PACKETS]++;
      return;
    }
    if ((flags & (TSF_STARTED | TSF_CLOSED)) === TSF_STARTED && !syn && !fin && !rst && this.appendAfterGap(b, seq, len, ts)) {
      return;
    }
    if (flags & TSF_CLOSED) {
      // a new connection on the same ports; a bare FIN/RST on a closed one is ignored, as tcpassembly does
      if (!syn && len === 0) return;
      flags &= ~(TSF_CLOSED | TSF_STARTED);
      i32[bi + TI_FLAGS] = flags;
      this.store.tf64[b + TS_LAST_SEEN] = -1;
    }
    const end = fin || rst;
    let lastEnd: boolean;
    const next = i32[bi + TI_NEXT_SEQ];
    if (!(flags & TSF_STARTED)) {
      if (syn) {
        this.deliver(b, len, 0, true, false, ts);
        i32[bi + TI_NEXT_SEQ] = seq + len + 1;
        lastEnd = false;
      } else {
        this.deliver(b, len, -1, false, end, ts);
        i32[bi + TI_NEXT_SEQ] = seq + len;
        lastEnd = end;
      }
      i32[bi + TI_FLAGS] |= TSF_STARTED;
    } else if (seqDiff(next, seq) > 0) {
      if (this.insert(bi, seq, len, end, ts)) {
        if (i32[bi + TI_PENDING] <= MAX_PENDING) return;
        // too many waiting segments: give up on the first gap
        lastEnd = this.popFirst(b);
      } else {
        // no room to wait: skip the gap now
        this.deliver(b, len, seqDiff(next, seq), false, end, ts);
        i32[bi + TI_NEXT_SEQ] = seq + len;
        lastEnd = end;
      }
    } else {
      const span = seqDiff(seq, next);
      let bytes = 0;
      if (len >= span) {
        bytes = len - span;
        i32[bi + TI_NEXT_SEQ] = next + bytes;
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

  /**
   * The other common case, a data segment of a started stream that has a gap open, after the last waiting
   * segment: it waits at the tail of the ring, and when the ring is full the first waiting segment is delivered
   * past its gap. Exactly what the general path (insert, popFirst, addContiguous) does for it, with the stream's
   * state read once. Returns false, having changed nothing, for any other segment.
   */
  private appendAfterGap(b: number, seq: number, len: number, ts: number): boolean {
    const i32 = this.store.ti32;
    const bi = b * 2;
    const pending = i32[bi + TI_PENDING];
    const next = i32[bi + TI_NEXT_SEQ];
    if (pending === 0 || seqDiff(next, seq) <= 0 || seqDiff(i32[bi + TI_TAIL_SEQ], seq) < 0) return false;
    const ri = this.ringI32;
    const rf = this.ringF64;
    const base = (i32[bi + TI_RING] - 1) * RING;
    const head = i32[bi + TI_HEAD];
    const r = (base + ((head + pending) & (RING - 1))) * ENTRY_I32;
    ri[r] = seq;
    ri[r + 1] = len * 2;
    rf[(r >> 1) + 1] = ts;
    i32[bi + TI_TAIL_SEQ] = seq;
    if (pending < MAX_PENDING) {
      i32[bi + TI_PENDING] = pending + 1;
      return true;
    }
    const q = (base + head) * ENTRY_I32;
    const firstSeq = ri[q];
    const word = ri[q + 1];
    let firstLen = word >> 1;
    // a waiting FIN/RST, or a segment of several tcpassembly pages: the general path
    if (word & 1 || firstLen > PAGE_BYTES) {
      i32[bi + TI_PENDING] = pending + 1;
      const lastEnd = this.popFirst(b);
      const contiguousEnd = this.addContiguous(b);
      if (contiguousEnd !== 0 ? contiguousEnd > 0 : lastEnd) this.close(bi);
      return true;
    }
    const newHead = (head + 1) & (RING - 1);
    i32[bi + TI_HEAD] = newHead;
    let skip = 0;
    let start = firstSeq;
    const d = seqDiff(next, firstSeq);
    if (d > 0) skip = d;
    else if (d < 0) {
      // overlaps data already delivered: only the rest is new
      firstLen = firstLen < -d ? 0 : firstLen + d;
      start = next;
    }
    const nextSeq = (start + firstLen) | 0;
    i32[bi + TI_NEXT_SEQ] = nextSeq;
    this.deliver(b, firstLen, skip, false, false, rf[(q >> 1) + 1]);
    // the new first waiting segment may now be in order
    if (seqDiff(nextSeq, ri[(base + newHead) * ENTRY_I32]) <= 0 && this.addContiguous(b) > 0) this.close(bi);
    return true;
  }

  /** Delivers every waiting segment of both directions, skipping the gaps (the flow is flushed or expired). */
  flush(slot: number): void {
    for (let ba = 0; ba < 2; ba++) {
      const b = slot * TCP_F64 + (ba ? T_BA : T_AB);
      const bi = b * 2;
      while (this.store.ti32[bi + TI_PENDING] > 0) {
        if (this.popFirst(b) || this.addContiguous(b) > 0) {
          this.close(bi);
          break;
        }
      }
    }
  }

  private close(bi: number): void {
    this.store.ti32[bi + TI_FLAGS] |= TSF_CLOSED;
    this.freeRing(bi);
  }

  private deliver(b: number, bytes: number, skip: number, start: boolean, end: boolean, seen: number): void {
    const f64 = this.store.tf64;
    const i32 = this.store.ti32;
    const bi = b * 2;
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
  private insert(bi: number, seq: number, len: number, end: boolean, ts: number): boolean {
    const i32 = this.store.ti32;
    if (i32[bi + TI_RING] === 0) {
      let ring = this.freeRings.pop();
      if (ring === undefined) {
        if (this.ringCount === this.maxRings) return false;
        ring = this.ringCount++;
        if (this.ringCount * RING * ENTRY_I32 > this.ringI32.length) {
          const bigger = new Int32Array(this.ringI32.length * 2);
          bigger.set(this.ringI32);
          this.ringI32 = bigger;
          this.ringF64 = new Float64Array(bigger.buffer);
        }
      }
      i32[bi + TI_RING] = ring + 1;
      i32[bi + TI_HEAD] = 0;
    }
    const ri = this.ringI32;
    const base = (i32[bi + TI_RING] - 1) * RING;
    const head = i32[bi + TI_HEAD];
    const count = i32[bi + TI_PENDING]++;
    let pos = count;
    if (count > 0 && seqDiff(i32[bi + TI_TAIL_SEQ], seq) < 0) {
      // keep the ring sorted: shift up the entries that come after seq (rare: the tail is checked first)
      const rf = this.ringF64;
      while (pos > 0) {
        const q = (base + ((head + pos - 1) & (RING - 1))) * ENTRY_I32;
        if (seqDiff(seq, ri[q]) <= 0) break;
        const r = (base + ((head + pos) & (RING - 1))) * ENTRY_I32;
        ri[r] = ri[q];
        ri[r + 1] = ri[q + 1];
        rf[(r >> 1) + 1] = rf[(q >> 1) + 1];
        pos--;
      }
    } else {
      i32[bi + TI_TAIL_SEQ] = seq;
    }
    const r = (base + ((head + pos) & (RING - 1))) * ENTRY_I32;
    ri[r] = seq;
    ri[r + 1] = len * 2 + (end ? 1 : 0);
    this.ringF64[(r >> 1) + 1] = ts;
    return true;
  }

  /** Delivers the first waiting segment (skipping any gap before it); returns its End flag. */
  private popFirst(b: number): boolean {
    const i32 = this.store.ti32;
    const bi = b * 2;
    const head = i32[bi + TI_HEAD];
    const q = ((i32[bi + TI_RING] - 1) * RING + head) * ENTRY_I32;
    const seq = this.ringI32[q];
    let len = this.ringI32[q + 1] >> 1;
    const end = (this.ringI32[q + 1] & 1) !== 0;
    const seen = this.ringF64[(q >> 1) + 1];
    i32[bi + TI_HEAD] = (head + 1) & (RING - 1);
    // a ring is held only while a gap is open
    if (--i32[bi + TI_PENDING] === 0) this.freeRing(bi);
    let skip = 0;
    let s = seq;
    if (!(i32[bi + TI_FLAGS] & TSF_STARTED)) skip = -1;
    else {
      const next = i32[bi + TI_NEXT_SEQ];
      const d = seqDiff(next, seq);
      if (d > 0) skip = d;
      else if (d < 0) {
        // overlaps data already delivered: only the rest is new
        len = len < -d ? 0 : len + d;
        s = next;
      }
    }
    i32[bi + TI_NEXT_SEQ] = s + len;
    i32[bi + TI_FLAGS] |= TSF_STARTED;
    if (len <= PAGE_BYTES) {
      this.deliver(b, len, skip, false, end, seen);
      return end;
    }
    const pages = Math.ceil(len / PAGE_BYTES);
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
    const i32 = this.store.ti32;
    const bi = b * 2;
    let last = 0;
    while (i32[bi + TI_PENDING] > 0) {
      const headSeq = this.ringI32[((i32[bi + TI_RING] - 1) * RING + i32[bi + TI_HEAD]) * ENTRY_I32];
      if (seqDiff(i32[bi + TI_NEXT_SEQ], headSeq) > 0) break;
      last = this.popFirst(b) ? 1 : -1;
      if (last > 0) break;
    }
    return last;
  }
}

let primed = false;

/**
 * Runs every path of the tracker once on a scratch store, the first time a tracker is made. V8 compiles a hot
 * function with what the runs so far have shown it; a path first taken later (the first stream whose ring fills
 * up, the first one that finds no ring left, in-order data after a stretch of gaps: all certain in a long
 * capture, all late) throws the optimised code away and has it compiled again, which on the 1M-packet benchmark
 * cost about 16 ms of compilation. Only the scratch store is touched.
 */
function primeTracker(): void {
  primed = true;
  const store = new FlowStore(3);
  const t = new TcpTracker(store, 2);
  // V8 records what a function sees only once it has run a little (lazy feedback allocation): a few rounds
  for (let round = 0; round < 4; round++) primeRound(store, t);
}

function primeRound(store: FlowStore, t: TcpTracker): void {
  for (let slot = 0; slot < 3; slot++) {
    store.clear(slot);
    t.init(slot);
  }
  t.assemble(0, 0, 1000, 0, true, false, false, 1);
  t.assemble(0, 0, 1001, 100, false, false, false, 2);
  // gaps: a first waiting segment, appended ones, a full ring (a multi-page one reaches the head), an older one
  for (let i = 0; i < 19; i++) t.assemble(0, 0, 3000 + i * 5000, i === 2 ? 4000 : 100, false, false, false, 3 + i);
  t.assemble(0, 0, 2500, 50, false, false, false, 2.5);
  t.assemble(0, 0, 3000 + 19 * 5000, 100, false, true, false, 30);
  // a stream whose waiting segments are contiguous: once the first gap is skipped, they all go
  t.assemble(2, 0, 0, 0, true, false, false, 1);
  t.assemble(2, 0, 1001, 100, false, false, false, 2);
  // a third stream finds no ring left and skips its gap
  t.assemble(1, 0, 0, 0, true, false, false, 1);
  t.assemble(1, 0, 500, 10, false, false, false, 2);
  for (let i = 1; i < 17; i++) t.assemble(2, 0, 1001 + i * 100, 100, false, false, false, 2 + i);
  // in order after a gap, and the end of a stream, its reuse and a reset
  t.assemble(1, 0, 510, 10, false, false, false, 3);
  t.assemble(1, 0, 520, 0, false, true, false, 4);
  t.assemble(1, 0, 9000, 10, false, false, false, 5);
  t.assemble(1, 1, 7000, 10, false, false, true, 6);
  for (let slot = 0; slot < 3; slot++) {
    t.flush(slot);
    t.release(slot);
  }
}
