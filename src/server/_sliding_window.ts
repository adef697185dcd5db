/**
 * The sliding-window request log migas-server uses per client address: a
 * request is refused when more than `maxRequests` requests (refused ones
 * included, as migas logs before counting) fall within the last `windowMs`.
 * Memory per key is bounded by a few hundred bytes: small allowances keep
 * the newest `maxRequests + 1` timestamps exactly; larger ones count
 * requests in 8 slots of an eighth of the window each, and a request
 * leaves the count between `windowMs` and `windowMs` plus one slot after it
 * was made, never before.
 *
 * @module
 */

import { OldestKeys } from "../core/_oldest_keys.ts";

/** Allowances up to this many timestamps are kept exactly. */
const EXACT_MAX = 8;
/** Slots per window for larger allowances. */
const SLOTS = 8;

/** The newest timestamps of a key, in a ring. */
interface Ring {
  times: Float64Array;
  start: number;
  count: number;
}

/** Counts per slot of a key; `slot` is the index of the newest slot, `total` their sum. */
interface Slots {
  // A plain array of small integers costs less than a typed array's two extra objects.
  counts: number[];
  slot: number;
  total: number;
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
  readonly #rings = new Map<string, Ring | Slots>();
  readonly #oldest = new OldestKeys(this.#rings);
  readonly #slotMs: number;

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
    this.#slotMs = options.windowMs / SLOTS;
  }

  /** How many keys are tracked. */
  get size(): number {
    return this.#rings.size;
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
      if (this.#rings.size >= this.#maxKeys) this.#oldest.drop();
      ring = this.#capacity <= EXACT_MAX
        ? { times: new Float64Array(this.#capacity), start: 0, count: 0 }
        : {
          counts: new Array<number>(SLOTS + 1).fill(0),
          slot: Math.floor(now / this.#slotMs),
          total: 0,
        };
    } else {
      this.#rings.delete(key);
    }
    this.#rings.set(key, ring);
    return "times" in ring ? this.#hitExact(ring, now) : this.#hitSlots(ring, now);
  }

  #hitExact(ring: Ring, now: number): boolean {
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

  #hitSlots(ring: Slots, now: number): boolean {
    const length = SLOTS + 1;
    const current = Math.floor(now / this.#slotMs);
    // The ring holds the current slot and the SLOTS before it, which together
    // cover at least the window; older slots are emptied as time moves on.
    const steps = Math.min(Math.max(0, current - ring.slot), length);
    for (let step = 1; step <= steps; step++) {
      const index = (((ring.slot + step) % length) + length) % length;
      ring.total -= ring.counts[index];
      ring.counts[index] = 0;
    }
    if (current > ring.slot) ring.slot = current;
    // Refused requests count too, as in migas; the cap only keeps the counters exact integers.
    if (ring.total < 0x7fffffff) {
      ring.counts[((ring.slot % length) + length) % length]++;
      ring.total++;
    }
    return ring.total <= this.#maxRequests;
  }
}
