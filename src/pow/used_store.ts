/**
 * Remembers which challenges have been answered, so that one solved
 * challenge buys one request. Challenges carry their own expiry, so an id
 * only has to be remembered until then.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { UsedStoreFullError } from "./errors.ts";
import { assertIntegerInRange } from "./_validate.ts";
import { describeValue } from "../core/validate.ts";

/**
 * Records single use of challenge ids. Implement it over a shared database
 * (an atomic insert that fails on a duplicate key) when more than one server
 * process verifies challenges.
 *
 * @example A store over a shared key-value database
 * ```ts
 * import type { UsedChallengeStore } from "@edgewire/sdk/pow";
 *
 * // Stands in for a shared database table with an atomic insert-if-absent.
 * const rows = new Map<string, number>();
 * const store: UsedChallengeStore = {
 *   markUsed(id, expiresAt) {
 *     if (rows.has(id)) return Promise.resolve(false);
 *     rows.set(id, expiresAt);
 *     return Promise.resolve(true);
 *   },
 * };
 * ```
 */
export interface UsedChallengeStore {
  /**
   * Marks `id` as used, atomically.
   *
   * @param id The challenge id.
   * @param expiresAt When the challenge expires, in epoch milliseconds; the
   * store may forget `id` after then.
   * @returns True on the first use of `id`, false when it was already used.
   */
  markUsed(id: string, expiresAt: number): Promise<boolean>;
}

/** Options of {@linkcode MemoryUsedChallengeStore}. */
export interface MemoryUsedChallengeStoreOptions {
  /**
   * The clock, in epoch milliseconds, that decides when an id has expired.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * How many unexpired ids the store holds at most; past that it rejects new
   * ids with {@linkcode UsedStoreFullError} rather than forget any.
   *
   * @default 100000
   */
  maxEntries?: number;
}

const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * A {@linkcode UsedChallengeStore} in this process's memory, for a single
 * server process. Each id is kept until its `expiresAt`, then pruned (a
 * min-heap on expiry makes pruning O(log n) per id).
 *
 * When it already holds `maxEntries` unexpired ids, `markUsed` of a new id
 * rejects with {@linkcode UsedStoreFullError}: forgetting an unexpired id
 * would allow its replay, and answering false would misreport a fresh
 * challenge as replayed. Duplicates still resolve false when full. With
 * challenges that cost proof-of-work and expire within minutes, the default
 * capacity allows about 330 verified challenges per second at a 5 minute TTL.
 *
 * An id whose `expiresAt` has already passed is not remembered: its
 * challenge is refused as expired before it reaches the store.
 *
 * @example
 * ```ts
 * import { MemoryUsedChallengeStore } from "@edgewire/sdk/pow";
 *
 * const store = new MemoryUsedChallengeStore();
 * const expiresAt = Date.now() + 60_000;
 * console.log(await store.markUsed("challenge-1", expiresAt)); // true
 * console.log(await store.markUsed("challenge-1", expiresAt)); // false
 * ```
 */
export class MemoryUsedChallengeStore implements UsedChallengeStore {
  readonly #now: () => number;
  readonly #maxEntries: number;
  /** Id to expiry, for the duplicate check. */
  readonly #expiries = new Map<string, number>();
  /** A binary min-heap on expiry, as two parallel arrays, for pruning. */
  readonly #heapExpiries: number[] = [];
  readonly #heapIds: string[] = [];

  /**
   * Creates an empty store.
   *
   * @param options The clock and the capacity.
   * @throws {InvalidArgumentError} When `maxEntries` is not a positive integer.
   */
  constructor(options: MemoryUsedChallengeStoreOptions = {}) {
    const { maxEntries = DEFAULT_MAX_ENTRIES } = options;
    assertIntegerInRange(
      "maxEntries",
      maxEntries,
      [1, Number.MAX_SAFE_INTEGER],
      "create MemoryUsedChallengeStore",
    );
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** How many unexpired ids the store holds, as of the last call to {@linkcode markUsed}. */
  get size(): number {
    return this.#expiries.size;
  }

  /**
   * Marks `id` as used until `expiresAt`.
   *
   * @param id The challenge id.
   * @param expiresAt When the challenge expires, in epoch milliseconds.
   * @returns True on the first use of `id` before it expires, false when it was already used.
   * @throws {InvalidArgumentError} As a rejection, when `id` is not a string or
   * `expiresAt` is not a number.
   * @throws {UsedStoreFullError} As a rejection, when `id` is new and the store
   * already holds `maxEntries` unexpired ids.
   */
  markUsed(id: string, expiresAt: number): Promise<boolean> {
    try {
      return Promise.resolve(this.#mark(id, expiresAt));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #mark(id: string, expiresAt: number): boolean {
    if (typeof id !== "string") {
      throw new InvalidArgumentError(
        "id",
        `Cannot mark a challenge as used as 'id' must be a string: current value is ${
          describeValue(id)
        }`,
      );
    }
    if (typeof expiresAt !== "number" || Number.isNaN(expiresAt)) {
      throw new InvalidArgumentError(
        "expiresAt",
        `Cannot mark a challenge as used as 'expiresAt' must be a number of epoch milliseconds: current value is ${
          describeValue(expiresAt)
        }`,
      );
    }
    const now = this.#now();
    this.#prune(now);
    if (this.#expiries.has(id)) return false;
    if (!(expiresAt > now)) return true;
    if (this.#expiries.size >= this.#maxEntries) {
      throw new UsedStoreFullError(
        `Cannot remember a used challenge as the store already holds ${this.#maxEntries} unexpired ones: raise 'maxEntries' or shorten the challenge TTL`,
        this.#maxEntries,
      );
    }
    this.#expiries.set(id, expiresAt);
    this.#push(expiresAt, id);
    return true;
  }

  #prune(now: number): void {
    const expiries = this.#heapExpiries;
    while (expiries.length > 0 && expiries[0] <= now) {
      this.#expiries.delete(this.#heapIds[0]);
      this.#popMin();
    }
  }

  #push(expiresAt: number, id: string): void {
    const expiries = this.#heapExpiries;
    const ids = this.#heapIds;
    let i = expiries.length;
    expiries.push(expiresAt);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (expiries[parent] <= expiresAt) break;
      expiries[i] = expiries[parent];
      ids[i] = ids[parent];
      i = parent;
    }
    expiries[i] = expiresAt;
    ids[i] = id;
  }

  #popMin(): void {
    const expiries = this.#heapExpiries;
    const ids = this.#heapIds;
    const lastExpiry = expiries.pop()!;
    const lastId = ids.pop()!;
    const size = expiries.length;
    if (size === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && expiries[right] < expiries[left] ? right : left;
      if (expiries[child] >= lastExpiry) break;
      expiries[i] = expiries[child];
      ids[i] = ids[child];
      i = child;
    }
    expiries[i] = lastExpiry;
    ids[i] = lastId;
  }
}
