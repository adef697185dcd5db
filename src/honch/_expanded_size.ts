/**
 * What a decoded batch costs once expanded: the byte length of each event as
 * canonical JSON (`JSON.stringify` of what {@linkcode expandBatch} returns,
 * a bigint as its decimal string), counted from the compact values without
 * building a single JSON string. A string referenced many times is measured
 * once, so counting a message stays proportional to its compact size however
 * far it would expand. Internal: not exported from the package.
 *
 * @module
 */

import type { WireValue } from "./wire_value.ts";

/** `{"event":`, `,"distinct_id":`, `,"timestamp":`, `,"properties":{` and `}}`. */
export const EVENT_ENVELOPE_BYTES = 54;

/** The powers of ten up to 10^15, for the digits of a safe integer. */
const POWERS = Array.from({ length: 16 }, (_, power) => 10 ** power);

/**
 * The length of a finite number as JSON writes it: counted for a safe
 * integer (most values, and every timestamp) rather than converted to a
 * string, which is the costly part of measuring a message.
 *
 * @param value A finite number.
 * @returns Its length in characters, all ASCII.
 * @throws Never.
 * @example
 * ```ts
 * import { numberLength } from "./_expanded_size.ts";
 *
 * console.log(numberLength(-1700), numberLength(21.5)); // 5 4
 * ```
 */
export function numberLength(value: number): number {
  if (!Number.isSafeInteger(value)) return String(value).length;
  // -0 is written "0".
  let length = value < 0 ? 2 : 1;
  const magnitude = Math.abs(value);
  while (length < 17 && magnitude >= POWERS[length - (value < 0 ? 1 : 0)]) length++;
  return length;
}

/** Measures JSON text, each distinct string once. */
export class JsonSizer {
  readonly #strings = new Map<string, number>();

  /**
   * The UTF-8 byte length of `text` as a JSON string, quotes and escapes included.
   *
   * @param text The string.
   * @returns Its length in bytes.
   */
  text(text: string): number {
    let size = this.#strings.get(text);
    if (size !== undefined) return size;
    size = 2;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code < 0x20) {
        size += code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6;
      } else if (code === 0x22 || code === 0x5c) size += 2;
      else if (code < 0x80) size += 1;
      else if (code < 0x800) size += 2;
      else if (code >= 0xd800 && code <= 0xdbff) {
        const next = text.charCodeAt(index + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          size += 4;
          index++;
        } else size += 6;
      } else if (code >= 0xdc00 && code <= 0xdfff) size += 6;
      else size += 3;
    }
    this.#strings.set(text, size);
    return size;
  }

  /**
   * The byte length of a typed value as the JSON capture stores for it.
   *
   * @param value The typed value.
   * @returns Its length in bytes.
   */
  value(value: WireValue): number {
    switch (value.type) {
      case "null":
        return 4;
      case "bool":
        return value.value ? 4 : 5;
      case "uint":
      case "int":
        return typeof value.value === "bigint"
          ? String(value.value).length + 2
          : numberLength(value.value);
      case "float32":
      case "float64":
        return Number.isFinite(value.value) ? numberLength(value.value) : 4;
      case "string":
        return this.text(value.value);
      case "bytes":
        return 4 * Math.ceil(value.value.length / 3) + 2;
      case "array": {
        let size = value.items.length === 0 ? 2 : 1 + value.items.length;
        for (const item of value.items) size += this.value(item);
        return size;
      }
      case "map": {
        let size = value.entries.length === 0 ? 2 : 1 + value.entries.length;
        for (const entry of value.entries) {
          size += this.text(entry.key) + 1 + this.value(entry.value);
        }
        return size;
      }
    }
  }
}
