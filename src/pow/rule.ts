/**
 * The mkStats proof-of-work rule: a nonce solves a challenge when the
 * lowercase hex SHA-256 of `challenge + ":" + nonce` (UTF-8) starts with
 * `difficulty` zero characters. This file states the rule once, plainly;
 * the solver's fast kernel is tested against it.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { assertDifficulty, assertIntegerInRange } from "./_validate.ts";

const encoder = new TextEncoder();

/**
 * Counts the leading zero hex digits (4-bit nibbles) of a digest, which is
 * what "starts with N '0' characters" means for its lowercase hex.
 *
 * @param digest The digest bytes, most significant first.
 * @returns How many hex digits lead with zeros, from 0 to `2 * digest.length`.
 *
 * @example
 * ```ts
 * import { leadingHexZeros } from "@edgewire/sdk/pow";
 *
 * console.log(leadingHexZeros(new Uint8Array([0x00, 0x0f, 0xff]))); // 3
 * ```
 */
export function leadingHexZeros(digest: Uint8Array): number {
  let zeros = 0;
  for (const byte of digest) {
    if (byte === 0) {
      zeros += 2;
      continue;
    }
    return byte < 0x10 ? zeros + 1 : zeros;
  }
  return zeros;
}

/**
 * Tells whether `nonce` solves `challenge` at `difficulty`: whether the hex
 * SHA-256 of the UTF-8 bytes of `challenge + ":" + nonce` starts with
 * `difficulty` zeros. Costs one hash.
 *
 * @param challenge The challenge the server issued.
 * @param nonce The candidate answer, as sent (lowercase hex for mkStats).
 * @param difficulty How many leading zero hex digits the digest needs, 1..64.
 * @returns True when the digest has at least `difficulty` leading zero hex digits.
 * @throws {InvalidArgumentError} When `difficulty` is not an integer from 1 to 64.
 *
 * @example
 * ```ts
 * import { meetsDifficulty } from "@edgewire/sdk/pow";
 *
 * console.log(meetsDifficulty("3f9a1c0e5b7d2468ace013579bdf2468", "1157", 4)); // true
 * ```
 */
export function meetsDifficulty(challenge: string, nonce: string, difficulty: number): boolean {
  assertDifficulty(difficulty, "check proof-of-work");
  return leadingHexZeros(sha256(encoder.encode(`${challenge}:${nonce}`))) >= difficulty;
}

/**
 * Counts the leading zero bits of a digest.
 *
 * @param digest The digest bytes, most significant first.
 * @returns How many bits lead with zeros, from 0 to `8 * digest.length`.
 *
 * @example
 * ```ts
 * import { leadingZeroBits } from "@edgewire/sdk/pow";
 *
 * console.log(leadingZeroBits(new Uint8Array([0x00, 0x1f]))); // 11
 * ```
 */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/**
 * Tells whether `nonce` solves `challenge` under the leading-zero-bits rule:
 * whether the SHA-256 of the UTF-8 bytes of `challenge + ":" + nonce` starts
 * with `zeroBits` zero bits. Costs one hash.
 *
 * @param challenge The challenge.
 * @param nonce The candidate answer, as sent (decimal or hex).
 * @param zeroBits How many leading bits must be zero, 1..256.
 * @returns True when the digest has at least `zeroBits` leading zero bits.
 * @throws {InvalidArgumentError} When `zeroBits` is not an integer from 1 to 256.
 *
 * @example
 * ```ts
 * import { meetsZeroBits } from "@edgewire/sdk/pow";
 *
 * console.log(meetsZeroBits("3f9a1c0e5b7d2468ace013579bdf2468", "1157", 16)); // true
 * ```
 */
export function meetsZeroBits(challenge: string, nonce: string, zeroBits: number): boolean {
  assertIntegerInRange("zeroBits", zeroBits, [1, 256], "check proof-of-work");
  return leadingZeroBits(sha256(encoder.encode(`${challenge}:${nonce}`))) >= zeroBits;
}
