/**
 * The proof-of-work modules' argument checks, in the core's wording
 * (`src/core/validate.ts`), so every entry point words its errors the same
 * way. Each takes the action the caller cannot do otherwise, such as
 * `"solve proof-of-work"`.
 *
 * @module
 */

import { integer, invalidArgument, positiveNumber } from "../core/validate.ts";

/**
 * Throws unless `value` is an integer from `min` to `max`.
 *
 * @param name The argument or option name, for the error.
 * @param value The value to check.
 * @param range The lowest and highest allowed values.
 * @param action What the caller cannot do otherwise, e.g. "solve proof-of-work".
 * @throws {InvalidArgumentError} When the value is out of range or not an integer.
 */
export function assertIntegerInRange(
  name: string,
  value: unknown,
  [min, max]: readonly [number, number],
  action: string,
): void {
  integer(action, name, value, undefined, { min, max });
}

/**
 * Throws unless `difficulty` is an integer from 1 to 64.
 *
 * @param difficulty The value to check.
 * @param action What the caller cannot do otherwise.
 * @throws {InvalidArgumentError} When the difficulty is out of range.
 */
export function assertDifficulty(difficulty: unknown, action: string): void {
  assertIntegerInRange("difficulty", difficulty, [1, 64], action);
}

/**
 * Throws unless `value` is a finite number above zero.
 *
 * @param name The argument or option name, for the error.
 * @param value The value to check.
 * @param action What the caller cannot do otherwise.
 * @throws {InvalidArgumentError} When the value is not a positive finite number.
 */
export function assertPositive(name: string, value: unknown, action: string): void {
  positiveNumber(action, name, value);
}

/**
 * Throws unless `value` is a URL or a non-empty string, as `new Worker` takes
 * (a relative string resolves against the page).
 *
 * @param value The `workerUrl` option.
 * @param action What the caller cannot do otherwise.
 * @throws {InvalidArgumentError} When the value is neither.
 */
export function assertWorkerUrl(value: unknown, action: string): void {
  if (!(value instanceof URL) && (typeof value !== "string" || value === "")) {
    throw invalidArgument(action, "workerUrl", "a URL or a non-empty string", value);
  }
}
