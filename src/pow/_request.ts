/**
 * A validated solve, and what the calling-thread search and the worker pool
 * share: argument checks, kernel choice, the timeout and abort errors, and
 * the yield to the event loop.
 *
 * @module
 */

import { AbortedError, InvalidArgumentError } from "../core/errors.ts";
import type { Kernel, NonceEncoding } from "./_kernel.ts";
import { calibrate, type KernelName, kernelNamed } from "./_select.ts";
import {
  assertDifficulty,
  assertIntegerInRange,
  assertPositive,
  assertWorkerUrl,
} from "./_validate.ts";
import type { PowProgress, SolveOptions, ZeroBitsOptions } from "./solve_options.ts";
import { PowTimeoutError } from "./errors.ts";

/** A validated solve, shared by the calling thread and the worker pool. */
export interface SolveRequest {
  /** The UTF-8 bytes of `challenge + ":"`. */
  prefix: Uint8Array;
  /** Leading zero bits required. */
  zeroBits: number;
  /** The nonce encoding. */
  encoding: NonceEncoding;
  /** The difficulty in the caller's terms, for messages. */
  describe: string;
  /** The validated options. */
  signal: AbortSignal | undefined;
  /** The deadline, in milliseconds. */
  maxMs: number;
  /** The yield interval, in milliseconds. */
  sliceMs: number;
  /** The clock. */
  now: () => number;
  /** The progress callback. */
  onProgress: ((progress: PowProgress) => void) | undefined;
  /** The worker count. */
  workers: number;
  /** The kernel asked for. */
  kernel: KernelName | undefined;
  /** Where the worker module is, when the caller says. */
  workerUrl: string | URL | undefined;
}

const encoder = new TextEncoder();
const KERNELS: readonly KernelName[] = ["wasm-simd", "ts-unrolled", "ts-compact"];

/**
 * Validates a solve's arguments once.
 *
 * @param challenge The challenge.
 * @param zeroBits Leading zero bits required.
 * @param encoding The nonce encoding.
 * @param options The caller's options.
 * @param action What the caller is doing, for messages.
 * @returns The request.
 */
export function prepareSolve(
  challenge: string,
  zeroBits: number,
  encoding: NonceEncoding,
  options: SolveOptions,
  action: string,
): SolveRequest {
  if (typeof challenge !== "string") {
    throw new InvalidArgumentError(
      "challenge",
      `Cannot ${action} as 'challenge' must be a string: current value is of type ${typeof challenge}`,
    );
  }
  if (encoding !== "hex" && encoding !== "decimal") {
    throw new InvalidArgumentError(
      "encoding",
      `Cannot ${action} as 'encoding' must be "hex" or "decimal": current value is ${
        String(encoding)
      }`,
    );
  }
  const { maxMs = 6000, sliceMs = 40, workers = 0 } = options;
  assertPositive("maxMs", maxMs, action);
  assertPositive("sliceMs", sliceMs, action);
  if (sliceMs > 50) {
    throw new InvalidArgumentError(
      "sliceMs",
      `Cannot ${action} as 'sliceMs' must be at most 50 so the event loop stays responsive: current value is ${sliceMs}`,
    );
  }
  assertIntegerInRange("workers", workers, [0, 64], action);
  if (options.kernel !== undefined && !KERNELS.includes(options.kernel)) {
    throw new InvalidArgumentError(
      "kernel",
      `Cannot ${action} as 'kernel' must be one of ${KERNELS.join(", ")}: current value is ${
        String(options.kernel)
      }`,
    );
  }
  if (options.workerUrl !== undefined) assertWorkerUrl(options.workerUrl, action);
  return {
    prefix: encoder.encode(challenge + ":"),
    zeroBits,
    encoding,
    describe: `${zeroBits} zero bits`,
    signal: options.signal,
    maxMs,
    sliceMs,
    now: options.now ?? defaultNow(),
    onProgress: options.onProgress,
    workers,
    kernel: options.kernel,
    workerUrl: options.workerUrl,
  };
}

/**
 * Picks the kernel for this thread.
 *
 * @param name The kernel asked for, or the fastest when `undefined`.
 * @returns The kernel.
 * @throws {InvalidArgumentError} When the named kernel cannot run here.
 */
export async function resolveKernel(name: KernelName | undefined): Promise<Kernel> {
  if (name === undefined) return (await calibrate()).kernel;
  const kernel = await kernelNamed(name);
  if (kernel === undefined) {
    throw new InvalidArgumentError(
      "kernel",
      `Cannot solve proof-of-work with kernel ${name} as this runtime cannot run it: leave 'kernel' unset`,
    );
  }
  return kernel;
}

/**
 * The error for a search that ran out of time.
 *
 * @param request The solve.
 * @param hashes How many nonces were hashed.
 * @returns The error.
 */
export function timeoutError(request: SolveRequest, hashes: number): PowTimeoutError {
  return new PowTimeoutError(
    `Cannot solve proof-of-work of ${request.describe} within ${request.maxMs} ms: tried ${hashes} nonces, raise 'maxMs' or lower the difficulty`,
    request.maxMs,
    { hashes },
  );
}

/**
 * The error for an aborted search.
 *
 * @param request The solve.
 * @param hashes How many nonces were hashed.
 * @returns The error.
 */
export function abortedError(request: SolveRequest, hashes: number): AbortedError {
  return new AbortedError(
    `Stopped solving proof-of-work as its signal was aborted: tried ${hashes} nonces`,
    { cause: request.signal?.reason },
  );
}

/**
 * Lets timers, I/O and whatever aborts the signal run. `scheduler.yield()`
 * where it exists; otherwise a timer, whose nesting clamp (4 ms) is why the
 * default slice is 40 ms rather than less.
 *
 * @returns A promise that settles after pending tasks had a turn.
 */
export function yieldToEventLoop(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === "function") return scheduler.yield();
  return new Promise<void>((resolve) => setTimeout(resolve, 0));
}

function defaultNow(): () => number {
  const performance = globalThis.performance;
  return typeof performance?.now === "function" ? () => performance.now() : Date.now;
}

const ACTION = "solve proof-of-work";

/**
 * Validates a solve under the mkStats rule: `difficulty` leading zero hex digits, hex nonce.
 *
 * @param challenge The challenge.
 * @param difficulty Leading zero hex digits, 1..64.
 * @param options The caller's options.
 * @returns The request.
 */
export function prepareHexZeros(
  challenge: string,
  difficulty: number,
  options: SolveOptions,
): SolveRequest {
  assertDifficulty(difficulty, ACTION);
  const request = prepareSolve(challenge, difficulty * 4, "hex", options, ACTION);
  request.describe = `difficulty ${difficulty}`;
  return request;
}

/**
 * Validates a solve under the leading-zero-bits rule, decimal nonce unless `encoding` says hex.
 *
 * @param challenge The challenge.
 * @param zeroBits Leading zero bits, 1..256.
 * @param options The caller's options.
 * @returns The request.
 */
export function prepareZeroBits(
  challenge: string,
  zeroBits: number,
  options: ZeroBitsOptions,
): SolveRequest {
  assertIntegerInRange("zeroBits", zeroBits, [1, 256], ACTION);
  return prepareSolve(challenge, zeroBits, options.encoding ?? "decimal", options, ACTION);
}
