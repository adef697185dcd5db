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
        return String(value.value).length + (typeof value.value === "bigint" ? 2 : 0);
      case "float32":
      case "float64":
        return Number.isFinite(value.value) ? String(value.value).length : 4;
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
