/**
 * The bound on the rows one bounded store read answers: the limit a caller
 * asks for, made a whole number from 1 to {@linkcode READ_LIMIT_MAX}, so no
 * limit (a negative one means none to SQLite) can turn a read into a scan.
 *
 * @module
 */

/** The most rows one bounded read answers, whatever the limit asked. */
export const READ_LIMIT_MAX = 1000;

/**
 * Bounds a read's limit.
 *
 * @param limit The limit asked for.
 * @returns A whole number from 1 to {@linkcode READ_LIMIT_MAX}; 1 for a limit that is no number.
 * @throws Never.
 * @example
 * ```ts
 * import { readLimit } from "./_read_limit.ts";
 *
 * console.log(readLimit(-1), readLimit(20.5), readLimit(1e9)); // 1 20 1000
 * ```
 */
export function readLimit(limit: number): number {
  const whole = Math.floor(Number(limit));
  return Number.isFinite(whole) ? Math.min(READ_LIMIT_MAX, Math.max(1, whole)) : 1;
}
