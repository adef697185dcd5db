/**
 * The Honch compact message encoder (wire format v2): {@linkcode encodeMessage}
 * writes a batch of events with its shared context as the canonical bytes
 * the official SDKs send, and {@linkcode largestFittingPrefix} tells how many
 * events of a queue fit one message.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { writeSvarint, writeUvarint } from "./_varint.ts";
import { StringTable } from "./_string_table.ts";
import {
  CONTEXT_NAMES,
  fail,
  FIRST_EXTENSION_ID,
  FLAG_CONTEXT_PROMOTES_PROPERTIES,
  FORMAT_VERSION,
  KIND_EVENT_BATCH,
  MAX_I64,
  MAX_U64,
  MIN_I64,
  PROMOTED_KEYS,
  RESERVED_IDS,
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
import type { WireBatch, WireContextEntry, WireEvent, WireProperty } from "./wire_types.ts";
import type { WireValue } from "./wire_value.ts";

// One scratch buffer for float conversions, so writing a float allocates nothing.
const SCRATCH = new DataView(new ArrayBuffer(8));

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
  readonly strings: StringTable;

  constructor(strict: boolean) {
    this.strict = strict;
    this.strings = new StringTable(strict);
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
    this.strings.write(out);
    writeUvarint(out, context.length);
    for (const entry of context) {
      writeUvarint(out, entry.id);
      this.writeValue(entry.value);
    }
    writeUvarint(out, events.length);
    for (const event of events) {
      writeUvarint(out, this.strings.indexOf(event.name));
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
    this.strings.intern(event.name, `${field}.name`);
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
      if (!RESERVED_IDS.has(key)) this.strings.intern(key, path);
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
        this.strings.intern(value.value, field);
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

  writeKey(key: string): void {
    const reserved = RESERVED_IDS.get(key);
    if (reserved !== undefined) writeUvarint(this.out, reserved * 2);
    else writeUvarint(this.out, this.strings.indexOf(key) * 2 + 1);
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
        writeUvarint(out, this.strings.indexOf(value.value));
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
