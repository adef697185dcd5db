/**
 * The sliding-window request log migas-server uses per client address: a
 * request is refused when more than `maxRequests` requests (refused ones
 * included, as migas logs before counting) fall within the last `windowMs`.
 * Each key keeps a fixed ring of timestamps, so memory per key is bounded.
 *
 * @module
 */

interface Ring {
  times: Float64Array;
  start: number;
  count: number;
}

/** Options of a {@linkcode SlidingWindowLimiter}. */
export interface SlidingWindowOptions {
  /** The window's length, in milliseconds. */
  windowMs: number;
  /** How many requests a key may make within the window; `Infinity` disables the limiter. */
  maxRequests: number;
  /** The clock, in milliseconds. */
  now: () => number;
  /** How many keys are tracked at most; past it the least recently used is dropped. */
  maxKeys?: number;
}

/**
 * Counts requests per key over a sliding window.
 *
 * @example
 * ```ts ignore
 * const limiter = new SlidingWindowLimiter({ windowMs: 60_000, maxRequests: 2, now: Date.now });
 * limiter.hit("192.0.2.1"); // true
 * ```
 */
export class SlidingWindowLimiter {
  readonly #windowMs: number;
  readonly #capacity: number;
  readonly #maxRequests: number;
  readonly #now: () => number;
  readonly #maxKeys: number;
  // A Map keeps insertion order; re-inserting on use makes its head the least recently used.
  readonly #rings = new Map<string, Ring>();

  /**
   * Creates a limiter; options are validated by the caller.
   *
   * @param options The window, the allowance, the clock and the key bound.
   */
  constructor(options: SlidingWindowOptions) {
    this.#windowMs = options.windowMs;
    this.#maxRequests = options.maxRequests;
    this.#capacity = Number.isFinite(options.maxRequests) ? options.maxRequests + 1 : 0;
    this.#now = options.now;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  /**
   * Logs one request of `key`.
   *
   * @param key Whom the request is charged to.
   * @returns Whether the request is within the allowance.
   */
  hit(key: string): boolean {
    if (this.#capacity === 0) return true;
    const now = this.#now();
    let ring = this.#rings.get(key);
    if (ring === undefined) {
      if (this.#rings.size >= this.#maxKeys) {
        const oldest = this.#rings.keys().next();
        if (!oldest.done) this.#rings.delete(oldest.value);
      }
      ring = { times: new Float64Array(this.#capacity), start: 0, count: 0 };
    } else {
      this.#rings.delete(key);
    }
    this.#rings.set(key, ring);
    const capacity = this.#capacity;
    const cutoff = now - this.#windowMs;
    while (ring.count > 0 && ring.times[ring.start] <= cutoff) {
      ring.start = (ring.start + 1) % capacity;
      ring.count--;
    }
    // Only whether more than maxRequests fall in the window matters, so the
    // newest maxRequests + 1 timestamps are all that need keeping.
    if (ring.count === capacity) {
      ring.start = (ring.start + 1) % capacity;
      ring.count--;
    }
    ring.times[(ring.start + ring.count) % capacity] = now;
    ring.count++;
    return ring.count <= this.#maxRequests;
  }
}
