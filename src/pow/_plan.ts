/**
 * Splits the nonce space into kernel jobs: nonces in increasing order, cut
 * at every digit-count rollover (so a job never changes its message layout)
 * and into chunks small enough to check the clock, the signal and progress
 * between them.
 *
 * @module
 */

import {
  firstOfLength,
  type KernelJob,
  MAX_NONCE_LENGTH,
  type NonceEncoding,
  RADIX,
} from "./_kernel.ts";

/** A cursor over the nonce space of one challenge. */
export class NoncePlan {
  readonly #prefix: Uint8Array;
  readonly #encoding: NonceEncoding;
  readonly #zeroBits: number;
  #next = 0;
  #length = 1;

  /**
   * Starts at nonce 0.
   *
   * @param prefix The bytes before the nonce.
   * @param encoding How nonces are written.
   * @param zeroBits The leading zero bits a solution needs.
   */
  constructor(prefix: Uint8Array, encoding: NonceEncoding, zeroBits: number) {
    this.#prefix = prefix;
    this.#encoding = encoding;
    this.#zeroBits = zeroBits;
  }

  /** The first nonce value not yet handed out. */
  get next(): number {
    return this.#next;
  }

  /**
   * Hands out the next run of at most `size` nonces, never crossing a
   * digit-count rollover.
   *
   * @param size The most nonces the job may hold.
   * @returns The job, or `undefined` once the nonce space is exhausted.
   */
  take(size: number): KernelJob | undefined {
    const end = RADIX[this.#encoding] ** this.#length;
    if (this.#next >= end) {
      if (this.#length === MAX_NONCE_LENGTH) return undefined;
      this.#length++;
    }
    const start = Math.max(this.#next, firstOfLength(this.#length, this.#encoding));
    const count = Math.min(size, RADIX[this.#encoding] ** this.#length - start);
    this.#next = start + count;
    return {
      prefix: this.#prefix,
      encoding: this.#encoding,
      nonceLength: this.#length,
      start,
      count,
      zeroBits: this.#zeroBits,
    };
  }
}
