/**
 * The hash Emitter gives every channel segment: MurmurHash3 x86 32-bit with
 * seed 37, its result byte-swapped. Channel queries, key targets and
 * subscription ids are all built from it, so it must match the real broker bit
 * for bit.
 *
 * @module
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const SEED = 37;
const encoder = new TextEncoder();

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

function mixK(k: number): number {
  return Math.imul(rotl(Math.imul(k, C1), 15), C2);
}

/**
 * Hashes bytes the way the Emitter broker does (MurmurHash3 x86 32-bit, seed
 * 37, result byte-swapped).
 *
 * @param data The bytes to hash.
 * @returns The hash, an unsigned 32-bit integer.
 * @throws Never.
 * @example
 * ```ts
 * import { murmur32 } from "./murmur.ts";
 *
 * console.log(murmur32(new TextEncoder().encode("+"))); // 1815237614
 * ```
 */
export function murmur32(data: Uint8Array): number {
  let h = SEED;
  const blocks = data.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    const k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    h ^= mixK(k);
    h = (Math.imul(rotl(h, 13), 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (data.length & 3) {
    case 3:
      k ^= data[blocks + 2] << 16;
    // falls through
    case 2:
      k ^= data[blocks + 1] << 8;
    // falls through
    case 1:
      k ^= data[blocks];
      h ^= mixK(k);
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  // The broker reads the little-endian hash as big-endian.
  return (((h & 0xff) << 24) | ((h & 0xff00) << 8) | ((h >>> 8) & 0xff00) | (h >>> 24)) >>> 0;
}

/**
 * Hashes the UTF-8 bytes of a string with {@linkcode murmur32}.
 *
 * @param text The string to hash, such as one channel segment.
 * @returns The hash, an unsigned 32-bit integer.
 * @throws Never.
 * @example
 * ```ts
 * import { murmur32String } from "./murmur.ts";
 *
 * console.log(murmur32String("")); // 1325880984, the target of a `#/` key
 * ```
 */
export function murmur32String(text: string): number {
  return murmur32(encoder.encode(text));
}
