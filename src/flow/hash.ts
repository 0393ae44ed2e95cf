/**
 * A fast 64-bit hash made of two independent 32-bit lanes (Math.imul only: no BigInt, no allocation). Input is
 * a word array; results are written to an Int32Array pair so that nothing is boxed.
 * The value is a hash, not a cryptographic digest: it identifies flows, it does not protect anything.
 */

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Hashes words[0, nWords) with the given seeds into out[0] (high half) and out[1] (low half). Each lane mixes a
 * word with one multiply by an odd constant and a shift or rotate (a bijection of the lane state for a given
 * word), and the lanes are cross-mixed and finalised with murmur3's fmix32.
 */
export function hash64(words: Int32Array, nWords: number, seedHi: number, seedLo: number, out: Int32Array): void {
  let h1 = seedHi ^ 0x2545f491;
  let h2 = seedLo ^ 0x9e3779b9;
  for (let i = 0; i < nWords; i++) {
    const w = words[i];
    h1 = Math.imul(h1 ^ w, 0x9e3779b1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul(h2 ^ w, 0x85ebca77);
    h2 = rotl(h2, 13);
  }
  h1 ^= nWords;
  h2 ^= nWords;
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2 ^ 0x68e31da4);
  h1 = (h1 + h2) | 0;
  h2 = (h2 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
}

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(v: number): string {
  return HEX2[v >>> 24] + HEX2[(v >>> 16) & 0xff] + HEX2[(v >>> 8) & 0xff] + HEX2[v & 0xff];
}

/** Lowercase hex of the unsigned 64-bit value hi:lo, without zero padding (as Go's FormatUint(v, 16)). */
export function hex64(hi: number, lo: number): string {
  const s = hex32(hi) + hex32(lo);
  let i = 0;
  while (i < 15 && s.charCodeAt(i) === 48) i++;
  return s.slice(i);
}

/** Hash of a string (UTF-16 code units), for table-wide constants such as the NodeTID. */
export function hashString(s: string, out: Int32Array): void {
  const words = new Int32Array(Math.ceil(s.length / 2) + 1);
  for (let i = 0; i < s.length; i++) words[i >> 1] |= s.charCodeAt(i) << ((i & 1) * 16);
  words[words.length - 1] = s.length;
  hash64(words, words.length, 0x51ed270b, 0x1b873593, out);
}
