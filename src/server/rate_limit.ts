/**
 * A token-bucket rate limiter keyed by string, bounded in memory. The server
 * keeps one per install and one per client address, so a single noisy install
 * or host cannot starve the others.
 *
 * @module
 */

import { type Aged, AgeList } from "../core/_age_list.ts";
import { integer, invalidArgument, optionalFunction, positiveNumber } from "../core/validate.ts";

/** Options of a {@linkcode TokenBucketLimiter}. */
export interface TokenBucketOptions {
  /**
   * How many requests a key may make in a burst. `Infinity` disables the
   * limiter: every request is allowed and nothing is stored.
   *
   * @default 30
   */
  capacity?: number;
  /**
   * How many tokens each key regains per second, up to `capacity`.
   *
   * @default 0.5
   */
  refillPerSecond?: number;
  /**
   * How many keys are tracked at most. Past it the least recently used
   * bucket is dropped, which at worst hands that key a fresh, full bucket.
   *
   * @default 10000
   */
  maxBuckets?: number;
  /**
   * The clock, in milliseconds.
   *
   * @default Date.now
   */
  now?: () => number;
}

/** The answer of {@linkcode TokenBucketLimiter.take}. */
export type TakeResult = { allowed: true } | { allowed: false; retryAfterMs: number };

interface Bucket extends Aged<Bucket> {
  key: string;
  tokens: number;
  updatedAt: number;
}

const ALLOWED: TakeResult = { allowed: true };
const EPSILON = 1e-9;

/**
 * Allows `capacity` requests per key in a burst, then `refillPerSecond` per
 * second. Buckets idle long enough to be full again are evicted, since a
 * fresh bucket behaves the same, so memory follows the active keys only.
 *
 * @example Allow two requests, then ask to wait
 * ```ts
 * import { TokenBucketLimiter } from "@edgewire/sdk/server";
 *
 * let time = 0;
 * const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSecond: 1, now: () => time });
 * limiter.take("203.0.113.7"); // { allowed: true }
 * limiter.take("203.0.113.7"); // { allowed: true }
 * const third = limiter.take("203.0.113.7"); // { allowed: false, retryAfterMs: 1000 }
 * time += 1000;
 * limiter.take("203.0.113.7"); // { allowed: true }
 * console.log(third);
 * ```
 */
export class TokenBucketLimiter {
  readonly #capacity: number;
  readonly #refillPerSecond: number;
  readonly #maxBuckets: number;
  readonly #now: () => number;
  readonly #fullAfterMs: number;
  readonly #buckets = new Map<string, Bucket>();
  /** The buckets, least recently used first. */
  readonly #used = new AgeList<Bucket>();

  /**
   * Creates a limiter.
   *
   * @param options Burst size, refill rate, memory bound and clock.
   * @throws {InvalidArgumentError} When an option is out of range.
   */
  constructor(options: TokenBucketOptions = {}) {
    const action = "create TokenBucketLimiter";
    const capacity = options.capacity ?? 30;
    if (typeof capacity !== "number" || !(capacity >= 1)) {
      throw invalidArgument(action, "capacity", "at least 1 or Infinity", capacity);
    }
    const refill = positiveNumber(action, "refillPerSecond", options.refillPerSecond, 0.5);
    const maxBuckets = integer(action, "maxBuckets", options.maxBuckets, 10000);
    optionalFunction(action, "now", options.now);
    this.#capacity = capacity;
    this.#refillPerSecond = refill;
    this.#maxBuckets = maxBuckets;
    this.#now = options.now ?? (() => Date.now());
    this.#fullAfterMs = (capacity / refill) * 1000;
  }

  /** How many keys currently hold a bucket. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token from the bucket of `key`.
   *
   * @param key Whom the request is charged to, such as an address or an install.
   * @returns `{ allowed: true }`, or `{ allowed: false, retryAfterMs }` with the
   * wait until a token is available.
   */
  take(key: string): TakeResult {
    if (this.#capacity === Infinity) return ALLOWED;
    const now = this.#now();
    this.#evictIdle(now);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      const oldest = this.#used.oldest;
      if (this.#buckets.size >= this.#maxBuckets && oldest !== undefined) this.#drop(oldest);
      bucket = { key, tokens: this.#capacity, updatedAt: now, older: undefined, newer: undefined };
      this.#buckets.set(key, bucket);
      this.#used.append(bucket);
    } else {
      // A clock going backwards must not mint tokens or lock a key out.
      const elapsed = Math.max(0, now - bucket.updatedAt);
      bucket.tokens = Math.min(
        this.#capacity,
        bucket.tokens + (elapsed * this.#refillPerSecond) / 1000,
      );
      bucket.updatedAt = now;
      this.#used.touch(bucket);
    }
    // The epsilon absorbs float rounding, so waiting exactly `retryAfterMs` always suffices.
    if (bucket.tokens >= 1 - EPSILON) {
      bucket.tokens = Math.max(0, bucket.tokens - 1);
      return ALLOWED;
    }
    return {
      allowed: false,
      retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.#refillPerSecond) * 1000 - EPSILON),
    };
  }

  /** Forgets every bucket. */
  clear(): void {
    this.#buckets.clear();
    this.#used.clear();
  }

  #drop(bucket: Bucket): void {
    this.#buckets.delete(bucket.key);
    this.#used.remove(bucket);
  }

  #evictIdle(now: number): void {
    // A few of the least recently used per take keeps eviction O(1) amortised.
    for (let i = 0; i < 4; i++) {
      const oldest = this.#used.oldest;
      if (oldest === undefined || now - oldest.updatedAt < this.#fullAfterMs) return;
      this.#drop(oldest);
    }
  }
}
