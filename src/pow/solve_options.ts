/**
 * The options and results of the proof-of-work solvers, shared by
 * `solvePow`, `solveZeroBits` and `PowWorkerPool` (their errors are in
 * `errors.ts`).
 *
 * @module
 */

import type { NonceEncoding } from "./_kernel.ts";
import type { KernelName } from "./_select.ts";

export type { KernelName } from "./_select.ts";
export type { NonceEncoding } from "./_kernel.ts";

/** Progress of a search, reported through {@linkcode SolveOptions.onProgress}. */
export interface PowProgress {
  /** Nonces hashed so far. */
  hashes: number;
  /** Milliseconds since the search started. */
  ms: number;
}

/** Options of {@linkcode solvePow} and {@linkcode solveZeroBits}. */
export interface SolveOptions {
  /**
   * Stops the search, on every worker at once; the promise then rejects with
   * an `AbortedError` whose `cause` is the signal's reason.
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
   * The clock, in milliseconds, used for `maxMs`, yielding, progress and the
   * reported `ms`.
   *
   * @default performance.now, or Date.now where there is no performance
   */
  now?: () => number;
  /**
   * On the calling thread, how long to hash before yielding to the event
   * loop, in milliseconds, at most 50. Shorter keeps a page more responsive;
   * longer loses less time to the yield.
   *
   * @default 40
   */
  sliceMs?: number;
  /**
   * Called with the work done so far, at least every 250 ms while the search runs.
   *
   * @default undefined
   */
  onProgress?: (progress: PowProgress) => void;
  /**
   * How many Web Workers share the nonce space. 0 searches on the calling
   * thread; so does any count where the runtime has no `Worker` (Node, Workers
   * runtimes) or cannot start one. A {@linkcode PowWorkerPool} keeps its
   * workers between solves instead of starting them for each.
   *
   * @default 0
   */
  workers?: number;
  /**
   * Where the worker module (`@edgewire/sdk/pow/worker`) is, when `workers`
   * is above 0. Unbundled code finds it by itself; a bundle must emit that
   * entry as a file of its own and pass its URL here. When it cannot load,
   * the solve runs on the calling thread and `PowSolution.workers` is 0.
   *
   * @default new URL("./worker.ts", import.meta.url), the module next to the solver
   */
  workerUrl?: string | URL;
  /**
   * The kernel to use instead of the fastest one measured here.
   *
   * @default the fastest available, measured once per thread
   */
  kernel?: KernelName;
}

/** What a solve found. */
export interface PowSolution {
  /** The first nonce, in the rule's encoding, that meets the difficulty. */
  nonce: string;
  /**
   * How many nonces were hashed: on one thread the solution's counter value
   * plus one; with workers, everything the workers hashed, which can be a
   * little more.
   */
  hashes: number;
  /** How long the search took, in milliseconds of the `now` clock. */
  ms: number;
  /** The kernel that ran, such as `"wasm-simd"`. */
  kernel: string;
  /**
   * How many Web Workers ran the search: 0 when it ran on the calling
   * thread, including when `workers` was asked for but none could start.
   */
  workers: number;
}

/** Options of {@linkcode solveZeroBits}. */
export interface ZeroBitsOptions extends SolveOptions {
  /**
   * How the nonce counter is written.
   *
   * @default "decimal"
   */
  encoding?: NonceEncoding;
}
