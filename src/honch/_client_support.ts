/**
 * Private helpers of the Honch client: the hidden option that lets tests
 * replace the delivery and the globals, the conversion of property values
 * into what the durable queue can store, and UTF-8 byte budgets.
 *
 * @module
 */

import type { DeliveryContext, DeliveryOptions, FlushStep, QueuedEvent } from "./_delivery.ts";
import { InvalidArgumentError } from "./errors.ts";
import { toWireValue, type WireValue } from "./wire_value.ts";

/** What the client needs of a delivery; the real one is `Delivery`. */
export interface DeliveryLike {
  /** Sends one batch from the head of `events`. */
  step(
    events: readonly QueuedEvent[],
    options?: { keepalive?: boolean; ignoreSpacing?: boolean },
  ): Promise<FlushStep>;
  /** How many failed uploads were scheduled for a retry. */
  readonly retries: number;
}

/** Hidden construction hooks, read from the options under {@linkcode CLIENT_INTERNALS}. */
export interface ClientInternals {
  /** Builds the delivery instead of `new Delivery(...)`. */
  delivery?: (options: DeliveryOptions, context: DeliveryContext) => DeliveryLike;
  /** Stands in for `globalThis` when looking for event listeners and `document`. */
  globals?: object;
}

/** The key of the hidden {@linkcode ClientInternals} in the client's options; not public API. */
export const CLIENT_INTERNALS: unique symbol = Symbol("honch.client.internals");

const encoder = new TextEncoder();

/** Counts the UTF-8 bytes of `text`. */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || utf8Length(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8Length(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

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

/** The stack frames of `error`, crash site first, without the leading `Name: message` line. */
export function stackFrames(error: unknown): string[] {
  const stack = typeof error === "object" && error !== null
    ? (error as { stack?: unknown }).stack
    : undefined;
  if (typeof stack !== "string") return [];
  const frames: string[] = [];
  for (const line of stack.split("\n")) {
    const trimmed = line.trim();
    // V8 prefixes frames with "at "; SpiderMonkey and JavaScriptCore write "fn@file:line:col".
    if (trimmed.startsWith("at ") || /@.+:\d+/.test(trimmed)) frames.push(trimmed);
  }
  return frames;
}

/** Joins whole frames, crash site first, while they fit in `maxBytes`. */
export function fitFrames(frames: readonly string[], maxBytes: number): string {
  let text = "";
  let bytes = 0;
  for (const frame of frames) {
    const size = utf8Length(frame) + (text === "" ? 0 : 1);
    if (bytes + size > maxBytes) break;
    text += text === "" ? frame : "\n" + frame;
    bytes += size;
  }
  return text;
}
