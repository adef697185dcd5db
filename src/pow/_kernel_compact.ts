/**
 * The compact TypeScript proof-of-work kernel: the SHA-256 rounds as short
 * rolled loops over typed arrays. It is the small, quick-to-optimise choice:
 * engines that are slow to optimise huge straight-line functions (JavaScriptCore
 * takes about half a second to optimise the unrolled kernel) can run it faster
 * for short solves, and the solver's calibration picks whichever wins. It shares the unrolled kernel's shortcuts: the midstate and the
 * rounds before the nonce's first word are hashed once per job, nonce digits
 * are edited in place like an odometer, and only digest word 0 is computed
 * before a candidate is known to pass it.
 *
 * @module
 */

import type { Kernel, KernelJob } from "./_kernel.ts";
import { layoutJob } from "./_layout.ts";
import { SHA256_K as K } from "./_sha256.ts";

/** The ASCII codes of "0", "9" and "a". */
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const DIGIT_A = 97;

/**
 * Runs rounds `from .. to - 1` of a block whose schedule words plus round
 * constants are in `kw`, starting from `start`, and writes the eight working
 * variables (not yet added to the chaining value) to `out`.
 */
function rounds(
  start: Int32Array,
  kw: Int32Array,
  from: number,
  to: number,
  out: Int32Array,
): void {
  let a = start[0];
  let b = start[1];
  let c = start[2];
  let d = start[3];
  let e = start[4];
  let f = start[5];
  let g = start[6];
  let h = start[7];
  for (let t = from; t < to; t++) {
    // Engines add left to right without reassociating, so the terms that
    // wait longest on e and a (Σ1, Σ0) come last to keep the round short.
    const t1 = (h + kw[t] + (g ^ e & (f ^ g)) +
      ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7))) | 0;
    const t2 = ((a & b | c & (a | b)) +
      ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = a;
  out[1] = b;
  out[2] = c;
  out[3] = d;
  out[4] = e;
  out[5] = f;
  out[6] = g;
  out[7] = h;
}

/**
 * Like {@linkcode rounds} over all 64 rounds' worth of schedule, but expands
 * the message schedule inside the round loop: the per-nonce path, where a
 * separate schedule pass would store and reload 64 words.
 */
function hashRounds(
  start: Int32Array,
  words: Int32Array,
  offset: number,
  w: Int32Array,
  from: number,
  out: Int32Array,
): void {
  for (let t = 0; t < 16; t++) w[t] = words[offset + t];
  let a = start[0];
  let b = start[1];
  let c = start[2];
  let d = start[3];
  let e = start[4];
  let f = start[5];
  let g = start[6];
  let h = start[7];
  for (let t = from; t < 64; t++) {
    let wt = w[t];
    if (t >= 16) {
      const x = w[t - 15];
      const y = w[t - 2];
      wt = (((y >>> 17 | y << 15) ^ (y >>> 19 | y << 13) ^ (y >>> 10)) + w[t - 7] +
        ((x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ (x >>> 3)) + w[t - 16]) | 0;
      w[t] = wt;
    }
    const t1 = (h + K[t] + wt + (g ^ e & (f ^ g)) +
      ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7))) | 0;
    const t2 = ((a & b | c & (a | b)) +
      ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = a;
  out[1] = b;
  out[2] = c;
  out[3] = d;
  out[4] = e;
  out[5] = f;
  out[6] = g;
  out[7] = h;
}

/**
 * Expands the 16 message words at `words[offset ..]` into the schedule and
 * adds the round constants, leaving `K[t] + W[t]` in `kw`.
 */
function schedule(words: Int32Array, offset: number, w: Int32Array, kw: Int32Array): void {
  for (let t = 0; t < 16; t++) w[t] = words[offset + t];
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15];
    const y = w[t - 2];
    w[t] = (((y >>> 17 | y << 15) ^ (y >>> 19 | y << 13) ^ (y >>> 10)) + w[t - 7] +
      ((x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ (x >>> 3)) + w[t - 16]) | 0;
  }
  for (let t = 0; t < 64; t++) kw[t] = (K[t] + w[t]) | 0;
}

/**
 * Creates the compact TypeScript kernel. It keeps reusable scratch buffers,
 * so one instance must not run two searches at once (workers each create
 * their own).
 *
 * @returns A kernel named `"ts-compact"`.
 */
export function createCompactKernel(): Kernel {
  const w = new Int32Array(64);
  const kw = new Int32Array(64);
  const kw2 = new Int32Array(64);
  /** The chaining value entering the block that holds the nonce's last digit. */
  const chain = new Int32Array(8);
  /** The working variables after the rounds that precede the first word with a nonce digit. */
  const hoisted = new Int32Array(8);
  const out = new Int32Array(8);
  const digest = new Int32Array(8);

  return {
    name: "ts-compact",
    search(job: KernelJob): number {
      const { tail, midstate, blocks, nonceOffset } = layoutJob(job);
      const bytes = new Uint8Array(blocks * 64);
      for (let i = 0; i < tail.length; i++) {
        const word = tail[i];
        bytes[i * 4] = word >>> 24;
        bytes[i * 4 + 1] = word >>> 16;
        bytes[i * 4 + 2] = word >>> 8;
        bytes[i * 4 + 3] = word;
      }
      const lastDigit = job.encoding === "hex" ? DIGIT_A + 5 : DIGIT_9;
      const lastByte = nonceOffset + job.nonceLength - 1;
      const zeroBits = job.zeroBits;
      const mask = zeroBits >= 32 ? -1 : ~(-1 >>> zeroBits);
      // When the nonce ends in the second block, the first only changes on a
      // carry into its digits; otherwise the second block is pure padding.
      const secondBlockNonce = lastByte >= 64;
      const paddingBlock = blocks === 2 && !secondBlockNonce;
      const offset = secondBlockNonce ? 16 : 0;
      const firstWord = secondBlockNonce ? 0 : nonceOffset >> 2;
      if (paddingBlock) schedule(tail, 16, w, kw2);
      let changed = 0;

      for (let i = 0; i < job.count; i++) {
        if (i > 0) {
          // The odometer: bump the last digit, carry leftwards, rewrite only touched words.
          let position = lastByte;
          while (bytes[position] === lastDigit) bytes[position--] = DIGIT_0;
          const digit = bytes[position];
          // Decimal never gets here with a 9: it is its last digit.
          bytes[position] = digit === DIGIT_9 ? DIGIT_A : digit + 1;
          for (let word = position >> 2; word <= lastByte >> 2; word++) {
            const at = word * 4;
            tail[word] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) |
              bytes[at + 3];
          }
          changed = position;
        }
        if (i === 0 || (secondBlockNonce && changed < 64)) {
          chain.set(midstate);
          if (secondBlockNonce) {
            schedule(tail, 0, w, kw);
            rounds(midstate, kw, 0, 64, out);
            for (let j = 0; j < 8; j++) chain[j] = (midstate[j] + out[j]) | 0;
          }
          // The rounds before the first word with a digit read only constant words.
          schedule(tail, offset, w, kw);
          rounds(chain, kw, 0, firstWord, hoisted);
        }
        hashRounds(hoisted, tail, offset, w, firstWord, out);
        let input = chain;
        if (paddingBlock) {
          for (let j = 0; j < 8; j++) digest[j] = (chain[j] + out[j]) | 0;
          rounds(digest, kw2, 0, 64, out);
          input = digest;
        }
        if (((input[0] + out[0]) & mask) !== 0) continue;
        if (zeroBits <= 32) return i;
        let bits = 0;
        for (let j = 0; j < 8; j++) {
          const zeros = Math.clz32((input[j] + out[j]) | 0);
          bits += zeros;
          if (zeros < 32) break;
        }
        if (bits >= zeroBits) return i;
      }
      return -1;
    },
  };
}
