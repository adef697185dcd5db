/**
 * Byte-array helpers shared by the codecs, the stores and the crypto:
 * one concatenation and one varint length rather than one per module.
 *
 * @module
 */

/**
 * Joins byte arrays into one new array.
 *
 * @param parts The arrays, in order.
 * @returns A new array on its own `ArrayBuffer` holding every part.
 * @throws Never.
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 *
 * console.log(concatBytes(new Uint8Array([1]), new Uint8Array([2, 3]))); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

/**
 * How many bytes the unsigned LEB128 varint of a value takes (Honch frames,
 * Go's `binary.Uvarint` in Spot).
 *
 * @param value A safe non-negative integer.
 * @returns 1 to 8 (a safe integer never needs more).
 * @throws Never.
 * @example
 * ```ts
 * import { uvarintLength } from "./bytes.ts";
 *
 * console.log(uvarintLength(127), uvarintLength(128)); // 1 2
 * ```
 */
export function uvarintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}
