/**
 * SHA-256 proof-of-work, both sides: {@linkcode solvePow} finds the nonce a
 * client must send (on the fastest kernel the runtime has, WebAssembly SIMD
 * or TypeScript, on the calling thread or on a {@linkcode PowWorkerPool}),
 * {@linkcode solveZeroBits} does the same for a leading-zero-bits rule, {@linkcode createChallenge} and
 * {@linkcode verifySolution} issue and check signed, expiring, single-use
 * challenges on a server, and {@linkcode meetsDifficulty} states the rule.
 *
 * @example Solve the challenge a server sent
 * ```ts
 * import { solvePow } from "@edgewire/sdk/pow";
 *
 * const { nonce } = await solvePow("3f9a1c0e5b7d2468ace013579bdf2468", 4);
 * console.log(nonce); // "1157"
 * ```
 *
 * @module
 */

export {
  AbortedError,
  EdgewireError,
  type EdgewireErrorOptions,
  InvalidArgumentError,
  TimeoutError,
} from "../core/errors.ts";
export { leadingHexZeros, leadingZeroBits, meetsDifficulty, meetsZeroBits } from "./rule.ts";
export { solvePow, solveZeroBits } from "./solve.ts";
export {
  type KernelName,
  type NonceEncoding,
  type PowProgress,
  type PowSolution,
  type SolveOptions,
  type ZeroBitsOptions,
} from "./solve_options.ts";
export { PowWorkerPool, type PowWorkerPoolOptions } from "./worker_pool.ts";
export {
  type ChallengeOptions,
  createChallenge,
  type IssuedChallenge,
  type VerifyFailure,
  type VerifyOptions,
  type VerifyResult,
  verifySolution,
} from "./challenge.ts";
export {
  MemoryUsedChallengeStore,
  type MemoryUsedChallengeStoreOptions,
  type UsedChallengeStore,
} from "./used_store.ts";
export {
  PowTimeoutError,
  type PowTimeoutErrorOptions,
  PowWorkerError,
  UsedStoreFullError,
} from "./errors.ts";
