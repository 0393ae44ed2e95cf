import assert from 'node:assert/strict';
import {
  T_AB,
  T_BA,
  FlowStore,
  TCP_F64,
  TI_FLAGS,
  TI_OUT_OF_ORDER,
  TI_SKIPPED,
  TS_BYTES,
  TS_PACKETS,
  TS_SKIPPED_BYTES,
  TSF_SAW_END,
  TSF_SAW_START,
} from '../../../src/flow/flow-store.js';
import { TcpTracker } from '../../../src/flow/tcp-tracker.js';

/** One direction (AB) of one flow (slot 3 of a store), with its counters read back from the record. */
class Stream {
  private readonly store = new FlowStore(8);
  private readonly tracker = new TcpTracker(this.store);
  private readonly slot = 3;
  constructor() {
    this.store.clear(this.slot);
    this.tracker.init(this.slot);
  }
  assemble(seq: number, len: number, syn: boolean, fin: boolean, rst: boolean, ts: number): void {
    this.tracker.assemble(this.slot, 0, seq, len, syn, fin, rst, ts);
  }
  flush(): void {
    this.tracker.flush(this.slot);
  }
  private get b(): number {
    return this.slot * TCP_F64 + T_AB;
  }
  private int(field: number): number {
    return this.store.ti32[this.b * 2 + field];
  }
  get packets(): number {
    return this.store.tf64[this.b + TS_PACKETS];
  }
  get bytes(): number {
    return this.store.tf64[this.b + TS_BYTES];
  }
  get skippedBytes(): number {
    return this.store.tf64[this.b + TS_SKIPPED_BYTES];
  }
  get outOfOrder(): number {
    return this.int(TI_OUT_OF_ORDER);
  }
  get skipped(): number {
    return this.int(TI_SKIPPED);
  }
  get sawStart(): number {
    return this.int(TI_FLAGS) & TSF_SAW_START ? 1 : 0;
  }
  get sawEnd(): number {
    return this.int(TI_FLAGS) & TSF_SAW_END ? 1 : 0;
  }
}

describe('TCP segment tracker', () => {
  it('delivers in-order data at once and counts payload bytes', () => {
    const s = new Stream();
    s.assemble(1000, 0, true, false, false, 1);
    s.assemble(1001, 100, false, false, false, 2);
    s.assemble(1101, 50, false, false, false, 3);
    s.assemble(1151, 0, false, true, false, 4);
    assert.deepEqual([s.packets, s.bytes, s.outOfOrder, s.skipped, s.sawStart, s.sawEnd], [4, 150, 0, 0, 1, 1]);
  });

  it('ignores pure ACKs, and retransmissions deliver no new bytes', () => {
    const s = new Stream();
    s.assemble(1, 0, true, false, false, 1);
    s.assemble(2, 0, false, false, false, 2);
    s.assemble(2, 10, false, false, false, 3);
    s.assemble(2, 10, false, false, false, 4);
    s.assemble(7, 10, false, false, false, 5); // overlaps: 5 new bytes
    assert.deepEqual([s.packets, s.bytes], [4, 15]);
  });

  it('counts early segments delivered after a later one as out of order', () => {
    const s = new Stream();
    s.assemble(0, 0, true, false, false, 1);
    s.assemble(201, 100, false, false, false, 2);
    s.assemble(101, 100, false, false, false, 3);
    s.assemble(1, 100, false, false, false, 4);
    assert.deepEqual([s.outOfOrder, s.packets, s.bytes], [2, 4, 300]);
  });

  it('skips a gap that never fills once too many segments wait, and on flush', () => {
    const s = new Stream();
    s.assemble(0, 0, true, false, false, 0);
    for (let i = 0; i < 17; i++) s.assemble(1001 + i * 10, 10, false, false, false, 1 + i);
    assert.equal(s.skipped, 1);
    assert.equal(s.skippedBytes, 1000);
    assert.equal(s.packets, 1 + 17, 'the first waiting segment and the ones contiguous to it are delivered');
    const t = new Stream();
    t.assemble(0, 0, true, false, false, 0);
    t.assemble(51, 10, false, false, false, 1);
    t.flush();
    assert.deepEqual([t.skipped, t.skippedBytes, t.packets], [1, 50, 2]);
  });

  it('bounds the memory of waiting segments: past 16384 open gaps a stream skips its gap at once', () => {
    const streams = 16385;
    const store = new FlowStore(streams);
    const tracker = new TcpTracker(store);
    for (let slot = 0; slot < streams; slot++) {
      store.clear(slot);
      tracker.init(slot);
      tracker.assemble(slot, 0, 0, 0, true, false, false, 1);
      tracker.assemble(slot, 0, 101, 10, false, false, false, 2); // a gap of 100 bytes
    }
    const skipped = (slot: number) => store.ti32[(slot * TCP_F64 + T_AB) * 2 + TI_SKIPPED];
    assert.equal(skipped(0), 0, 'the first streams wait for their gap');
    assert.equal(skipped(streams - 1), 1, 'the last one has no ring left');
    // a filled gap returns its ring: the next stream can wait again
    tracker.assemble(0, 0, 1, 100, false, false, false, 3);
    assert.equal(store.tf64[T_AB + TS_PACKETS], 3);
    store.clear(streams - 1);
    tracker.init(streams - 1);
    tracker.assemble(streams - 1, 0, 0, 0, true, false, false, 1);
    tracker.assemble(streams - 1, 0, 101, 10, false, false, false, 2);
    assert.equal(skipped(streams - 1), 0);
  });

  it('starts mid-stream without a SYN (unknown start: skipped, no bytes)', () => {
    const s = new Stream();
    s.assemble(5000, 20, false, false, false, 1);
    s.assemble(5020, 20, false, false, false, 2);
    assert.deepEqual([s.skipped, s.skippedBytes, s.bytes, s.sawStart], [1, 0, 40, 0]);
  });

  it('handles sequence number wrap-around', () => {
    const s = new Stream();
    s.assemble(0xffffff00, 0, true, false, false, 1);
    s.assemble(0xffffff01, 0x100, false, false, false, 2);
    s.assemble(0x00000001, 10, false, false, false, 3);
    assert.deepEqual([s.packets, s.bytes, s.skipped, s.outOfOrder], [3, 0x100 + 10, 0, 0]);
  });

  it('gives the same statistics with the waiting-segment fast path as with the general path', () => {
    // the general path alone: appendAfterGap declines every segment
    const slots = 4;
    const fast = new FlowStore(slots);
    const general = new FlowStore(slots);
    const fastTracker = new TcpTracker(fast);
    const generalTracker = new TcpTracker(general);
    (generalTracker as unknown as { appendAfterGap: () => boolean }).appendAfterGap = () => false;
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return (seed >>> 8) % n;
    };
    for (let slot = 0; slot < slots; slot++) {
      for (const store of [fast, general]) store.clear(slot);
      fastTracker.init(slot);
      generalTracker.init(slot);
    }
    const next = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) {
      const slot = rnd(slots);
      const ba = rnd(2);
      const stream = slot * 2 + ba;
      // mostly gaps after the last waiting segment, some overlaps, retransmissions, FIN/RST, multi-page segments
      const kind = rnd(20);
      const len = kind === 0 ? 4000 : [0, 10, 100, 1200][rnd(4)];
      let seq = next[stream];
      if (kind < 12) seq += 1 + rnd(3000);
      else if (kind < 15) seq -= rnd(500);
      next[stream] = Math.max(next[stream], seq + len);
      const syn = kind === 15 && rnd(4) === 0;
      const fin = kind === 16;
      const rst = kind === 17 && rnd(3) === 0;
      const ts = i / 10 - (kind === 18 ? 5 : 0);
      fastTracker.assemble(slot, ba, seq >>> 0, len, syn, fin, rst, ts);
      generalTracker.assemble(slot, ba, seq >>> 0, len, syn, fin, rst, ts);
      if (i % 997 === 0 || i === 19999) {
        assert.deepEqual(Array.from(fast.tf64), Array.from(general.tf64), `float fields after segment ${i}`);
        assert.deepEqual(Array.from(fast.ti32), Array.from(general.ti32), `int fields after segment ${i}`);
      }
    }
    const skipped = Array.from({ length: slots * 2 }, (_, st) => fast.ti32[((st >> 1) * TCP_F64 + (st & 1 ? T_BA : T_AB)) * 2 + TI_SKIPPED]);
    assert.ok(
      skipped.some((n) => n > 0),
      'the sequence exercised gaps that were skipped',
    );
  });
});
