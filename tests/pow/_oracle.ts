/**
 * The brute-force oracle every kernel is tested against: @noble/hashes over
 * the plain string of each nonce, no shortcuts.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { formatNonce, type KernelJob } from "../../src/pow/_kernel.ts";

/** Leading zero bits of a digest. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The offset of the first solving nonce of a job, or -1, computed the slow way. */
export function oracleSearch(job: KernelJob): number {
  for (let i = 0; i < job.count; i++) {
    const nonce = new TextEncoder().encode(formatNonce(job.start + i, job.encoding));
    const message = new Uint8Array(job.prefix.length + nonce.length);
    message.set(job.prefix);
    message.set(nonce, job.prefix.length);
    if (leadingZeroBits(sha256(message)) >= job.zeroBits) return i;
  }
  return -1;
}
