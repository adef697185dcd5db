/**
 * Argument checks shared by the proof-of-work entry points, so every one
 * words its errors the same way.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";

/**
 * Throws unless `value` is an integer from `min` to `max`.
 *
 * @param name The argument or option name, for the error.
 * @param value The value to check.
 * @param min The lowest allowed value.
 * @param max The highest allowed value.
 * @param action What the caller cannot do otherwise, e.g. "solve proof-of-work".
 */
export function assertIntegerInRange(
  name: string,
  value: unknown,
  [min, max]: readonly [number, number],
  action: string,
): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      name,
      `Cannot ${action} as '${name}' must be an integer from ${min} to ${max}: current value is ${
        describe(value)
      }`,
    );
  }
}

/**
 * Throws unless `difficulty` is an integer from 1 to 64.
 *
 * @param difficulty The value to check.
 * @param action What the caller cannot do otherwise.
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
 */
export function assertPositive(name: string, value: unknown, action: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      name,
      `Cannot ${action} as '${name}' must be a positive finite number: current value is ${
        describe(value)
      }`,
    );
  }
}

/**
 * Throws unless `value` is a URL or a non-empty string, as `new Worker` takes
 * (a relative string resolves against the page).
 *
 * @param value The `workerUrl` option.
 * @param action What the caller cannot do otherwise.
 */
export function assertWorkerUrl(value: unknown, action: string): void {
  if (!(value instanceof URL) && (typeof value !== "string" || value === "")) {
    throw new InvalidArgumentError(
      "workerUrl",
      `Cannot ${action} as 'workerUrl' must be a URL or a non-empty string: current value is ${
        describe(value)
      }`,
    );
  }
}

/**
 * Renders a rejected value for an error message without echoing long or
 * secret-looking content.
 *
 * @param value The value to describe.
 * @returns A short description.
 */
export function describe(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value == null) {
    return String(value);
  }
  if (typeof value === "string") return `a string of ${value.length} characters`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return `a value of type ${typeof value}`;
}
