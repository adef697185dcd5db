/**
 * The Honch compact message decoder (wire format v2): {@linkcode decodeMessage}
 * reads a message strictly, as capture does before expanding it, within the
 * limits the caller sets.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { WireFormatError } from "./errors.ts";
import { VarintReader } from "./_varint.ts";
import {
  CONTEXT_NAMES,
  FIRST_EXTENSION_ID,
  FLAG_CONTEXT_PROMOTES_PROPERTIES,
  FORMAT_VERSION,
  KIND_EVENT_BATCH,
  PROMOTED_KEYS,
  RESERVED_IDS,
  RESERVED_NAMES,
  TAG_ARRAY,
  TAG_BYTES,
  TAG_FALSE,
  TAG_FLOAT32,
  TAG_FLOAT64,
  TAG_INT,
  TAG_MAP,
  TAG_NULL,
  TAG_STRING,
  TAG_TRUE,
  TAG_UINT,
} from "./_wire_format.ts";
import { WIRE_LIMITS } from "./wire_tables.ts";
import type {
  WireBatch,
  WireContextEntry,
  WireEvent,
  WireLimits,
  WireProperty,
} from "./wire_types.ts";
import type { WireValue } from "./wire_value.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

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
