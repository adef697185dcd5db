/**
 * Rate limits shared by every process on a backplane: the per-install,
 * per-address and per-project token buckets, and migas' per-address window.
 * Across processes a limit is counted in fixed windows with the backplane's
 * atomic counters: a bucket of `capacity` refilling `refillPerSecond` allows
 * `capacity` requests per `capacity / refillPerSecond` seconds in total, and
 * migas' `maxRequests` per `windowMs`. The counters cost one round trip, so
 * they are only used when a backplane is given; if it fails, the process's
 * own limiter answers instead (the limit then holds per process), so an
 * outage never refuses or holds up every request. Internal.
 *
 * @module
 */

import type { Backplane } from "./backplane.ts";
import type { TakeResult, TokenBucketLimiter } from "./rate_limit.ts";
import type { SlidingWindowLimiter } from "./_sliding_window.ts";

/** A limiter the routes charge: local answers at once, shared ones after a round trip. */
export interface RateLimiter {
  /**
   * Charges one request to `key`.
   *
   * @param key Whom the request is charged to.
   * @returns Whether it is allowed, and if not how long to wait.
   */
  take(key: string): TakeResult | Promise<TakeResult>;
  /** How many keys this process tracks. */
  readonly size: number;
}

const ALLOWED: TakeResult = { allowed: true };

/** A token bucket's limit counted for every process. Internal. */
export class SharedTokenBucket implements RateLimiter {
  readonly #local: TokenBucketLimiter;
  readonly #backplane: Backplane;
  readonly #prefix: string;
  readonly #capacity: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  /**
   * @param local The process's own limiter, used when the backplane fails.
   * @param backplane The shared counters.
   * @param name The limiter's name in the counters' keys.
   * @param limits The burst and refill rate, and the clock.
   */
  constructor(
    local: TokenBucketLimiter,
    backplane: Backplane,
    name: string,
    limits: { capacity: number; refillPerSecond: number; now: () => number },
  ) {
    this.#local = local;
    this.#backplane = backplane;
    this.#prefix = `rate:${name}:`;
    this.#capacity = limits.capacity;
    this.#windowMs = Math.max(1, Math.ceil((limits.capacity / limits.refillPerSecond) * 1000));
    this.#now = limits.now;
  }

  /** How many keys the local fallback tracks. */
  get size(): number {
    return this.#local.size;
  }

  /**
   * Charges one request to `key` in the current window, for every process.
   *
   * @param key Whom the request is charged to.
   * @returns Whether it is allowed, and if not the wait until the next window.
   */
  take(key: string): TakeResult | Promise<TakeResult> {
    if (this.#capacity === Infinity) return ALLOWED;
    const now = this.#now();
    const window = Math.floor(now / this.#windowMs);
    const counter = `${this.#prefix}${window}:${key}`;
    return this.#backplane.increment(counter, 1, this.#windowMs + 1000).then(
      (count): TakeResult =>
        count <= this.#capacity
          ? ALLOWED
          : { allowed: false, retryAfterMs: Math.max(1, (window + 1) * this.#windowMs - now) },
      () => this.#local.take(key),
    );
  }
}

/** Migas' window counted for every process. Internal. */
export class SharedWindow {
  readonly #local: SlidingWindowLimiter;
  readonly #backplane: Backplane;
  readonly #windowMs: number;
  readonly #maxRequests: number;
  readonly #now: () => number;

  /**
   * @param local The process's own window, used when the backplane fails.
   * @param backplane The shared counters.
   * @param limits The window, the allowance and the clock.
   */
  constructor(
    local: SlidingWindowLimiter,
    backplane: Backplane,
    limits: { windowMs: number; maxRequests: number; now: () => number },
  ) {
    this.#local = local;
    this.#backplane = backplane;
    this.#windowMs = limits.windowMs;
    this.#maxRequests = limits.maxRequests;
    this.#now = limits.now;
  }

  /**
   * Logs `count` requests of `key` (refused ones count, as in migas).
   *
   * @param key Whom they are charged to.
   * @param count How many requests.
   * @returns Whether they are all within the allowance.
   */
  async hit(key: string, count: number): Promise<boolean> {
    if (this.#maxRequests === Infinity) return true;
    const window = Math.floor(this.#now() / this.#windowMs);
    try {
      const total = await this.#backplane.increment(
        `rate:migas:${window}:${key}`,
        count,
        this.#windowMs + 1000,
      );
      return total <= this.#maxRequests;
    } catch {
      let allowed = true;
      for (let item = 0; item < count; item++) allowed = this.#local.hit(key) && allowed;
      return allowed;
    }
  }
}
