/**
 * The byte-level pieces of the Spot codec: a reader that checks every length
 * against the bytes left, Go's unsigned varint (LEB128, at most 10 bytes) in
 * both directions, and UTF-8 decoding that refuses malformed text instead of
 * replacing it. Internal to the codec.
 *
 * @module
 */

import { SpotProtocolError } from "./errors.ts";

/** The most bytes a 64-bit unsigned varint takes, as Go's `binary.MaxVarintLen64`. */
export const MAX_VARINT_BYTES = 10;

// fatal: malformed UTF-8 is an error, not U+FFFD; ignoreBOM: a leading BOM stays in the text
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const ENCODER = new TextEncoder();

/**
 * Decodes UTF-8 text, refusing malformed bytes so that the text encodes back
 * to the same bytes.
 *
 * @param bytes The bytes.
 * @param what What they are, for the error message, such as `"Spot message recipient"`.
 * @returns The text.
 * @throws {SpotProtocolError} With code `invalid_utf8` when the bytes are not UTF-8.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./_bytes.ts";
 *
 * console.log(decodeUtf8(new Uint8Array([0x68, 0x69]), "greeting")); // "hi"
 * ```
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch (cause) {
    throw new SpotProtocolError(
      "invalid_utf8",
      `Cannot decode ${what} as its ${bytes.length} bytes are not UTF-8: drop the packet`,
      { cause },
    );
  }
}

/**
 * Encodes text as UTF-8.
 *
 * @param text The text.
 * @returns Its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { encodeUtf8 } from "./_bytes.ts";
 *
 * console.log(encodeUtf8("hi").length); // 2
 * ```
 */
export function encodeUtf8(text: string): Uint8Array {
  return ENCODER.encode(text);
}

/**
 * Writes the varint of a value, low seven bits first, as Go's
 * `binary.AppendUvarint`.
 *
 * @param target The bytes to write into.
 * @param offset Where to start.
 * @param value A safe non-negative integer.
 * @returns The offset after the varint.
 *
 * @example
 * ```ts
 * import { writeUvarint } from "./_bytes.ts";
 *
 * const bytes = new Uint8Array(2);
 * console.log(writeUvarint(bytes, 0, 300), bytes); // 2 Uint8Array(2) [ 172, 2 ]
 * ```
 */
export function writeUvarint(target: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    target[offset++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  target[offset++] = value;
  return offset;
}

/**
 * Reads a packet front to back, checking each length against the bytes
 * left, so that no declared length is ever trusted.
 *
 * @example
 * ```ts
 * import { ByteReader } from "./_bytes.ts";
 *
 * const reader = new ByteReader(new Uint8Array([2, 0x68, 0x69, 0x21]), "example");
 * const length = reader.uvarint("length");
 * console.log(reader.take(length, "text"), reader.rest()); // Uint8Array(2) [ 104, 105 ] Uint8Array(1) [ 33 ]
 * ```
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #what: string;
  #offset = 0;

  /**
   * Starts reading at the first byte.
   *
   * @param bytes The bytes to read; the fields returned are views into them.
   * @param what What they are, for error messages, such as `"Spot message"`.
   */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }

  /**
   * Takes the next `length` bytes.
   *
   * @param length How many bytes.
   * @param field The field they make up, for the error message.
   * @returns A view of them.
   * @throws {SpotProtocolError} With code `truncated` when fewer bytes are left.
   */
  take(length: number, field: string): Uint8Array {
    const left = this.#bytes.length - this.#offset;
    if (length > left) {
      throw new SpotProtocolError(
        "truncated",
        `Cannot decode ${this.#what} as its ${field} needs ${length} bytes and only ${left} are left: drop the packet`,
      );
    }
    const view = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return view;
  }

  /**
   * Reads an unsigned varint with Go's limits (10 bytes, 64 bits), refusing
   * a longer encoding than the value needs, which no Go writer produces.
   *
   * @param field The field it makes up, for the error message.
   * @returns The value.
   * @throws {SpotProtocolError} With code `truncated`, `overlong_varint` or `value_out_of_range`.
   */
  uvarint(field: string): number {
    let value = 0;
    let scale = 1;
    for (let index = 0; index < MAX_VARINT_BYTES; index++) {
      if (this.#offset >= this.#bytes.length) {
        throw new SpotProtocolError(
          "truncated",
          `Cannot decode ${this.#what} as its ${field} varint ends after ${index} bytes: drop the packet`,
        );
      }
      const byte = this.#bytes[this.#offset++];
      if (byte < 0x80) {
        if (index === MAX_VARINT_BYTES - 1 && byte > 1) break;
        if (index > 0 && byte === 0) {
          throw new SpotProtocolError(
            "overlong_varint",
            `Cannot decode ${this.#what} as its ${field} varint of ${
              index + 1
            } bytes ends in a zero byte (a longer encoding than its value needs): drop the packet`,
          );
        }
        value += byte * scale;
        if (value > Number.MAX_SAFE_INTEGER) {
          throw new SpotProtocolError(
            "value_out_of_range",
            `Cannot decode ${this.#what} as its ${field} is above 2^53 - 1: drop the packet`,
          );
        }
        return value;
      }
      // Beyond 2^53 the sum is rounded, but it stays above the safe range, which is all we check
      value += (byte & 0x7f) * scale;
      scale *= 0x80;
    }
    throw new SpotProtocolError(
      "overlong_varint",
      `Cannot decode ${this.#what} as its ${field} varint runs past 64 bits: drop the packet`,
    );
  }

  /**
   * Takes every byte left.
   *
   * @returns A view of them, empty at the end.
   */
  rest(): Uint8Array {
    const view = this.#bytes.subarray(this.#offset);
    this.#offset = this.#bytes.length;
    return view;
  }
}
