/**
 * Capped exponential backoff with full jitter, and the rule that a server's
 * `Retry-After` wins over our own guess (within a cap). Randomness and time
 * are injected so tests are exact.
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";

/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /**
   * The first delay's upper bound, in milliseconds.
   *
   * @default 1000
   */
  initialMs?: number;
  /**
   * No delay exceeds this, in milliseconds, `Retry-After` included.
   *
   * @default 300000
   */
  maxMs?: number;
  /**
   * How much the upper bound grows after each failure.
   *
   * @default 2
   */
  factor?: number;
  /**
   * A source of uniform numbers in [0, 1).
   *
   * @default Math.random
   */
  random?: () => number;
}

/**
 * Counts consecutive failures and turns them into delays: attempt `n` waits a
 * uniform time in `[0, min(maxMs, initialMs * factor^n)]` (full jitter, so a
 * fleet of clients does not retry in step).
 *
 * @example
 * ```ts
 * import { Backoff } from "@edgewire/sdk";
 *
 * const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.5 });
 * console.log(backoff.next()); // 50
 * console.log(backoff.next()); // 100
 * backoff.reset();
 * ```
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #random: () => number;
  #attempt = 0;

  /**
   * Creates a backoff with no failures counted yet.
   *
   * @param options Bounds, growth factor and randomness.
   * @throws {InvalidArgumentError} When a bound is not a positive number or `factor` is below 1.
   */
  constructor(options: BackoffOptions = {}) {
    this.#initialMs = positive("initialMs", options.initialMs ?? 1000);
    this.#maxMs = positive("maxMs", options.maxMs ?? 300_000);
    this.#factor = options.factor ?? 2;
    if (!(this.#factor >= 1) || !Number.isFinite(this.#factor)) {
      throw new InvalidArgumentError(
        "factor",
        `Cannot create backoff as 'factor' must be at least 1: current value is ${this.#factor}`,
      );
    }
    this.#random = options.random ?? Math.random;
  }

  /** How many failures have been counted since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * Counts one more failure and returns how long to wait before the next try.
   *
   * @param retryAfterMs The server's `Retry-After`, which wins when longer than the jittered delay.
   * @returns The delay in milliseconds, at most `maxMs`.
   */
  next(retryAfterMs?: number): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt);
    this.#attempt++;
    const jittered = Math.floor(this.#random() * ceiling);
    return Math.min(this.#maxMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  /** Forgets the failures, after a success. */
  reset(): void {
    this.#attempt = 0;
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new InvalidArgumentError(
      name,
      `Cannot create backoff as '${name}' must be a positive number: current value is ${value}`,
    );
  }
  return value;
}
