/**
 * Solves SHA-256 proof-of-work challenges as fast as the runtime allows.
 * {@linkcode solvePow} applies the mkStats rule (the hex digest of
 * `challenge + ":" + nonce` starts with `difficulty` zeros, the nonce a
 * lowercase hex counter); {@linkcode solveZeroBits} the finer rule of
 * leading zero bits, with a decimal or hex nonce. The fastest kernel here is
 * chosen by measuring (WebAssembly SIMD where allowed, else TypeScript); the
 * search runs on the calling thread, yielding to the event loop, or on Web
 * Workers with `workers`.
 *
 * @module
 */

import { formatNonce } from "./_kernel.ts";
import { NoncePlan } from "./_plan.ts";
import {
  abortedError,
  prepareHexZeros,
  prepareZeroBits,
  resolveKernel,
  type SolveRequest,
  timeoutError,
  yieldToEventLoop,
} from "./_request.ts";
import type { PowSolution, SolveOptions, ZeroBitsOptions } from "./solve_options.ts";
import { PowWorkerError } from "./errors.ts";
import { PowWorkerPool } from "./worker_pool.ts";

/**
 * Finds the first nonce (0, 1, … 9, a, … f, 10, … in lowercase hex) such
 * that the hex SHA-256 of `challenge + ":" + nonce` starts with `difficulty`
 * zeros: the mkStats handshake proof-of-work. Each extra digit of difficulty
 * multiplies the expected work by 16; difficulty 4 takes about 65 000
 * hashes, a few milliseconds.
 *
 * @param challenge The challenge the server sent (`pow_challenge`).
 * @param difficulty How many leading zero hex digits are needed (`pow_difficulty`), 1..64.
 * @param options A signal, a time limit, workers, progress and a clock.
 * @returns The nonce, how many nonces were hashed, how long it took, the kernel used and how many workers ran (0 on the calling thread).
 * @throws {InvalidArgumentError} Synchronously, when `difficulty` is not an integer
 * from 1 to 64, `challenge` is not a string, or an option is out of range.
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
  return runSolve(prepareHexZeros(challenge, difficulty, options));
}

/**
 * Finds the first nonce whose SHA-256 of `challenge + ":" + nonce` has at
 * least `zeroBits` leading zero bits: the same search with difficulty steps
 * of ×2 instead of ×16. The nonce counter is decimal unless `encoding` says hex.
 *
 * @param challenge The challenge.
 * @param zeroBits How many leading bits of the digest must be zero, 1..256.
 * @param options The encoding, a signal, a time limit, workers, progress and a clock.
 * @returns The nonce, how many nonces were hashed, how long it took, the kernel used and how many workers ran (0 on the calling thread).
 * @throws {InvalidArgumentError} Synchronously, when `zeroBits` is not an integer from 1 to 256,
 * `challenge` is not a string, or an option is out of range.
 * @throws {AbortedError} As a rejection, when `options.signal` is aborted.
 * @throws {PowTimeoutError} As a rejection, when no nonce is found within `options.maxMs`.
 *
 * @example Eighteen zero bits, decimal nonce
 * ```ts
 * import { meetsZeroBits, solveZeroBits } from "@edgewire/sdk/pow";
 *
 * const { nonce } = await solveZeroBits("my-challenge", 18);
 * console.log(meetsZeroBits("my-challenge", nonce, 18)); // true
 * ```
 */
export function solveZeroBits(
  challenge: string,
  zeroBits: number,
  options: ZeroBitsOptions = {},
): Promise<PowSolution> {
  return runSolve(prepareZeroBits(challenge, zeroBits, options));
}

async function runSolve(request: SolveRequest): Promise<PowSolution> {
  if (request.workers > 0 && PowWorkerPool.supported()) {
    const pool = new PowWorkerPool({
      size: request.workers,
      kernel: request.kernel,
      workerUrl: request.workerUrl,
    });
    try {
      return await pool.run(request);
    } catch (error) {
      // A runtime that has Worker but cannot start ours (a blocked URL, a bundle
      // without the worker file) still solves, on this thread
      if (!(error instanceof PowWorkerError)) throw error;
    } finally {
      pool.close();
    }
  }
  return await solveHere(request);
}

/** Chunks grow or shrink to take about this long, so clock reads cost nothing and yields stay on time. */
const TARGET_CHUNK_MS = 4;

async function solveHere(request: SolveRequest): Promise<PowSolution> {
  const { now, signal, onProgress } = request;
  const kernel = await resolveKernel(request.kernel);
  const plan = new NoncePlan(request.prefix, request.encoding, request.zeroBits);
  const start = now();
  // About 2 ms of the fastest kernel; later chunks adapt to TARGET_CHUNK_MS
  let size = 1 << 15;
  let hashes = 0;
  let lastYield = start;
  let lastProgress = start;
  for (;;) {
    if (signal?.aborted) throw abortedError(request, hashes);
    const job = plan.take(size);
    if (job === undefined) throw timeoutError(request, hashes);
    const before = now();
    const offset = kernel.search(job);
    const after = now();
    if (offset >= 0) {
      hashes += offset + 1;
      return {
        nonce: formatNonce(job.start + offset, job.encoding),
        hashes,
        ms: after - start,
        kernel: kernel.name,
        workers: 0,
      };
    }
    hashes += job.count;
    const took = after - before;
    if (took < TARGET_CHUNK_MS / 2 && size < 1 << 20) size *= 2;
    else if (took > TARGET_CHUNK_MS * 2 && size > 256) size /= 2;
    if (after - start >= request.maxMs) throw timeoutError(request, hashes);
    if (onProgress !== undefined && after - lastProgress >= 250) {
      lastProgress = after;
      onProgress({ hashes, ms: after - start });
    }
    if (after - lastYield >= request.sliceMs) {
      await yieldToEventLoop();
      lastYield = now();
    }
  }
}
