/**
 * Lays a kernel job's message out for hashing, once per job: the midstate
 * after the prefix's full 64-byte blocks (nonce-independent, so hashed once),
 * then the remaining "tail" blocks (one or two) as big-endian words with the
 * first nonce written in and SHA-256 padding after it. Every kernel starts
 * from this layout and then only rewrites nonce digits.
 *
 * @module
 */

import { compress, SHA256_IV } from "./_sha256.ts";
import { formatNonce, type KernelJob } from "./_kernel.ts";

/** A job's message, ready for a kernel. */
export interface JobLayout {
  /** The chaining state after every full block before the tail. */
  midstate: Int32Array;
  /** The tail as big-endian words: 16 per block, with `start`'s digits and the padding. */
  tail: Int32Array;
  /** How many blocks the tail has: 1, or 2 when the nonce or the padding spills over. */
  blocks: 1 | 2;
  /** The byte offset of the nonce's first digit inside the tail. */
  nonceOffset: number;
}

/** The prefix of the last job laid out, and its midstate, so chunked jobs of one challenge hash it once. */
let cachedPrefix: Uint8Array | undefined;
let cachedHead: { midstate: Int32Array; headLength: number } | undefined;

/**
 * Lays out a job.
 *
 * @param job The job; its `start` is written as the first nonce.
 * @returns The midstate, the padded tail words and where the nonce sits.
 */
export function layoutJob(job: KernelJob): JobLayout {
  const { prefix } = job;
  const { midstate, headLength } = head(prefix);
  const nonceOffset = prefix.length - headLength;
  const end = nonceOffset + job.nonceLength;
  const blocks = end + 9 <= 64 ? 1 : 2;
  const bytes = new Uint8Array(blocks * 64);
  bytes.set(prefix.subarray(headLength));
  const digits = formatNonce(job.start, job.encoding);
  for (let i = 0; i < digits.length; i++) bytes[nonceOffset + i] = digits.charCodeAt(i);
  bytes[end] = 0x80;
  const bits = (prefix.length + job.nonceLength) * 8;
  const view = new DataView(bytes.buffer);
  view.setUint32(bytes.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(bytes.length - 4, bits >>> 0);
  const tail = new Int32Array(blocks * 16);
  for (let i = 0; i < tail.length; i++) tail[i] = view.getInt32(i * 4);
  return { midstate: midstate.slice(), tail, blocks, nonceOffset };
}

function head(prefix: Uint8Array): { midstate: Int32Array; headLength: number } {
  if (cachedHead !== undefined && cachedPrefix !== undefined && equal(cachedPrefix, prefix)) {
    return cachedHead;
  }
  const fullBlocks = Math.floor(prefix.length / 64);
  const midstate = SHA256_IV.slice();
  if (fullBlocks > 0) {
    const view = new DataView(prefix.buffer, prefix.byteOffset, fullBlocks * 64);
    const words = new Int32Array(fullBlocks * 16);
    for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * 4);
    const w = new Int32Array(64);
    for (let offset = 0; offset < words.length; offset += 16) compress(midstate, words, offset, w);
  }
  cachedPrefix = prefix.slice();
  cachedHead = { midstate, headLength: fullBlocks * 64 };
  return cachedHead;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
