/**
 * The checks every part of the server's option validation shares: the
 * error it throws, integers within a range, and rate limiter settings.
 *
 * @module
 */

import { integer, invalidArgument } from "../core/validate.ts";
import type { RateLimitOptions } from "./options.ts";

/** What every option error says the caller was doing. */
export const ACTION = "create server";

/**
 * Throws the house error for an option that breaks its rule.
 *
 * @param field The option's path, such as `honch.maxFrameBytes`.
 * @param requirement What it must be.
 * @param value What it was.
 * @returns Never.
 * @throws {InvalidArgumentError} Always.
 */
export function fail(field: string, requirement: string, value: unknown): never {
  throw invalidArgument(ACTION, field, requirement, value);
}

/**
 * Reads an integer option within `min..max`, `fallback` when absent.
 *
 * @param field The option's path.
 * @param value What was given.
 * @param fallback The default.
 * @param min The least accepted.
 * @param max The most accepted.
 * @returns The value.
 * @throws {InvalidArgumentError} When it is not an integer in range.
 */
export function integerOption(
  field: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  return integer(ACTION, field, value, fallback, { min, max });
}

/**
 * Reads a rate limiter's burst and refill rate, defaults filled in.
 *
 * @param field The option's path.
 * @param value What was given.
 * @param capacity The default burst.
 * @param refillPerSecond The default refill rate.
 * @returns Both values.
 * @throws {InvalidArgumentError} When either breaks its rule.
 */
export function limiterOptions(
  field: string,
  value: RateLimitOptions | undefined,
  capacity: number,
  refillPerSecond: number,
): Required<RateLimitOptions> {
  if (value === undefined) return { capacity, refillPerSecond };
  if (typeof value !== "object" || value === null) fail(field, "an object", value);
  const c = value.capacity ?? capacity;
  const r = value.refillPerSecond ?? refillPerSecond;
  if (typeof c !== "number" || !(c >= 1)) {
    fail(`${field}.capacity`, "at least 1, or Infinity to disable", c);
  }
  if (typeof r !== "number" || !(r > 0) || !Number.isFinite(r)) {
    fail(`${field}.refillPerSecond`, "a positive finite number", r);
  }
  return { capacity: c, refillPerSecond: r };
}
