/**
 * Proof-of-work for the mkStats handshake, both sides: {@linkcode solvePow}
 * finds the nonce a client must send, {@linkcode createChallenge} and
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
export { leadingHexZeros, meetsDifficulty } from "./rule.ts";
export {
  type PowSolution,
  PowTimeoutError,
  type PowTimeoutErrorOptions,
  type SolveOptions,
  solvePow,
} from "./solve.ts";
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
  UsedStoreFullError,
} from "./used_store.ts";
