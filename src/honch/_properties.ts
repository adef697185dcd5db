/**
 * The rules for what callers put in an event: event names, user properties
 * (no SDK-owned keys, at most 64, JSON-like values the durable queue can
 * keep) and the UTF-8 byte budgets of the wire format.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { toWireValue, type WireValue } from "./wire_value.ts";
import { PROMOTED_CONTEXT_KEYS } from "./wire_v2.ts";

/** Keys the SDK sets itself: context keys promoted into event properties. */
export const SDK_OWNED_KEYS: ReadonlySet<string> = new Set(PROMOTED_CONTEXT_KEYS);
/** The longest event name, in characters. */
export const MAX_EVENT_NAME_LENGTH = 128;
/** The longest distinct id, in UTF-8 bytes. */
export const MAX_DISTINCT_ID_BYTES = 256;
/** The most properties of one event. */
export const MAX_PROPERTIES = 64;
/** The longest context string (model, firmware, environment), in UTF-8 bytes. */
export const MAX_CONTEXT_BYTES = 512;

/**
 * Validates a property value with `toWireValue` and returns a copy the
 * durable queue can store as JSON: dates become ISO strings, `undefined`
 * becomes `null` and safe bigints numbers.
 *
 * @throws {TypeError} What `toWireValue` throws, naming `path`.
 * @throws {InvalidArgumentError} For bytes and bigints beyond the safe range, which JSON cannot keep.
 */
export function toQueuedValue(value: unknown, path: string): unknown {
  return plain(toWireValue(value, { path }), path);
}

function plain(value: WireValue, path: string): unknown {
  switch (value.type) {
    case "null":
      return null;
    case "bool":
    case "string":
    case "float32":
    case "float64":
      return value.value;
    case "uint":
    case "int":
      if (typeof value.value === "bigint") {
        throw new InvalidArgumentError(
          path,
          `Cannot track '${path}' as ${value.value} is beyond the safe integer range the queue keeps: pass a number or a decimal string`,
        );
      }
      return value.value;
    case "bytes":
      throw new InvalidArgumentError(
        path,
        `Cannot track '${path}' as byte arrays are not queued (capture refuses them by default): pass a base64 string`,
      );
    case "array":
      return value.items.map((item, index) => plain(item, `${path}[${index}]`));
    case "map": {
      const object: Record<string, unknown> = {};
      for (const entry of value.entries) {
        Object.defineProperty(object, entry.key, {
          value: plain(entry.value, `${path}.${entry.key}`),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return object;
    }
  }
}

/**
 * Checks an event name: a string of 1..128 characters.
 *
 * @throws {InvalidArgumentError} When it is not.
 */
export function validateEventName(event: string): void {
  if (typeof event !== "string" || event === "" || event.length > MAX_EVENT_NAME_LENGTH) {
    throw new InvalidArgumentError(
      "event",
      `Cannot track as 'event' must be a string of 1..${MAX_EVENT_NAME_LENGTH} characters: current value is ${
        typeof event === "string" ? `${event.length} characters long` : typeof event
      }`,
    );
  }
}

/**
 * Checks the properties given to `track()` or `identify()` and converts them
 * with {@linkcode toQueuedValue}: at most 64 keys, none of them SDK-owned.
 *
 * @param properties What the caller passed; `undefined` and `null` mean none.
 * @param path The argument's name in error messages, such as `"traits"`.
 * @returns A new object the queue can store.
 * @throws {InvalidArgumentError} When it is not a plain object, has too many keys or an SDK-owned one.
 * @throws {TypeError} When a value cannot be encoded.
 */
export function userProperties(
  properties: Record<string, unknown> | undefined,
  path: string,
): Record<string, unknown> {
  if (properties === undefined || properties === null) return {};
  if (typeof properties !== "object" || Array.isArray(properties)) {
    throw new InvalidArgumentError(
      path,
      `Cannot track as '${path}' must be a plain object: current value is ${
        Array.isArray(properties) ? "an array" : typeof properties
      }`,
    );
  }
  const keys = Object.keys(properties);
  if (keys.length > MAX_PROPERTIES) {
    throw new InvalidArgumentError(
      path,
      `Cannot track as '${path}' has ${keys.length} keys and at most ${MAX_PROPERTIES} fit an event: send fewer`,
    );
  }
  const result: Record<string, unknown> = {};
  for (const key of keys) {
    if (SDK_OWNED_KEYS.has(key)) {
      throw new InvalidArgumentError(
        `${path}.${key}`,
        `Cannot track as '${path}.${key}' is set by the SDK: remove it or rename it`,
      );
    }
    Object.defineProperty(result, key, {
      value: toQueuedValue(properties[key], `${path}.${key}`),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}
