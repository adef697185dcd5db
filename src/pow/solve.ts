/**
 * Solves mkStats proof-of-work challenges: finds the first lowercase hex
 * counter nonce whose `sha256(challenge + ":" + nonce)` has the required
 * leading zero hex digits. The search runs on the calling thread in slices
 * of about 20 ms, yielding to the event loop between slices so timers, I/O
 * and the abort signal stay responsive.
 *
 * @module
 */

import {
  AbortedError,
  type EdgewireErrorOptions,
  InvalidArgumentError,
  TimeoutError,
} from "../core/errors.ts";
import { NonceSearch } from "./_nonce_search.ts";
import { assertDifficulty, assertPositive } from "./_validate.ts";

/** Options of {@linkcode solvePow}. */
export interface SolveOptions {
  /**
   * Stops the search; the promise then rejects with an `AbortedError` whose
   * `cause` is the signal's reason.
   *
   * @default undefined (the search runs until solved or `maxMs`)
   */
  signal?: AbortSignal;
  /**
   * How long to search, in milliseconds, before giving up with a
   * {@linkcode PowTimeoutError}. The original mkStats client gives up after
   * 6 seconds.
   *
   * @default 6000
   */
  maxMs?: number;
  /**
   * The clock, in milliseconds, used for `maxMs`, the slices and the
   * reported `ms`.
   *
   * @default performance.now, or Date.now where there is no performance
   */
  now?: () => number;
  /**
   * How long to hash before yielding to the event loop, in milliseconds.
   * Shorter keeps a page or server more responsive; longer wastes less time
   * in the yield.
   *
   * @default 20
   */
  sliceMs?: number;
}

/** What {@linkcode solvePow} found. */
export interface PowSolution {
  /** The first counter value, in lowercase hex, that meets the difficulty. */
  nonce: string;
  /** How many nonces were hashed, the solution included: its counter value plus one. */
  hashes: number;
  /** How long the search took, in milliseconds of the `now` clock. */
  ms: number;
}

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
 * {@linkcode solvePow} did not find a nonce within `maxMs`.
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

const DEFAULT_MAX_MS = 6000;
const DEFAULT_SLICE_MS = 20;
/** Nonces hashed between clock reads: about a millisecond of work, so reading the clock costs nothing. */
const BATCH = 2048;

/**
 * Finds the first nonce (0, 1, … 9, a, … f, 10, … in lowercase hex) such
 * that the hex SHA-256 of `challenge + ":" + nonce` starts with `difficulty`
 * zeros: the mkStats handshake proof-of-work. Each extra digit of difficulty
 * multiplies the expected work by 16; difficulty 4 takes about 65 000
 * hashes, a few tens of milliseconds.
 *
 * @param challenge The challenge the server sent (`pow_challenge`).
 * @param difficulty How many leading zero hex digits are needed (`pow_difficulty`), 1..64.
 * @param options A signal, a time limit and a clock.
 * @returns The nonce, how many nonces were hashed and how long it took.
 * @throws {InvalidArgumentError} Synchronously, when `difficulty` is not an integer
 * from 1 to 64, `challenge` is not a string, or `maxMs` or `sliceMs` is not positive.
 * @throws {AbortedError} As a rejection, when `options.signal` is aborted.
 * @throws {PowTimeoutError} As a rejection, when no nonce is found within `options.maxMs`.
 *
 * @example Solve a challenge
 * ```ts
 * import { solvePow } from "@edgewire/sdk/pow";
 *
 * const { nonce, hashes } = await solvePow("3f9a1c0e5b7d2468ace013579bdf2468", 4);
 * console.log(nonce, hashes); // "1157" 4440
 * ```
 */
export function solvePow(
  challenge: string,
  difficulty: number,
  options: SolveOptions = {},
): Promise<PowSolution> {
  const action = "solve proof-of-work";
  if (typeof challenge !== "string") {
    throw new InvalidArgumentError(
      "challenge",
      `Cannot ${action} as 'challenge' must be a string: current value is of type ${typeof challenge}`,
    );
  }
  assertDifficulty(difficulty, action);
  const { signal, maxMs = DEFAULT_MAX_MS, sliceMs = DEFAULT_SLICE_MS } = options;
  assertPositive("maxMs", maxMs, action);
  assertPositive("sliceMs", sliceMs, action);
  const now = options.now ?? defaultNow();
  return search(challenge, difficulty, { signal, maxMs, sliceMs, now });
}

async function search(
  challenge: string,
  difficulty: number,
  { signal, maxMs, sliceMs, now }: Required<Omit<SolveOptions, "signal">> & {
    signal: AbortSignal | undefined;
  },
): Promise<PowSolution> {
  const start = now();
  const nonces = new NonceSearch(challenge, difficulty);
  for (;;) {
    throwIfAborted(signal, nonces.tried);
    const sliceStart = now();
    let elapsed: number;
    do {
      if (nonces.run(BATCH)) {
        return { nonce: nonces.nonce, hashes: nonces.tried, ms: now() - start };
      }
      const time = now();
      if (time - start >= maxMs) {
        throw new PowTimeoutError(
          `Cannot solve proof-of-work of difficulty ${difficulty} within ${maxMs} ms: tried ${nonces.tried} nonces, raise 'maxMs' or lower the difficulty`,
          maxMs,
          { hashes: nonces.tried },
        );
      }
      elapsed = time - sliceStart;
    } while (elapsed < sliceMs);
    // A macrotask, not a microtask: timers and I/O callbacks (and so whatever aborts the
    // signal) only run once the microtask queue is empty. Nested timeouts are clamped to
    // 4 ms, about 15% of a 20 ms slice; a MessageChannel round trip avoids the clamp but
    // starves timers in Deno, so it is not used.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}

function throwIfAborted(signal: AbortSignal | undefined, tried: number): void {
  if (signal?.aborted) {
    throw new AbortedError(
      `Stopped solving proof-of-work as its signal was aborted: tried ${tried} nonces`,
      { cause: signal.reason },
    );
  }
}

function defaultNow(): () => number {
  const performance = globalThis.performance;
  return typeof performance?.now === "function" ? () => performance.now() : Date.now;
}
