import { FlowStore, HOT_I32, I_KEY_HI, I_KEY_LO } from './flow-store.js';

/**
 * Open-addressing hash index from a 64-bit flow key to the slot of its record in a FlowStore. A bucket is one
 * int32: 8 bits of the key (a tag) and slot + 1 (24 bits), so that the index of a busy table stays in the CPU
 * caches (128 KiB for 20000 flows); the key itself is checked in the slot's record, which the caller reads
 * next anyway, and the tag spares that read for almost every other bucket of a probe. Linear probing with
 * backward-shift deletion (no tombstones): lookups never allocate and never degrade.
 */

/** Slots an index can address. */
export const MAX_INDEX_SLOTS = (1 << 24) - 1;
const SLOT_MASK = 0xffffff;
/** Load factor beyond which the index doubles. */
const MAX_LOAD = 0.75;

export class FlowIndex {
  private mask: number;
  private b: Int32Array;
  size = 0;

  /** A small first capacity: the index grows (a rare path) early, while the code runs unoptimized. */
  constructor(
    private readonly store: FlowStore,
    initialCapacity = 64,
  ) {
    let cap = 16;
    while (cap < initialCapacity) cap <<= 1;
    this.mask = cap - 1;
    this.b = new Int32Array(cap);
  }

  /** Slot of the key, or -1. Keys are hashes already: the low bits of lo pick the bucket, its top byte is the tag. */
  get(hi: number, lo: number): number {
    const mask = this.mask;
    const b = this.b;
    const tag = lo >>> 24;
    let i = lo & mask;
    for (;;) {
      const v = b[i];
      if (v === 0) return -1;
      if (v >>> 24 === tag) {
        const r = ((v & SLOT_MASK) - 1) * HOT_I32;
        const rec = this.store.i32;
        if (rec[r + I_KEY_LO] === lo && rec[r + I_KEY_HI] === hi) return (v & SLOT_MASK) - 1;
      }
      i = (i + 1) & mask;
    }
  }

  /** Adds a slot whose record holds a key that is not present yet. */
  set(slot: number): void {
    if (this.size + 1 > (this.mask + 1) * MAX_LOAD) this.grow();
    this.place(slot);
    this.size++;
  }

  /** Removes the entry of a slot (its record still holds its key). */
  delete(slot: number): boolean {
    const mask = this.mask;
    const b = this.b;
    let i = this.home(slot);
    for (;;) {
      if (b[i] === 0) return false;
      if ((b[i] & SLOT_MASK) === slot + 1) break;
      i = (i + 1) & mask;
    }
    // shift back the following entries of the cluster that would no longer be reachable
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (b[j] === 0) break;
      const k = this.home((b[j] & SLOT_MASK) - 1);
      const movable = i <= j ? k <= i || k > j : k <= i && k > j;
      if (movable) {
        b[i] = b[j];
        i = j;
      }
    }
    b[i] = 0;
    this.size--;
    return true;
  }

  /** Home bucket of the key in a slot's record. */
  private home(slot: number): number {
    return this.store.i32[slot * HOT_I32 + I_KEY_LO] & this.mask;
  }

  private place(slot: number): void {
    const mask = this.mask;
    const b = this.b;
    const lo = this.store.i32[slot * HOT_I32 + I_KEY_LO];
    let i = lo & mask;
    while (b[i] !== 0) i = (i + 1) & mask;
    b[i] = ((lo >>> 24) << 24) | (slot + 1);
  }

  private grow(): void {
    const old = this.b;
    this.mask = (this.mask + 1) * 2 - 1;
    this.b = new Int32Array(this.mask + 1);
    for (let q = 0; q < old.length; q++) if (old[q] !== 0) this.place((old[q] & SLOT_MASK) - 1);
  }
}
