/**
 * The Honch compact event message (wire format v2): {@linkcode encodeMessage}
 * writes a batch of events with its shared context as the canonical bytes the
 * official SDKs send, and {@linkcode decodeMessage} reads them back strictly,
 * as capture does. The bytes travel inside chunk frames (see `frames.ts`).
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { WireFormatError } from "./errors.ts";
import { VarintReader, writeSvarint, writeUvarint } from "./_varint.ts";
import type { WireValue } from "./wire_value.ts";

/** One property of an event, or one entry of a nested map. */
export interface WireProperty {
  /** The property name; reserved names such as `$battery_level` travel as numeric ids. */
  key: string;
  /** The typed value. */
  value: WireValue;
}

/** One event of a batch. */
export interface WireEvent {
  /** The event name, never empty. */
  name: string;
  /** When the event happened, in epoch milliseconds. */
  timestampMs: number;
  /** The event's own properties, in wire order; promoted context keys are not allowed here. */
  properties: WireProperty[];
}

/**
 * One batch context entry: `id` is a context key id (1 `distinct_id` … 7
 * `$environment` required strings, 8 `$session_id`, 9 `device_time_source`
 * 0..3, 10 `capabilities`, 128 and above extensions of any value).
 */
export interface WireContextEntry {
  /** The context key id, see {@linkcode CONTEXT_KEY_IDS}. */
  id: number;
  /** The typed value: a string for ids 1-8, a uint for 9 and 10. */
  value: WireValue;
}

/** A batch of events sharing one context, the content of one compact message. */
export interface WireBatch {
  /** The epoch milliseconds every event time is a delta from. */
  baseTimeMs: number;
  /** The batch context; the encoder writes it in ascending id order. */
  context: WireContextEntry[];
  /** The events, 1 to {@linkcode WIRE_LIMITS}.maxEvents of them. */
  events: WireEvent[];
}

/** The size limits a compact message is checked against. */
export interface WireLimits {
  /** Events per message. */
  maxEvents: number;
  /** String table entries. */
  maxStrings: number;
  /** UTF-8 bytes per string table entry. */
  maxStringBytes: number;
  /** UTF-8 bytes of the whole string table. */
  maxTotalStringBytes: number;
  /** Properties per event. */
  maxProperties: number;
  /** How many arrays and maps may nest inside one another. */
  maxDepth: number;
  /** Bytes of the whole compact message, before chunking. */
  maxMessageBytes: number;
}

/**
 * The default SDK limits every official SDK keeps to, and that
 * {@linkcode encodeMessage} enforces.
 *
 * @example
 * ```ts
 * import { WIRE_LIMITS } from "@edgewire/sdk/honch";
 *
 * console.log(WIRE_LIMITS.maxMessageBytes); // 4096
 * ```
 */
export const WIRE_LIMITS: {
  readonly maxEvents: 50;
  readonly maxStrings: 128;
  readonly maxStringBytes: 512;
  readonly maxTotalStringBytes: 2048;
  readonly maxProperties: 64;
  readonly maxDepth: 8;
  readonly maxMessageBytes: 4096;
} = Object.freeze({
  maxEvents: 50,
  maxStrings: 128,
  maxStringBytes: 512,
  maxTotalStringBytes: 2048,
  maxProperties: 64,
  maxDepth: 8,
  maxMessageBytes: 4096,
});

/**
 * The default capture (server) hard limits: never lower than the SDK limits,
 * for a collector to pass to {@linkcode decodeMessage}.
 *
 * @example
 * ```ts
 * import { CAPTURE_LIMITS, decodeMessage } from "@edgewire/sdk/honch";
 *
 * const decode = (body: Uint8Array) => decodeMessage(body, { limits: CAPTURE_LIMITS });
 * console.log(typeof decode); // "function"
 * ```
 */
export const CAPTURE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxEvents: 500,
  maxStrings: 4096,
  maxStringBytes: 4096,
  maxTotalStringBytes: 256 * 1024,
  maxProperties: 64,
  maxDepth: 8,
  maxMessageBytes: 1024 * 1024,
});

/**
 * The context key ids by name. Ids 1-8 are promoted into every expanded
 * event (1 as its `distinct_id`, the rest as properties); 9 and 10 are ingest
 * metadata; 11-127 are reserved; 128 and above are extensions.
 *
 * @example
 * ```ts
 * import { CONTEXT_KEY_IDS } from "@edgewire/sdk/honch";
 *
 * console.log(CONTEXT_KEY_IDS.$session_id); // 8
 * ```
 */
export const CONTEXT_KEY_IDS: Readonly<Record<string, number>> = Object.freeze({
  distinct_id: 1,
  $device_id: 2,
  $device_model: 3,
  $firmware_version: 4,
  $sdk_platform: 5,
  $sdk_version: 6,
  $environment: 7,
  $session_id: 8,
  device_time_source: 9,
  capabilities: 10,
});

/**
 * The context keys promoted into every expanded event's properties, in id
 * order (`distinct_id` … `$session_id`): no event property may use them.
 *
 * @example
 * ```ts
 * import { PROMOTED_CONTEXT_KEYS } from "@edgewire/sdk/honch";
 *
 * console.log(PROMOTED_CONTEXT_KEYS.includes("$device_id")); // true
 * ```
 */
export const PROMOTED_CONTEXT_KEYS: readonly string[] = Object.freeze(
  Object.keys(CONTEXT_KEY_IDS).slice(0, 8),
);

/**
 * The reserved property ids by name: these keys are written as
 * `id << 1` instead of a string table reference.
 *
 * @example
 * ```ts
 * import { RESERVED_PROPERTY_IDS } from "@edgewire/sdk/honch";
 *
 * console.log(RESERVED_PROPERTY_IDS.$battery_level); // 1
 * ```
 */
export const RESERVED_PROPERTY_IDS: Readonly<Record<string, number>> = Object.freeze({
  $battery_level: 1,
  $wifi_rssi: 2,
  reset_reason: 3,
  state: 4,
  previous_version: 5,
  new_version: 6,
  session_name: 7,
});

/** Options of {@linkcode encodeMessage}. */
export interface EncodeOptions {
  /**
   * Whether to enforce the format's rules and the SDK limits. `false` writes
   * the batch as given (duplicate or promoted keys, missing context, reserved
   * ids, NaN, oversize), which only a test building invalid messages wants.
   *
   * @default true
   */
  strict?: boolean;
}

/** Options of {@linkcode decodeMessage}. */
export interface DecodeOptions {
  /**
   * The limits to enforce; a collector passes {@linkcode CAPTURE_LIMITS}.
   * Limits are enforced even when `strict` is `false`.
   *
   * @default WIRE_LIMITS
   */
  limits?: Partial<WireLimits>;
  /**
   * Whether to enforce the format's rules (required context, no duplicate,
   * promoted or aliased keys, no NaN, valid context ids). `false` returns
   * whatever parses, for diagnostics.
   *
   * @default true
   */
  strict?: boolean;
  /**
   * Whether `bytes` values are accepted; capture refuses them unless the
   * project enables binary properties.
   *
   * @default true
   */
  allowBytes?: boolean;
}

const FORMAT_VERSION = 2;
const KIND_EVENT_BATCH = 1;
const FLAG_CONTEXT_PROMOTES_PROPERTIES = 1;
const FIRST_EXTENSION_ID = 128;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const MIN_I64 = -0x8000_0000_0000_0000n;
const MAX_I64 = 0x7fff_ffff_ffff_ffffn;

const CONTEXT_NAMES = ["", ...Object.keys(CONTEXT_KEY_IDS)];
const RESERVED_IDS = new Map(Object.entries(RESERVED_PROPERTY_IDS));
const RESERVED_NAMES = ["", ...Object.keys(RESERVED_PROPERTY_IDS)];
const PROMOTED_KEYS = new Set(PROMOTED_CONTEXT_KEYS);

const TAG_NULL = 0x00;
const TAG_FALSE = 0x01;
const TAG_TRUE = 0x02;
const TAG_UINT = 0x03;
const TAG_INT = 0x04;
const TAG_FLOAT32 = 0x05;
const TAG_FLOAT64 = 0x06;
const TAG_STRING = 0x07;
const TAG_BYTES = 0x08;
const TAG_ARRAY = 0x09;
const TAG_MAP = 0x0a;

// One scratch buffer for float conversions, so writing a float allocates nothing.
const SCRATCH = new DataView(new ArrayBuffer(8));
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Encodes a batch as one canonical compact message: the string table is
 * interned in first-use order (context strings, then per event its name,
 * custom keys and string values depth first), context is written in
 * ascending id order, reserved property keys as their ids.
 *
 * @param batch The events and their shared context.
 * @param options Whether to enforce the rules and limits.
 * @returns The compact message bytes, to be chunked into frames.
 * @throws {InvalidArgumentError} When the batch breaks a rule or a limit; `argument` names the
 * part at fault, such as `events[2].properties.mode`, `context[9]` or `batch`.
 * @example
 * ```ts
 * import { encodeMessage } from "@edgewire/sdk/honch";
 *
 * const text = (value: string) => ({ type: "string", value }) as const;
 * const bytes = encodeMessage({
 *   baseTimeMs: 1700000000000,
 *   context: ["user-1", "device-1", "model-x", "1.0.0", "posix", "0.3.1", "production"]
 *     .map((value, index) => ({ id: index + 1, value: text(value) })),
 *   events: [{ name: "boot", timestampMs: 1700000000000, properties: [] }],
 * });
 * console.log(bytes.length); // 94
 * ```
 */
export function encodeMessage(batch: WireBatch, options: EncodeOptions = {}): Uint8Array {
  return new MessageEncoder(options.strict ?? true).encode(batch);
}

/**
 * Tells how many of `batch.events`, from the first, encode within the SDK
 * limits (events, strings, message bytes…), so a sender can split a queue
 * into messages. An event that breaks a rule ends the prefix as well.
 *
 * @param batch The context and the candidate events.
 * @returns The number of leading events that fit; 0 when the first alone does not.
 * @example
 * ```ts
 * import { largestFittingPrefix } from "@edgewire/sdk/honch";
 *
 * const text = (value: string) => ({ type: "string", value }) as const;
 * const context = ["user-1", "device-1", "model-x", "1.0.0", "posix", "0.3.1", "production"]
 *   .map((value, index) => ({ id: index + 1, value: text(value) }));
 * const events = Array.from({ length: 80 }, () => ({ name: "tick", timestampMs: 1, properties: [] }));
 * console.log(largestFittingPrefix({ baseTimeMs: 1, context, events })); // 50
 * ```
 */
export function largestFittingPrefix(batch: WireBatch): number {
  const fits = (count: number): boolean => {
    try {
      new MessageEncoder(true).encode({ ...batch, events: batch.events.slice(0, count) });
      return true;
    } catch (error) {
      if (error instanceof InvalidArgumentError) return false;
      throw error;
    }
  };
  let high = Math.min(batch.events.length, WIRE_LIMITS.maxEvents);
  if (high === 0 || !fits(1)) return 0;
  // Adding events only adds bytes and strings, so "fits" is monotonic and a binary search is exact.
  let low = 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

class MessageEncoder {
  readonly strict: boolean;
  readonly out: number[] = [];
  readonly index = new Map<string, number>();
  readonly strings: string[] = [];
  totalBytes = 0;

  constructor(strict: boolean) {
    this.strict = strict;
  }

  encode(batch: WireBatch): Uint8Array {
    const limits = WIRE_LIMITS;
    if (!Number.isSafeInteger(batch.baseTimeMs) || batch.baseTimeMs < 0) {
      throw fail(
        "baseTimeMs",
        `must be a safe integer >= 0: current value is ${batch.baseTimeMs}`,
        "pass epoch milliseconds",
      );
    }
    const context = this.collectContext(batch.context);
    const events = batch.events;
    if (this.strict && (events.length === 0 || events.length > limits.maxEvents)) {
      throw fail(
        "events",
        `must hold 1..${limits.maxEvents} events: current count is ${events.length}`,
        "split the events into several messages",
      );
    }
    for (let index = 0; index < events.length; index++) this.collectEvent(events[index], index);

    const out = this.out;
    out.push(FORMAT_VERSION, KIND_EVENT_BATCH, FLAG_CONTEXT_PROMOTES_PROPERTIES);
    writeUvarint(out, batch.baseTimeMs);
    writeUvarint(out, this.strings.length);
    for (const text of this.strings) {
      writeUvarint(out, utf8Length(text, this.strict));
      writeUtf8(out, text);
    }
    writeUvarint(out, context.length);
    for (const entry of context) {
      writeUvarint(out, entry.id);
      this.writeValue(entry.value);
    }
    writeUvarint(out, events.length);
    for (const event of events) {
      writeUvarint(out, this.index.get(event.name)!);
      writeSvarint(out, event.timestampMs - batch.baseTimeMs);
      writeUvarint(out, event.properties.length);
      for (const property of event.properties) {
        this.writeKey(property.key);
        this.writeValue(property.value);
      }
    }
    if (this.strict && out.length > limits.maxMessageBytes) {
      throw fail(
        "batch",
        `takes ${out.length} bytes, over the ${limits.maxMessageBytes}-byte message limit`,
        "send fewer events per message (largestFittingPrefix tells how many fit)",
      );
    }
    return new Uint8Array(out);
  }

  collectContext(given: WireContextEntry[]): WireContextEntry[] {
    // Sorting a copy keeps the caller's array intact; the sort is stable for equal ids.
    const context = [...given].sort((a, b) => a.id - b.id);
    let required = 0;
    for (let index = 0; index < context.length; index++) {
      const { id, value } = context[index];
      const field = `context[${id}]`;
      if (!Number.isSafeInteger(id) || id < 0) {
        throw fail(
          field,
          "has an id that is not an integer >= 0",
          "use the ids of CONTEXT_KEY_IDS",
        );
      }
      if (this.strict) {
        if (index > 0 && context[index - 1].id === id) {
          throw fail(field, "appears twice", "give each context id one entry");
        }
        if (id === 0 || (id > 10 && id < FIRST_EXTENSION_ID)) {
          throw fail(field, "is a reserved context id", "use ids 1-10 or 128 and above");
        }
        if (id <= 8) {
          if (value.type !== "string" || value.value === "") {
            throw fail(
              field,
              `(${CONTEXT_NAMES[id]}) must be a non-empty string`,
              "pass a string value",
            );
          }
          if (id <= 7) required++;
        } else if (id <= 10) {
          if (value.type !== "uint" || (id === 9 && !(value.value >= 0 && value.value <= 3))) {
            throw fail(
              field,
              `(${CONTEXT_NAMES[id]}) must be a uint${id === 9 ? " in 0..3" : ""}`,
              'pass a { type: "uint" } value',
            );
          }
        }
      }
      this.collectValue(value, field, 0);
    }
    if (this.strict && required !== 7) {
      const missing = [1, 2, 3, 4, 5, 6, 7].filter((id) =>
        !context.some((entry) => entry.id === id)
      )
        .map((id) => CONTEXT_NAMES[id]);
      throw fail(
        "context",
        `lacks ${missing.join(", ")}`,
        "pass all seven required context strings",
      );
    }
    return context;
  }

  collectEvent(event: WireEvent, eventIndex: number): void {
    const field = `events[${eventIndex}]`;
    if (typeof event.name !== "string" || (this.strict && event.name === "")) {
      throw fail(`${field}.name`, "must be a non-empty string", "name the event");
    }
    if (!Number.isSafeInteger(event.timestampMs)) {
      throw fail(
        `${field}.timestampMs`,
        `must be a safe integer: current value is ${event.timestampMs}`,
        "pass epoch milliseconds",
      );
    }
    this.intern(event.name, `${field}.name`);
    const properties = event.properties;
    if (this.strict && properties.length > WIRE_LIMITS.maxProperties) {
      throw fail(
        `${field}.properties`,
        `has ${properties.length} properties, over the limit of ${WIRE_LIMITS.maxProperties}`,
        "send fewer properties",
      );
    }
    this.collectEntries(properties, `${field}.properties`, 0);
  }

  collectEntries(entries: WireProperty[], field: string, depth: number): void {
    for (let index = 0; index < entries.length; index++) {
      const key = entries[index].key;
      const path = `${field}.${key}`;
      if (typeof key !== "string") {
        throw fail(`${field}[${index}]`, "has a key that is not a string", "pass a string key");
      }
      if (this.strict) {
        if (key === "") throw fail(path, "has an empty key", "name the property");
        if (PROMOTED_KEYS.has(key)) {
          throw fail(
            path,
            "repeats a promoted context key",
            "set it in the batch context, not per event",
          );
        }
        for (let earlier = 0; earlier < index; earlier++) {
          if (entries[earlier].key === key) throw fail(path, "appears twice", "keep one value");
        }
      }
      if (!RESERVED_IDS.has(key)) this.intern(key, path);
      this.collectValue(entries[index].value, path, depth);
    }
  }

  collectValue(value: WireValue, field: string, depth: number): void {
    switch (value.type) {
      case "null":
        return;
      case "bool":
        if (typeof value.value !== "boolean") {
          throw fail(field, "must be a boolean", "pass true or false");
        }
        return;
      case "uint":
        if (
          typeof value.value === "number"
            ? !(Number.isSafeInteger(value.value) && value.value >= 0)
            : !(value.value >= 0n && value.value <= MAX_U64)
        ) {
          throw fail(field, `is not a uint: ${value.value}`, "pass an integer in 0..2^64-1");
        }
        return;
      case "int":
        if (
          typeof value.value === "number"
            ? !Number.isSafeInteger(value.value)
            : !(value.value >= MIN_I64 && value.value <= MAX_I64)
        ) {
          throw fail(field, `is not an int: ${value.value}`, "pass an integer in -2^63..2^63-1");
        }
        return;
      case "float32":
      case "float64": {
        if (typeof value.value !== "number") throw fail(field, "must be a number", "pass a number");
        const number = value.type === "float32" ? Math.fround(value.value) : value.value;
        if (this.strict && !Number.isFinite(number)) {
          throw fail(field, `${value.value} is not allowed`, "pass a finite number or null");
        }
        return;
      }
      case "string":
        if (typeof value.value !== "string") throw fail(field, "must be a string", "pass a string");
        this.intern(value.value, field);
        return;
      case "bytes":
        if (!(value.value instanceof Uint8Array)) {
          throw fail(field, "must be a Uint8Array", "pass the bytes as a Uint8Array");
        }
        return;
      case "array":
      case "map": {
        if (this.strict && depth >= WIRE_LIMITS.maxDepth) {
          throw fail(
            field,
            `nests arrays and maps deeper than ${WIRE_LIMITS.maxDepth} levels`,
            "flatten the value",
          );
        }
        if (value.type === "map") {
          this.collectEntries(value.entries, field, depth + 1);
          return;
        }
        for (let index = 0; index < value.items.length; index++) {
          this.collectValue(value.items[index], `${field}[${index}]`, depth + 1);
        }
        return;
      }
      default:
        throw fail(
          field,
          `has the unknown type '${(value as { type: unknown }).type}'`,
          "use a WireValue type",
        );
    }
  }

  intern(text: string, field: string): void {
    if (this.index.has(text)) return;
    const bytes = utf8Length(text, this.strict);
    if (this.strict) {
      if (bytes < 0) {
        throw fail(
          field,
          "holds a lone UTF-16 surrogate, not valid UTF-8",
          "pass well-formed text",
        );
      }
      if (bytes > WIRE_LIMITS.maxStringBytes) {
        throw fail(
          field,
          `holds a ${bytes}-byte string, over the ${WIRE_LIMITS.maxStringBytes}-byte limit`,
          "shorten the string",
        );
      }
      if (this.totalBytes + bytes > WIRE_LIMITS.maxTotalStringBytes) {
        throw fail(
          field,
          `brings the string table to ${
            this.totalBytes + bytes
          } bytes, over the ${WIRE_LIMITS.maxTotalStringBytes}-byte limit`,
          "send fewer or shorter strings per message",
        );
      }
      if (this.strings.length >= WIRE_LIMITS.maxStrings) {
        throw fail(
          field,
          `needs string table entry ${
            this.strings.length + 1
          }, over the limit of ${WIRE_LIMITS.maxStrings}`,
          "send fewer distinct strings per message",
        );
      }
    }
    this.index.set(text, this.strings.length);
    this.strings.push(text);
    this.totalBytes += bytes;
  }

  writeKey(key: string): void {
    const reserved = RESERVED_IDS.get(key);
    if (reserved !== undefined) writeUvarint(this.out, reserved * 2);
    else writeUvarint(this.out, this.index.get(key)! * 2 + 1);
  }

  writeValue(value: WireValue): void {
    const out = this.out;
    switch (value.type) {
      case "null":
        out.push(TAG_NULL);
        return;
      case "bool":
        out.push(value.value ? TAG_TRUE : TAG_FALSE);
        return;
      case "uint":
        out.push(TAG_UINT);
        writeUvarint(out, value.value);
        return;
      case "int":
        out.push(TAG_INT);
        writeSvarint(out, value.value);
        return;
      case "float32":
        SCRATCH.setFloat32(0, value.value, true);
        out.push(
          TAG_FLOAT32,
          SCRATCH.getUint8(0),
          SCRATCH.getUint8(1),
          SCRATCH.getUint8(2),
          SCRATCH.getUint8(3),
        );
        return;
      case "float64":
        SCRATCH.setFloat64(0, value.value, true);
        out.push(TAG_FLOAT64);
        for (let index = 0; index < 8; index++) out.push(SCRATCH.getUint8(index));
        return;
      case "string":
        out.push(TAG_STRING);
        writeUvarint(out, this.index.get(value.value)!);
        return;
      case "bytes": {
        const bytes = value.value;
        out.push(TAG_BYTES);
        writeUvarint(out, bytes.length);
        for (let index = 0; index < bytes.length; index++) out.push(bytes[index]);
        return;
      }
      case "array":
        out.push(TAG_ARRAY);
        writeUvarint(out, value.items.length);
        for (const item of value.items) this.writeValue(item);
        return;
      case "map":
        out.push(TAG_MAP);
        writeUvarint(out, value.entries.length);
        for (const entry of value.entries) {
          this.writeKey(entry.key);
          this.writeValue(entry.value);
        }
        return;
    }
  }
}

function fail(field: string, problem: string, fix: string): InvalidArgumentError {
  return new InvalidArgumentError(
    field,
    `Cannot encode the message as '${field}' ${problem}: ${fix}`,
  );
}

/**
 * The UTF-8 length of `text`, or -1 when it holds a lone surrogate (which is
 * then written as its 3-byte WTF-8 form when not strict).
 */
function utf8Length(text: string, strict: boolean): number {
  let length = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    if (code < 0x800) {
      length += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 2; // four bytes for two UTF-16 units
        index++;
      } else if (strict) return -1;
      else length += 2;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      if (strict) return -1;
      length += 2;
    } else {
      length += 2;
    }
  }
  return length;
}

function writeUtf8(out: number[], text: string): void {
  for (let index = 0; index < text.length; index++) {
    let code = text.charCodeAt(index);
    if (code < 0x80) {
      out.push(code);
      continue;
    }
    if (code < 0x800) {
      out.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        index++;
        out.push(
          0xf0 | (code >> 18),
          0x80 | ((code >> 12) & 0x3f),
          0x80 | ((code >> 6) & 0x3f),
          0x80 | (code & 0x3f),
        );
        continue;
      }
    }
    out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
  }
}

/**
 * Decodes a compact message strictly, as capture does before expanding it.
 *
 * @param bytes The complete compact message (after frame reassembly and CRC check).
 * @param options The limits to enforce, strictness, and whether `bytes` values are accepted.
 * @returns The batch: context in wire order, events with absolute timestamps and properties in
 * wire order, reserved keys by name; integers as numbers when safe, bigints beyond.
 * @throws {WireFormatError} `"malformed"` when the bytes do not parse (truncated, unknown version,
 * kind, flag bit or value tag, bad varint, string index out of range, invalid UTF-8, trailing
 * bytes); `"invalid"` when they parse but break a rule (missing or duplicate context, reserved
 * context or property ids, empty names, promoted or aliased keys as properties, duplicate keys,
 * NaN or infinite floats, refused bytes values, limits); `"oversize"` when the message is larger
 * than `maxMessageBytes`.
 * @throws {InvalidArgumentError} When an option is not usable.
 * @example
 * ```ts
 * import { decodeMessage, encodeMessage } from "@edgewire/sdk/honch";
 *
 * const text = (value: string) => ({ type: "string", value }) as const;
 * const bytes = encodeMessage({
 *   baseTimeMs: 1000,
 *   context: ["user-1", "device-1", "model-x", "1.0.0", "posix", "0.3.1", "production"]
 *     .map((value, index) => ({ id: index + 1, value: text(value) })),
 *   events: [{ name: "hdr", timestampMs: 1025, properties: [{ key: "mode", value: text("auto") }] }],
 * });
 * console.log(decodeMessage(bytes).events[0].timestampMs); // 1025
 * ```
 */
export function decodeMessage(bytes: Uint8Array, options: DecodeOptions = {}): WireBatch {
  const limits: WireLimits = { ...WIRE_LIMITS };
  for (const [name, value] of Object.entries(options.limits ?? {})) {
    if (!(name in WIRE_LIMITS)) {
      throw new InvalidArgumentError(
        `limits.${name}`,
        `Cannot decode with the unknown limit 'limits.${name}': use the names of WIRE_LIMITS`,
      );
    }
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidArgumentError(
        `limits.${name}`,
        `Cannot decode as 'limits.${name}' must be a positive integer: current value is ${value}`,
      );
    }
    (limits as unknown as Record<string, number>)[name] = value;
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      "bytes",
      "Cannot decode as 'bytes' is not a Uint8Array: pass the message bytes",
    );
  }
  if (bytes.length > limits.maxMessageBytes) {
    throw new WireFormatError(
      "oversize",
      `Cannot decode the message as it takes ${bytes.length} bytes, over the ${limits.maxMessageBytes}-byte limit`,
    );
  }
  return new MessageDecoder(bytes, limits, options.strict ?? true, options.allowBytes ?? true)
    .decode();
}

class MessageDecoder {
  readonly bytes: Uint8Array;
  readonly reader: VarintReader;
  readonly limits: WireLimits;
  readonly strict: boolean;
  readonly allowBytes: boolean;
  view: DataView | undefined;
  strings: string[] = [];

  constructor(bytes: Uint8Array, limits: WireLimits, strict: boolean, allowBytes: boolean) {
    this.bytes = bytes;
    this.reader = new VarintReader(bytes, 0);
    this.limits = limits;
    this.strict = strict;
    this.allowBytes = allowBytes;
  }

  decode(): WireBatch {
    const reader = this.reader;
    const version = reader.uvarint();
    if (version !== FORMAT_VERSION) {
      throw this.malformed(`it has format version ${version}, not 2`, 0);
    }
    const kind = reader.uvarint();
    if (kind !== KIND_EVENT_BATCH) {
      throw this.malformed(`it has message kind ${kind}, not 1 (event batch)`);
    }
    const flags = reader.uvarint();
    if (typeof flags !== "number" || flags > FLAG_CONTEXT_PROMOTES_PROPERTIES) {
      throw this.malformed(`it sets reserved flag bits (flags ${flags})`);
    }
    if (this.strict && flags !== FLAG_CONTEXT_PROMOTES_PROPERTIES) {
      throw this.invalid("it does not set the context_promotes_properties flag");
    }
    const baseTimeMs = reader.uvarint();
    if (typeof baseTimeMs !== "number") {
      throw this.invalid(`its base time ${baseTimeMs} is beyond 2^53`);
    }

    this.readStrings();
    const context = this.readContext();
    const events = this.readEvents(baseTimeMs);
    if (reader.pos !== this.bytes.length) {
      throw this.malformed(`${this.bytes.length - reader.pos} bytes follow the last event`);
    }
    return { baseTimeMs, context, events };
  }

  readStrings(): void {
    const count = this.count(this.limits.maxStrings, "string table entries", 1);
    const strings: string[] = new Array(count);
    const seen = this.strict ? new Set<string>() : undefined;
    let total = 0;
    for (let index = 0; index < count; index++) {
      const length = this.count(this.limits.maxStringBytes, `bytes in string ${index}`, 1);
      total += length;
      if (total > this.limits.maxTotalStringBytes) {
        throw this.invalid(`its string table exceeds ${this.limits.maxTotalStringBytes} bytes`);
      }
      const start = this.reader.pos;
      let text: string;
      try {
        text = UTF8.decode(this.bytes.subarray(start, start + length));
      } catch {
        throw this.malformed(`string ${index} is not valid UTF-8`, start);
      }
      this.reader.pos = start + length;
      if (seen !== undefined) {
        if (seen.has(text)) throw this.invalid(`string ${index} repeats an earlier entry`, start);
        seen.add(text);
      }
      strings[index] = text;
    }
    this.strings = strings;
  }

  readContext(): WireContextEntry[] {
    const count = this.count(Number.MAX_SAFE_INTEGER, "context entries", 2);
    const context: WireContextEntry[] = [];
    let required = 0;
    for (let index = 0; index < count; index++) {
      const at = this.reader.pos;
      const id = this.reader.uvarint();
      if (typeof id !== "number") throw this.invalid(`context id ${id} is out of range`, at);
      const value = this.readValue(0);
      if (this.strict) {
        for (const entry of context) {
          if (entry.id === id) throw this.invalid(`context id ${id} appears twice`, at);
        }
        if (id === 0 || (id > 10 && id < FIRST_EXTENSION_ID)) {
          throw this.invalid(`context id ${id} is reserved`, at);
        }
        if (id <= 8) {
          if (value.type !== "string" || value.value === "") {
            throw this.invalid(`context ${CONTEXT_NAMES[id]} is not a non-empty string`, at);
          }
          if (id <= 7) required++;
        } else if (id <= 10) {
          if (value.type !== "uint" || (id === 9 && !(value.value >= 0 && value.value <= 3))) {
            throw this.invalid(`context ${CONTEXT_NAMES[id]} is not a valid uint`, at);
          }
        }
      }
      context.push({ id, value });
    }
    if (this.strict && required !== 7) throw this.invalid("it lacks required context");
    return context;
  }

  readEvents(baseTimeMs: number): WireEvent[] {
    const count = this.count(this.limits.maxEvents, "events", 3);
    if (this.strict && count === 0) throw this.invalid("it holds no events");
    const events: WireEvent[] = new Array(count);
    for (let index = 0; index < count; index++) {
      const at = this.reader.pos;
      const name = this.stringAt(this.reader.uvarint(), at);
      if (this.strict && name === "") throw this.invalid(`event ${index} has an empty name`, at);
      const delta = this.reader.svarint();
      const timestampMs = typeof delta === "number" ? baseTimeMs + delta : Number.NaN;
      if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
        throw this.invalid(`event ${index} has a timestamp outside 0..2^53-1`, at);
      }
      const properties = this.readEntries(this.limits.maxProperties, 0);
      events[index] = { name, timestampMs, properties };
    }
    return events;
  }

  readEntries(limit: number, depth: number): WireProperty[] {
    const count = this.count(limit, "properties", 2);
    const entries: WireProperty[] = new Array(count);
    for (let index = 0; index < count; index++) {
      const at = this.reader.pos;
      const key = this.readKey();
      if (this.strict) {
        for (let earlier = 0; earlier < index; earlier++) {
          if (entries[earlier].key === key) throw this.invalid(`key '${key}' appears twice`, at);
        }
      }
      entries[index] = { key, value: this.readValue(depth) };
    }
    return entries;
  }

  readKey(): string {
    const at = this.reader.pos;
    const ref = this.reader.uvarint();
    if (typeof ref !== "number" || ref === 0) {
      throw this.malformed(`key reference ${ref} is not valid`, at);
    }
    const id = Math.floor(ref / 2);
    if (ref % 2 === 0) {
      const name = RESERVED_NAMES[id];
      if (name === undefined) throw this.invalid(`reserved property id ${id} is not defined`, at);
      return name;
    }
    const key = this.stringAt(id, at);
    if (this.strict) {
      if (key === "") throw this.invalid("a property key is empty", at);
      if (RESERVED_IDS.has(key) || PROMOTED_KEYS.has(key)) {
        throw this.invalid(`custom key '${key}' is reserved or promoted context`, at);
      }
    }
    return key;
  }

  readValue(depth: number): WireValue {
    const bytes = this.bytes;
    const reader = this.reader;
    const at = reader.pos;
    if (at >= bytes.length) throw this.malformed("it ends before a value", at);
    const tag = bytes[reader.pos++];
    switch (tag) {
      case TAG_NULL:
        return { type: "null" };
      case TAG_FALSE:
        return { type: "bool", value: false };
      case TAG_TRUE:
        return { type: "bool", value: true };
      case TAG_UINT:
        return { type: "uint", value: reader.uvarint() };
      case TAG_INT:
        return { type: "int", value: reader.svarint() };
      case TAG_FLOAT32:
      case TAG_FLOAT64: {
        const size = tag === TAG_FLOAT32 ? 4 : 8;
        if (reader.pos + size > bytes.length) throw this.malformed("it ends inside a float", at);
        const view = this.view ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const value = size === 4
          ? view.getFloat32(reader.pos, true)
          : view.getFloat64(reader.pos, true);
        reader.pos += size;
        if (this.strict && !Number.isFinite(value)) throw this.invalid(`a float is ${value}`, at);
        return { type: size === 4 ? "float32" : "float64", value };
      }
      case TAG_STRING:
        return { type: "string", value: this.stringAt(reader.uvarint(), at) };
      case TAG_BYTES: {
        if (!this.allowBytes) {
          throw this.invalid("it holds a bytes value, which is not enabled", at);
        }
        const length = this.count(Number.MAX_SAFE_INTEGER, "bytes", 1);
        const value = bytes.slice(reader.pos, reader.pos + length);
        reader.pos += length;
        return { type: "bytes", value };
      }
      case TAG_ARRAY:
      case TAG_MAP: {
        if (depth >= this.limits.maxDepth) {
          throw this.invalid(`arrays and maps nest deeper than ${this.limits.maxDepth} levels`, at);
        }
        if (tag === TAG_MAP) {
          return { type: "map", entries: this.readEntries(Number.MAX_SAFE_INTEGER, depth + 1) };
        }
        const count = this.count(Number.MAX_SAFE_INTEGER, "array items", 1);
        const items: WireValue[] = new Array(count);
        for (let index = 0; index < count; index++) items[index] = this.readValue(depth + 1);
        return { type: "array", items };
      }
      default:
        throw this.malformed(`value tag 0x${tag.toString(16).padStart(2, "0")} is reserved`, at);
    }
  }

  /** Reads a count, bounding it by a limit and by the bytes left (each item takes `minBytes`). */
  count(limit: number, what: string, minBytes: number): number {
    const at = this.reader.pos;
    const count = this.reader.uvarint();
    if (typeof count !== "number" || count > limit) {
      throw this.invalid(`it has ${count} ${what}, over the limit of ${limit}`, at);
    }
    if (count * minBytes > this.bytes.length - this.reader.pos) {
      throw this.malformed(`it announces ${count} ${what} but fewer bytes remain`, at);
    }
    return count;
  }

  stringAt(index: number | bigint, at: number): string {
    if (typeof index !== "number" || index >= this.strings.length) {
      throw this.malformed(`string index ${index} is out of range`, at);
    }
    return this.strings[index];
  }

  malformed(problem: string, at = this.reader.pos): WireFormatError {
    return new WireFormatError("malformed", `Cannot decode the message as ${problem} (byte ${at})`);
  }

  invalid(problem: string, at = this.reader.pos): WireFormatError {
    return new WireFormatError("invalid", `Cannot accept the message as ${problem} (byte ${at})`);
  }
}
