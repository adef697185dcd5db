/**
 * The proof-of-work inner loop: hashes `challenge:nonce` for nonces 0, 1, 2 …
 * in lowercase hex, editing the nonce's ASCII digits in place like an
 * odometer so that a candidate costs one or two compressions and no
 * allocation. Full 64-byte blocks of the challenge before the nonce are
 * hashed once, up front, into a midstate.
 *
 * @module
 */

import { compress, SHA256_IV } from "./_sha256.ts";

const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const DIGIT_A = 0x61;
const DIGIT_F = 0x66;

/**
 * Counts the leading zero hex digits of a SHA-256 state held as words.
 *
 * @param state The eight digest words.
 * @returns How many of the 64 hex digits lead with zeros.
 */
export function stateLeadingHexZeros(state: Int32Array): number {
  let zeros = 0;
  for (let i = 0; i < 8; i++) {
    const word = state[i];
    if (word !== 0) return zeros + (Math.clz32(word) >>> 2);
    zeros += 8;
  }
  return zeros;
}

/** A resumable search for the first nonce that meets a difficulty. */
export class NonceSearch {
  readonly #difficulty: number;
  /** The bits of the first digest word that must be zero; all of them from difficulty 8 on. */
  readonly #firstWordMask: number;
  readonly #midstate: Int32Array;
  /** Where the nonce starts inside the tail, the blocks that are hashed per candidate. */
  readonly #nonceOffset: number;
  /** The challenge bytes that share the nonce's first block. */
  readonly #tailPrefix: Uint8Array;
  /** Bytes of the message before the tail, for the length in the padding. */
  readonly #headLength: number;
  readonly #state = new Int32Array(8);
  readonly #schedule = new Int32Array(64);
  #nonceLength = 1;
  #tail: Uint8Array = new Uint8Array(0);
  #words: Int32Array = new Int32Array(0);
  #tried = 0;

  /**
   * Prepares the search at nonce "0".
   *
   * @param challenge The challenge the nonce is appended to, after a ":".
   * @param difficulty How many leading hex zeros the digest needs, 1..64.
   */
  constructor(challenge: string, difficulty: number) {
    this.#difficulty = difficulty;
    this.#firstWordMask = difficulty >= 8 ? -1 : ~(-1 >>> (4 * difficulty));
    const prefix = new TextEncoder().encode(challenge + ":");
    const fullBlocks = Math.floor(prefix.length / 64);
    this.#headLength = fullBlocks * 64;
    this.#midstate = SHA256_IV.slice();
    if (fullBlocks > 0) {
      const view = new DataView(prefix.buffer, prefix.byteOffset, this.#headLength);
      const words = new Int32Array(fullBlocks * 16);
      for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * 4);
      for (let offset = 0; offset < words.length; offset += 16) {
        compress(this.#midstate, words, offset, this.#schedule);
      }
    }
    this.#tailPrefix = prefix.slice(this.#headLength);
    this.#nonceOffset = this.#tailPrefix.length;
    this.#layout(DIGIT_0);
  }

  /** How many nonces have been hashed so far. */
  get tried(): number {
    return this.#tried;
  }

  /** The nonce under test; after {@linkcode run} returns true, the solution. */
  get nonce(): string {
    const start = this.#nonceOffset;
    return String.fromCharCode(...this.#tail.subarray(start, start + this.#nonceLength));
  }

  /**
   * Hashes up to `limit` more nonces.
   *
   * @param limit How many nonces to try at most before returning.
   * @returns True when {@linkcode nonce} meets the difficulty.
   */
  run(limit: number): boolean {
    const state = this.#state;
    const midstate = this.#midstate;
    const schedule = this.#schedule;
    const mask = this.#firstWordMask;
    for (let n = 0; n < limit; n++) {
      const words = this.#words;
      state[0] = midstate[0];
      state[1] = midstate[1];
      state[2] = midstate[2];
      state[3] = midstate[3];
      state[4] = midstate[4];
      state[5] = midstate[5];
      state[6] = midstate[6];
      state[7] = midstate[7];
      for (let offset = 0; offset < words.length; offset += 16) {
        compress(state, words, offset, schedule);
      }
      this.#tried++;
      if ((state[0] & mask) === 0 && stateLeadingHexZeros(state) >= this.#difficulty) return true;
      this.#increment();
    }
    return false;
  }

  /** Adds one to the hex nonce, carrying leftwards and growing it on rollover. */
  #increment(): void {
    const tail = this.#tail;
    const first = this.#nonceOffset;
    const last = first + this.#nonceLength - 1;
    let i = last;
    for (;;) {
      const digit = tail[i];
      if (digit === DIGIT_9) {
        tail[i] = DIGIT_A;
        break;
      }
      if (digit !== DIGIT_F) {
        tail[i] = digit + 1;
        break;
      }
      tail[i] = DIGIT_0;
      if (i === first) {
        // "f…f" + 1 is "10…0": one digit longer, so the padding moves.
        this.#nonceLength++;
        this.#layout(DIGIT_1);
        return;
      }
      i--;
    }
    const words = this.#words;
    for (let j = i >>> 2; j <= last >>> 2; j++) {
      const at = j * 4;
      words[j] = (tail[at] << 24) | (tail[at + 1] << 16) | (tail[at + 2] << 8) | tail[at + 3];
    }
  }

  /**
   * Rebuilds the padded tail for the current nonce length, with the nonce
   * set to `leading` followed by zeros.
   */
  #layout(leading: number): void {
    const nonceEnd = this.#nonceOffset + this.#nonceLength;
    const blocks = Math.floor((nonceEnd + 8) / 64) + 1;
    const tail = new Uint8Array(blocks * 64);
    tail.set(this.#tailPrefix);
    tail.fill(DIGIT_0, this.#nonceOffset, nonceEnd);
    tail[this.#nonceOffset] = leading;
    tail[nonceEnd] = 0x80;
    const view = new DataView(tail.buffer);
    const bits = (this.#headLength + nonceEnd) * 8;
    view.setUint32(tail.length - 8, Math.floor(bits / 0x100000000));
    view.setUint32(tail.length - 4, bits >>> 0);
    const words = new Int32Array(blocks * 16);
    for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * 4);
    this.#tail = tail;
    this.#words = words;
  }
}
