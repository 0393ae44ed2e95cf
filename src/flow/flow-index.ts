/**
 * Open-addressing hash index from a 64-bit flow key to a flow slot. A bucket is 8 bytes, [key low half,
 * slot + 1], so that the index of a busy table stays in the CPU caches; the high half of the key is checked in
 * the slot's own record, which the caller reads next anyway. Linear probing with backward-shift deletion (no
 * tombstones): lookups never allocate and never degrade.
 */
export class FlowIndex {
  private mask: number;
  private b: Int32Array;
  size = 0;

  constructor(initialCapacity = 1 << 12) {
    let cap = 16;
    while (cap < initialCapacity) cap <<= 1;
    this.mask = cap - 1;
    this.b = new Int32Array(cap * 2);
  }

  /** Keys are hashes already: their low bits pick the bucket. */
  private home(lo: number): number {
    return lo & this.mask;
  }

  /** Slot of the key, or -1; records[slot * stride + field] holds each slot's high half. */
  get(hi: number, lo: number, records: Int32Array, stride: number, field: number): number {
    const mask = this.mask;
    const b = this.b;
    let i = this.home(lo);
    for (;;) {
      const q = i << 1;
      const v = b[q + 1];
      if (v === 0) return -1;
      if (b[q] === lo && records[(v - 1) * stride + field] === hi) return v - 1;
      i = (i + 1) & mask;
    }
  }

  /** Adds a slot whose key is not present. */
  set(lo: number, slot: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const mask = this.mask;
    const b = this.b;
    let i = this.home(lo);
    while (b[(i << 1) + 1] !== 0) i = (i + 1) & mask;
    b[i << 1] = lo;
    b[(i << 1) + 1] = slot + 1;
    this.size++;
  }

  /** Removes the entry of a slot (found by its key's low half). */
  delete(lo: number, slot: number): boolean {
    const mask = this.mask;
    const b = this.b;
    let i = this.home(lo);
    for (;;) {
      const q = i << 1;
      if (b[q + 1] === 0) return false;
      if (b[q + 1] === slot + 1) break;
      i = (i + 1) & mask;
    }
    // shift back the following entries of the cluster that would no longer be reachable
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const qj = j << 1;
      if (b[qj + 1] === 0) break;
      const k = this.home(b[qj]);
      const movable = i <= j ? k <= i || k > j : k <= i && k > j;
      if (movable) {
        b[i << 1] = b[qj];
        b[(i << 1) + 1] = b[qj + 1];
        i = j;
      }
    }
    b[(i << 1) + 1] = 0;
    this.size--;
    return true;
  }

  private grow(): void {
    const old = this.b;
    this.mask = (this.mask + 1) * 2 - 1;
    this.b = new Int32Array((this.mask + 1) * 2);
    this.size = 0;
    for (let q = 0; q < old.length; q += 2) if (old[q + 1] !== 0) this.set(old[q], old[q + 1] - 1);
  }
}
