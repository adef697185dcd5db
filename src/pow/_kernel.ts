/**
 * The contract between the proof-of-work solver and its kernels. A kernel
 * hashes `prefix + nonce` for a run of consecutive nonce values that all have
 * the same number of digits, and reports the first whose digest has enough
 * leading zero bits. The solver splits the nonce space into such runs (at
 * digit-count rollovers, and into chunks for workers), so a kernel never
 * changes its message layout inside a job.
 *
 * Both rules reduce to leading zero bits: mkStats' `difficulty` hex zeros are
 * `4 * difficulty` bits.
 *
 * @module
 */

/** How a nonce value is written: lowercase hex (mkStats) or decimal. */
export type NonceEncoding = "hex" | "decimal";

/** One run of nonces for a kernel to try. */
export interface KernelJob {
  /** The UTF-8 bytes before the nonce: `challenge + ":"` for mkStats. */
  prefix: Uint8Array;
  /** How each nonce value is written. */
  encoding: NonceEncoding;
  /**
   * How many digits every nonce of the job has (1..16). It is the length of
   * `start` written without leading zeros; the solver never lets a job cross
   * into more digits.
   */
  nonceLength: number;
  /** The first nonce value, a safe integer. */
  start: number;
  /** How many consecutive values to try, at least 1; `start + count - 1` has `nonceLength` digits. */
  count: number;
  /** How many leading bits of the SHA-256 digest must be zero, 1..256. */
  zeroBits: number;
}

/** A nonce search implementation: the TypeScript kernels, the WebAssembly SIMD kernel. */
export interface Kernel {
  /** A short name for benchmarks and diagnostics, such as `"wasm-simd"`. */
  readonly name: string;
  /**
   * Tries the job's nonces in increasing order.
   *
   * @param job The run of nonces.
   * @returns The offset from `job.start` of the first solving nonce, or -1 when none of the `count` solves.
   */
  search(job: KernelJob): number;
}

/** The base of each nonce encoding. */
export const RADIX: Readonly<Record<NonceEncoding, number>> = { hex: 16, decimal: 10 };

/** The largest nonce length a job may have. */
export const MAX_NONCE_LENGTH = 13;

/**
 * Writes a nonce value the way kernels hash it.
 *
 * @param value A safe, non-negative integer.
 * @param encoding Hex or decimal.
 * @returns Its digits, without leading zeros.
 */
export function formatNonce(value: number, encoding: NonceEncoding): string {
  return value.toString(RADIX[encoding]);
}

/**
 * The smallest value written with `length` digits.
 *
 * @param length A digit count, 1 or more.
 * @param encoding Hex or decimal.
 * @returns 0 for one digit, else `radix ** (length - 1)`.
 */
export function firstOfLength(length: number, encoding: NonceEncoding): number {
  return length === 1 ? 0 : RADIX[encoding] ** (length - 1);
}
