/**
 * The string table of a compact message, as the encoder builds it: every
 * distinct string once, in first-use order, within the SDK limits (entries,
 * bytes per entry, bytes in all), then written as length-prefixed UTF-8.
 * Internal: not exported from the package.
 *
 * @module
 */

import { hasLoneSurrogate, utf8ByteLength } from "../core/utf8.ts";
import { writeUvarint } from "./_varint.ts";
import { fail } from "./_wire_format.ts";
import { WIRE_LIMITS } from "./wire_tables.ts";

/** The strings of one message, interned in first-use order. */
export class StringTable {
  readonly #strict: boolean;
  readonly #index = new Map<string, number>();
  readonly #strings: string[] = [];
  #totalBytes = 0;

  /**
   * Creates an empty table.
   *
   * @param strict Whether to enforce the SDK limits and refuse lone surrogates.
   */
  constructor(strict: boolean) {
    this.#strict = strict;
  }

  /**
   * Adds `text` unless it is already in the table.
   *
   * @param text The string.
   * @param field Where it comes from, for the error message.
   * @throws {InvalidArgumentError} When strict and the string or the table breaks a limit.
   */
  intern(text: string, field: string): void {
    if (this.#index.has(text)) return;
    // Not strict, a lone surrogate is written as its 3-byte WTF-8 form, which utf8ByteLength counts
    const bytes = utf8ByteLength(text);
    if (this.#strict) {
      if (hasLoneSurrogate(text)) {
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
      if (this.#totalBytes + bytes > WIRE_LIMITS.maxTotalStringBytes) {
        throw fail(
          field,
          `brings the string table to ${
            this.#totalBytes + bytes
          } bytes, over the ${WIRE_LIMITS.maxTotalStringBytes}-byte limit`,
          "send fewer or shorter strings per message",
        );
      }
      if (this.#strings.length >= WIRE_LIMITS.maxStrings) {
        throw fail(
          field,
          `needs string table entry ${
            this.#strings.length + 1
          }, over the limit of ${WIRE_LIMITS.maxStrings}`,
          "send fewer distinct strings per message",
        );
      }
    }
    this.#index.set(text, this.#strings.length);
    this.#strings.push(text);
    this.#totalBytes += bytes;
  }

  /**
   * The index of a string interned before.
   *
   * @param text The string.
   * @returns Its position in the table.
   */
  indexOf(text: string): number {
    return this.#index.get(text)!;
  }

  /**
   * Writes the table: its entry count, then each entry's byte length and UTF-8 bytes.
   *
   * @param out Where the message's bytes go.
   */
  write(out: number[]): void {
    writeUvarint(out, this.#strings.length);
    for (const text of this.#strings) {
      writeUvarint(out, utf8ByteLength(text));
      writeUtf8(out, text);
    }
  }
}

// UTF-8 straight into the output, without an intermediate array; a lone surrogate as WTF-8
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
