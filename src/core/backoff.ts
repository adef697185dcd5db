/**
 * Capped exponential backoff, and the rule that a server's `Retry-After`
 * wins over our own guess (within a cap). {@linkcode Backoff} turns failures
 * into delays, with full jitter by default or a proportional `±ratio` where a
 * protocol says so; {@linkcode BackoffGate} adds the clock, so several paths
 * of one client (a flush loop and direct calls) share one "not before" time.
 * Randomness and time are injected so tests are exact.
 *
 * @module
 */

import { invalidArgument, positiveNumber } from "./validate.ts";

/**
 * How a delay is spread around its ceiling: `"full"` draws uniformly from
 * `[0, ceiling]` (so a fleet of clients does not retry in step); a number
 * `r` in `[0, 1]` draws from `[ceiling × (1 − r), ceiling × (1 + r)]`, as a
 * protocol that specifies "±25 %" asks (`0.25`); `0` means no jitter.
 *
 * @example
 * ```ts
 * import type { Jitter } from "@edgewire/sdk";
 *
 * const honch: Jitter = 0.25;
 * const fleet: Jitter = "full";
 * ```
 */
export type Jitter = "full" | number;

/** Options of {@linkcode Backoff} and {@linkcode BackoffGate}. */
export interface BackoffOptions {
  /**
   * The first delay's ceiling, in milliseconds.
   *
   * @default 1000
   */
  initialMs?: number;
  /**
   * The largest ceiling, in milliseconds: growth stops here. With full
   * jitter no delay exceeds it.
   *
   * @default 300000
   */
  maxMs?: number;
  /**
   * How much the ceiling grows after each failure.
   *
   * @default 2
   */
  factor?: number;
  /**
   * How a delay is spread around its ceiling.
   *
   * @default "full"
   */
  jitter?: Jitter;
  /**
   * The longest `Retry-After` honoured, in milliseconds; a longer one is cut
   * to this. `Infinity` honours any.
   *
   * @default maxMs
   */
  maxRetryAfterMs?: number;
  /**
   * A source of uniform numbers in [0, 1).
   *
   * @default Math.random
   */
  random?: () => number;
}

/**
 * Counts consecutive failures and turns them into delays: failure `n` has
 * the ceiling `min(maxMs, initialMs × factor^n)`, spread by `jitter`; a
 * `Retry-After` longer than that wins, up to `maxRetryAfterMs`.
 *
 * @example
 * ```ts
 * import { Backoff } from "@edgewire/sdk";
 *
 * const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.5 });
 * console.log(backoff.next()); // 50
 * console.log(backoff.next()); // 100
 * backoff.reset();
 * const honch = new Backoff({ initialMs: 1000, jitter: 0.25, random: () => 1 - 1e-9 });
 * console.log(honch.next()); // 1250
 * ```
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: Jitter;
  readonly #maxRetryAfterMs: number;
  readonly #random: () => number;
  #attempt = 0;

  /**
   * Creates a backoff with no failures counted yet.
   *
   * @param options Bounds, growth factor, jitter and randomness.
   * @throws {InvalidArgumentError} When a bound is not a positive number, `factor` is below 1,
   * or `jitter` is neither `"full"` nor a number in 0..1.
   */
  constructor(options: BackoffOptions = {}) {
    const action = "create backoff";
    this.#initialMs = positiveNumber(action, "initialMs", options.initialMs, 1000);
    this.#maxMs = positiveNumber(action, "maxMs", options.maxMs, 300_000);
    const factor = options.factor ?? 2;
    if (typeof factor !== "number" || !(factor >= 1) || !Number.isFinite(factor)) {
      throw invalidArgument(action, "factor", "at least 1", factor);
    }
    this.#factor = factor;
    const jitter = options.jitter ?? "full";
    if (jitter !== "full" && !(typeof jitter === "number" && jitter >= 0 && jitter <= 1)) {
      throw invalidArgument(action, "jitter", '"full" or a number in 0..1', jitter, {
        reveal: true,
      });
    }
    this.#jitter = jitter;
    // Infinity is allowed here: it honours any Retry-After
    const cap = options.maxRetryAfterMs ?? this.#maxMs;
    if (typeof cap !== "number" || !(cap > 0)) {
      throw invalidArgument(action, "maxRetryAfterMs", "a positive number", cap);
    }
    this.#maxRetryAfterMs = cap;
    this.#random = options.random ?? Math.random;
  }

  /** How many failures have been counted since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * Counts one more failure and returns how long to wait before the next try.
   *
   * @param retryAfterMs The server's `Retry-After`, which wins when longer than the jittered
   * delay, up to `maxRetryAfterMs`.
   * @returns The delay in milliseconds.
   */
  next(retryAfterMs?: number): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt);
    this.#attempt++;
    const jittered = this.#jitter === "full"
      ? Math.floor(this.#random() * ceiling)
      : Math.round(ceiling * (1 - this.#jitter + 2 * this.#jitter * this.#random()));
    const asked = Math.min(this.#maxRetryAfterMs, Math.max(0, retryAfterMs ?? 0));
    return Math.max(jittered, asked);
  }

  /** Forgets the failures, after a success. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Options of {@linkcode BackoffGate}. */
export interface BackoffGateOptions extends BackoffOptions {
  /**
   * The clock, in epoch milliseconds.
   *
   * @default Date.now
   */
  now?: () => number;
}

/**
 * A {@linkcode Backoff} with a clock: after a failure nothing should be sent
 * until `remainingMs()` is 0; a success resets it. One gate is shared by
 * every path of a client that talks to the same server.
 *
 * @example
 * ```ts
 * import { BackoffGate } from "@edgewire/sdk";
 *
 * let now = 0;
 * const gate = new BackoffGate({ initialMs: 1000, random: () => 0.5, now: () => now });
 * console.log(gate.failed(), gate.remainingMs()); // 500 500
 * now += 500;
 * console.log(gate.remainingMs()); // 0
 * gate.succeeded();
 * ```
 */
export class BackoffGate {
  readonly #backoff: Backoff;
  readonly #now: () => number;
  #until = 0;

  /**
   * Creates an open gate.
   *
   * @param options The backoff's bounds, jitter and randomness, and the clock.
   * @throws {InvalidArgumentError} When a backoff option is unusable.
   */
  constructor(options: BackoffGateOptions = {}) {
    this.#backoff = new Backoff(options);
    this.#now = options.now ?? Date.now;
  }

  /** Consecutive failures since the last success. */
  get failures(): number {
    return this.#backoff.attempt;
  }

  /**
   * Records a failure and closes the gate for the backoff's next delay.
   *
   * @param retryAfterMs The server's `Retry-After`, honoured up to its cap.
   * @returns How long the gate stays closed, in milliseconds.
   */
  failed(retryAfterMs?: number): number {
    const waitMs = this.#backoff.next(retryAfterMs);
    this.#until = Math.max(this.#until, this.#now() + waitMs);
    return this.#until - this.#now();
  }

  /** Records a success: the gate opens and the next failure starts from `initialMs`. */
  succeeded(): void {
    this.#backoff.reset();
    this.#until = 0;
  }

  /**
   * Tells how long the gate stays closed.
   *
   * @returns Milliseconds until sending is allowed again; 0 when it is now.
   */
  remainingMs(): number {
    return Math.max(0, this.#until - this.#now());
  }
}
