/**
 * The errors only the proof-of-work modules throw: a solve past its deadline
 * ({@linkcode PowTimeoutError}), workers that cannot start or fail
 * ({@linkcode PowWorkerError}), and a used-challenge store at capacity
 * ({@linkcode UsedStoreFullError}). Each extends `EdgewireError`; invalid
 * arguments raise the core `InvalidArgumentError`.
 *
 * @module
 */

import { EdgewireError, type EdgewireErrorOptions, TimeoutError } from "../core/errors.ts";

/** Fields of a {@linkcode PowTimeoutError} beyond its message and deadline. */
export interface PowTimeoutErrorOptions extends EdgewireErrorOptions {
  /**
   * How many nonces were hashed before the deadline.
   *
   * @default 0
   */
  hashes?: number;
}

/**
 * A solve did not find a nonce within `maxMs`.
 *
 * @example
 * ```ts
 * import { PowTimeoutError, solvePow } from "@edgewire/sdk/pow";
 *
 * try {
 *   await solvePow("3f9a1c0e5b7d2468ace013579bdf2468", 16, { maxMs: 50 });
 * } catch (error) {
 *   if (error instanceof PowTimeoutError) console.log(error.hashes, error.timeoutMs);
 * }
 * ```
 */
export class PowTimeoutError extends TimeoutError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "PowTimeoutError";

  /** How many nonces were hashed before the deadline. */
  readonly hashes: number;

  /**
   * Creates the error.
   *
   * @param message Which difficulty could not be solved, how much was tried and what to do.
   * @param timeoutMs The `maxMs` that passed.
   * @param options How many nonces were hashed, and the cause.
   */
  constructor(message: string, timeoutMs: number, options: PowTimeoutErrorOptions = {}) {
    const { hashes = 0, ...rest } = options;
    super(message, timeoutMs, rest);
    this.hashes = hashes;
  }
}

/**
 * The proof-of-work workers could not start or failed while running, for
 * instance when the worker module cannot be loaded. `solvePow` then solves
 * on the calling thread instead; a {@linkcode PowWorkerPool} caller sees this.
 *
 * @example
 * ```ts
 * import { PowWorkerError } from "@edgewire/sdk/pow";
 *
 * const error = new PowWorkerError("Cannot start the proof-of-work worker: module not found");
 * console.log(error.code); // "worker"
 * ```
 */
export class PowWorkerError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "PowWorkerError";

  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options The cause.
   */
  constructor(message: string, options: EdgewireErrorOptions = {}) {
    super(message, { code: "worker", ...options });
  }
}

/**
 * {@linkcode MemoryUsedChallengeStore} holds `maxEntries` unexpired ids and
 * cannot take another without forgetting one, which would let that
 * challenge be replayed. A server should answer 503 and retry later.
 *
 * @example
 * ```ts
 * import { MemoryUsedChallengeStore, UsedStoreFullError } from "@edgewire/sdk/pow";
 *
 * const store = new MemoryUsedChallengeStore({ maxEntries: 1 });
 * await store.markUsed("a", Date.now() + 60_000);
 * try {
 *   await store.markUsed("b", Date.now() + 60_000);
 * } catch (error) {
 *   if (error instanceof UsedStoreFullError) console.log(error.maxEntries); // 1
 * }
 * ```
 */
export class UsedStoreFullError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "UsedStoreFullError";

  /** The capacity that was reached. */
  readonly maxEntries: number;

  /**
   * Creates the error.
   *
   * @param message What could not be stored and what to do.
   * @param maxEntries The capacity that was reached.
   */
  constructor(message: string, maxEntries: number) {
    super(message, { code: "used_store_full" });
    this.maxEntries = maxEntries;
  }
}
