/**
 * Option validation with one wording: each check returns the value (or its
 * default when the value is `undefined`) and otherwise throws an
 * {@linkcode InvalidArgumentError} reading
 * `Cannot <action> as '<field>' must be <rule>: current value is <value>`.
 * Strings are described by their length unless the caller says they are
 * safe to show, so a message never carries a key, token or secret URL.
 * Internal: the package's modules share it; it is not exported.
 *
 * @example
 * ```ts
 * import { integer, oneOf } from "./validate.ts";
 *
 * const action = "create my client";
 * const retries = integer(action, "retries", undefined, 3, { min: 0, max: 10 }); // 3
 * const mode = oneOf(action, "mode", "fast", "fast", ["fast", "safe"] as const); // "fast"
 * console.log(retries, mode);
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";
import { utf8ByteLength } from "./utf8.ts";

/** Options of {@linkcode describeValue}. */
export interface DescribeOptions {
  /**
   * Show a string itself (quoted, cut to 40 characters) instead of only its
   * length. Only for values that can never be secret, such as enum names.
   *
   * @default false
   */
  reveal?: boolean;
}

/**
 * Describes a rejected value for an error message without echoing anything
 * that could be secret: numbers, booleans, `null` and `undefined` as
 * themselves, strings by their length (or quoted, with `reveal`), byte
 * arrays by their size, anything else by its kind.
 *
 * @param value The value to describe.
 * @param options Whether a string may be shown.
 * @returns A short description such as `0`, `a string of 12 characters` or `an array`.
 *
 * @example
 * ```ts
 * import { describeValue } from "./validate.ts";
 *
 * console.log(describeValue("sk_live_secret")); // "a string of 14 characters"
 * console.log(describeValue("graphq", { reveal: true })); // "\"graphq\""
 * ```
 */
export function describeValue(value: unknown, options: DescribeOptions = {}): string {
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") {
    if (value === "") return '""';
    if (!options.reveal) return `a string of ${value.length} characters`;
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  return typeof value === "object" ? "an object" : `a value of type ${typeof value}`;
}

/**
 * Builds the house error for a value that breaks a rule, for the checks this
 * module has no function for (a pattern, a sum of fields).
 *
 * @param action What cannot happen otherwise, such as `"create HonchClient"`.
 * @param field The option or argument name.
 * @param rule What it must be, after "must be", such as `"64 lowercase hex characters"`.
 * @param value The rejected value, described with {@linkcode describeValue}.
 * @param options Whether a string value may be shown.
 * @returns The error, for the caller to throw.
 *
 * @example
 * ```ts
 * import { invalidArgument } from "./validate.ts";
 *
 * const error = invalidArgument("create client", "userHash", "64 lowercase hex characters", "xyz");
 * console.log(error.message);
 * // Cannot create client as 'userHash' must be 64 lowercase hex characters: current value is a string of 3 characters
 * ```
 */
export function invalidArgument(
  action: string,
  field: string,
  rule: string,
  value: unknown,
  options: DescribeOptions = {},
): InvalidArgumentError {
  return new InvalidArgumentError(
    field,
    `Cannot ${action} as '${field}' must be ${rule}: current value is ${
      describeValue(value, options)
    }`,
  );
}

/** The bounds of {@linkcode integer}. */
export interface IntegerRange {
  /**
   * The smallest value allowed.
   *
   * @default 1
   */
  min?: number;
  /**
   * The largest value allowed.
   *
   * @default Number.MAX_SAFE_INTEGER
   */
  max?: number;
}

/**
 * Checks a safe integer within bounds (at least 1 unless `min` says otherwise).
 *
 * @param action What cannot happen otherwise, such as `"create BoundedQueue"`.
 * @param field The option or argument name.
 * @param value The value given.
 * @param fallback What `undefined` stands for; leave it out to require a value.
 * @param range The bounds.
 * @returns The value, or `fallback` when the value is `undefined`.
 * @throws {InvalidArgumentError} When the value is not an integer within the bounds.
 *
 * @example
 * ```ts
 * import { integer } from "./validate.ts";
 *
 * const maxItems = integer("create my queue", "maxItems", 500, 1000); // 500
 * console.log(maxItems);
 * ```
 */
export function integer(
  action: string,
  field: string,
  value: unknown,
  fallback?: number,
  range: IntegerRange = {},
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = range;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    const rule = max === Number.MAX_SAFE_INTEGER
      ? `an integer of at least ${min}`
      : `an integer from ${min} to ${max}`;
    throw invalidArgument(action, field, rule, value);
  }
  return value;
}

/**
 * Checks a finite number above zero, such as a duration in milliseconds.
 *
 * @param action What cannot happen otherwise.
 * @param field The option or argument name.
 * @param value The value given.
 * @param fallback What `undefined` stands for; leave it out to require a value.
 * @returns The value, or `fallback` when the value is `undefined`.
 * @throws {InvalidArgumentError} When the value is not a positive finite number.
 *
 * @example
 * ```ts
 * import { positiveNumber } from "./validate.ts";
 *
 * console.log(positiveNumber("create my client", "timeoutMs", undefined, 10_000)); // 10000
 * ```
 */
export function positiveNumber(
  action: string,
  field: string,
  value: unknown,
  fallback?: number,
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalidArgument(action, field, "a positive finite number", value);
  }
  return value;
}

/**
 * Checks a finite number of zero or more, such as an interval where 0 turns
 * something off.
 *
 * @param action What cannot happen otherwise.
 * @param field The option or argument name.
 * @param value The value given.
 * @param fallback What `undefined` stands for; leave it out to require a value.
 * @returns The value, or `fallback` when the value is `undefined`.
 * @throws {InvalidArgumentError} When the value is negative, not finite or not a number.
 *
 * @example
 * ```ts
 * import { nonNegativeNumber } from "./validate.ts";
 *
 * console.log(nonNegativeNumber("set up my client", "checkIntervalMs", 0, 60_000)); // 0
 * ```
 */
export function nonNegativeNumber(
  action: string,
  field: string,
  value: unknown,
  fallback?: number,
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalidArgument(action, field, "a finite number of 0 or more", value);
  }
  return value;
}

/** The bounds of {@linkcode nonEmptyString}. */
export interface StringRule {
  /**
   * The most UTF-8 bytes allowed.
   *
   * @default Infinity
   */
  maxBytes?: number;
  /**
   * Show the rejected string in the message. Only for values that are never secret.
   *
   * @default false
   */
  reveal?: boolean;
}

/**
 * Checks a non-empty string, optionally no longer than `maxBytes` in UTF-8.
 *
 * @param action What cannot happen otherwise.
 * @param field The option or argument name.
 * @param value The value given.
 * @param fallback What `undefined` stands for; leave it out to require a value.
 * @param rule The byte budget, and whether the value may be shown.
 * @returns The value, or `fallback` when the value is `undefined`.
 * @throws {InvalidArgumentError} When the value is not a non-empty string within the budget.
 *
 * @example
 * ```ts
 * import { nonEmptyString } from "./validate.ts";
 *
 * console.log(nonEmptyString("create my client", "pluginId", "my_plugin")); // "my_plugin"
 * ```
 */
export function nonEmptyString(
  action: string,
  field: string,
  value: unknown,
  fallback?: string,
  rule: StringRule = {},
): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "string" || value === "") {
    throw invalidArgument(action, field, "a non-empty string", value, rule);
  }
  const { maxBytes = Infinity } = rule;
  if (maxBytes !== Infinity && utf8ByteLength(value) > maxBytes) {
    throw new InvalidArgumentError(
      field,
      `Cannot ${action} as '${field}' must be a non-empty string of at most ${maxBytes} UTF-8 bytes: current value is ${
        utf8ByteLength(value)
      } bytes long`,
    );
  }
  return value;
}

/**
 * Checks that a value is one of a few strings.
 *
 * @param action What cannot happen otherwise.
 * @param field The option or argument name.
 * @param value The value given.
 * @param fallback What `undefined` stands for; `undefined` to require a value.
 * @param choices The strings allowed; the message lists them, and shows the rejected value.
 * @returns The value, or `fallback` when the value is `undefined`.
 * @throws {InvalidArgumentError} When the value is not one of `choices`.
 *
 * @example
 * ```ts
 * import { oneOf } from "./validate.ts";
 *
 * const transport = oneOf("set up migas", "transport", undefined, "rest", ["rest", "graphql"] as const);
 * console.log(transport); // "rest"
 * ```
 */
export function oneOf<const C extends string>(
  action: string,
  field: string,
  value: unknown,
  fallback: C | undefined,
  choices: readonly C[],
): C {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    const listed = choices.map((choice) => JSON.stringify(choice));
    const rule = listed.length === 1
      ? listed[0]
      : `${listed.slice(0, -1).join(", ")} or ${listed[listed.length - 1]}`;
    throw invalidArgument(action, field, rule, value, { reveal: true });
  }
  return value as C;
}

/**
 * Checks an absolute `http:` or `https:` URL (given as a string or a `URL`).
 * The message never shows the URL, which may carry credentials.
 *
 * @param action What cannot happen otherwise.
 * @param field The option or argument name.
 * @param value The value given.
 * @param fallback What `undefined` stands for; leave it out to require a value.
 * @returns The URL as a string, without a trailing slash (unless it has a query), or `fallback` when the value is `undefined`.
 * @throws {InvalidArgumentError} When the value is not an absolute http(s) URL.
 *
 * @example
 * ```ts
 * import { httpUrl } from "./validate.ts";
 *
 * console.log(httpUrl("create my client", "endpoint", "https://example.com/api/")); // "https://example.com/api"
 * ```
 */
export function httpUrl(action: string, field: string, value: unknown, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  const url = parseUrl(value);
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw invalidArgument(action, field, "an absolute http or https URL", value);
  }
  return url.search === "" && url.hash === "" ? url.href.replace(/\/+$/, "") : url.href;
}

/** The value as an absolute URL, or `undefined` when it is not one (reported by the caller). */
function parseUrl(value: unknown): URL | undefined {
  try {
    return typeof value === "string" || value instanceof URL ? new URL(value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a WebSocket URL option.
 *
 * @param action What cannot happen otherwise.
 * @param field The option or argument name.
 * @param value The value given.
 * @returns The URL as a string, as `URL` normalises it.
 * @throws {InvalidArgumentError} When the value is not an absolute ws or wss URL.
 *
 * @example
 * ```ts
 * import { webSocketUrl } from "./validate.ts";
 *
 * console.log(webSocketUrl("create my client", "url", "ws://127.0.0.1:8080")); // "ws://127.0.0.1:8080/"
 * ```
 */
export function webSocketUrl(action: string, field: string, value: unknown): string {
  const url = parseUrl(value);
  if (url === undefined || (url.protocol !== "ws:" && url.protocol !== "wss:")) {
    throw invalidArgument(action, field, "an absolute ws or wss URL", value);
  }
  return url.href;
}

/**
 * Resolves the `WebSocket` option: the class given, else the runtime's own.
 *
 * @param action What cannot happen otherwise.
 * @param value The option as given.
 * @returns The class to open sockets with.
 * @throws {InvalidArgumentError} When the value is not a function, or none is given and the runtime has no `WebSocket`.
 *
 * @example
 * ```ts
 * import { webSocketClass } from "./validate.ts";
 *
 * console.log(webSocketClass("create my client", undefined) === WebSocket); // true
 * ```
 */
export function webSocketClass(action: string, value: unknown): typeof WebSocket {
  const given = optionalFunction(action, "WebSocket", value) as typeof WebSocket | undefined;
  const found = given ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (found === undefined) {
    throw invalidArgument(action, "WebSocket", "a WebSocket class in this runtime", undefined);
  }
  return found;
}

/**
 * Checks an optional callback.
 *
 * @param action What cannot happen otherwise.
 * @param field The option or argument name.
 * @param value The value given.
 * @returns The function, or `undefined` when none was given.
 * @throws {InvalidArgumentError} When the value is neither a function nor `undefined`.
 *
 * @example
 * ```ts
 * import { optionalFunction } from "./validate.ts";
 *
 * const now = optionalFunction<() => number>("create my client", "now", undefined) ?? Date.now;
 * console.log(typeof now()); // "number"
 * ```
 */
// deno-lint-ignore no-explicit-any
export function optionalFunction<F extends (...args: any[]) => unknown>(
  action: string,
  field: string,
  value: unknown,
): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw invalidArgument(action, field, "a function", value);
  return value as F;
}

/**
 * Checks an optional object that has the given methods, such as a
 * `Storage` (`get`, `set`, `delete`) or a store.
 *
 * @param action What cannot happen otherwise.
 * @param field The option or argument name.
 * @param value The value given.
 * @param methods The names of the methods it must have.
 * @returns The object, or `undefined` when none was given.
 * @throws {InvalidArgumentError} When the value is not an object with those methods.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type Storage } from "./storage.ts";
 * import { optionalObject } from "./validate.ts";
 *
 * const storage = optionalObject<Storage>("create my client", "storage", new MemoryStorage(), [
 *   "get",
 *   "set",
 *   "delete",
 * ]);
 * console.log(storage !== undefined); // true
 * ```
 */
export function optionalObject<T extends object>(
  action: string,
  field: string,
  value: unknown,
  methods: readonly string[] = [],
): T | undefined {
  if (value === undefined) return undefined;
  const record = value as Record<string, unknown>;
  if (
    typeof value !== "object" || value === null ||
    methods.some((method) => typeof record[method] !== "function")
  ) {
    const rule = methods.length === 0
      ? "an object"
      : `an object with ${methods.map((method) => `${method}()`).join(", ")}`;
    throw invalidArgument(action, field, rule, value);
  }
  return value as T;
}
