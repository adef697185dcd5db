/**
 * The unsigned LEB128 varints (Go's `binary.AppendUvarint`) that prefix the
 * lengths inside recipient data, bounded to the sizes that data can hold.
 *
 * @module
 */

import { uvarintLength } from "../../core/bytes.ts";
import { writeUvarint } from "../proto/_bytes.ts";

/**
 * Encodes a length.
 *
 * @param value A non-negative safe integer.
 * @returns Its varint bytes.
 */
export function uvarint(value: number): Uint8Array {
  const out = new Uint8Array(uvarintLength(value));
  writeUvarint(out, 0, value);
  return out;
}

/**
 * Reads a length of at most `max`.
 *
 * @param bytes The data.
 * @param offset Where the varint starts.
 * @param max The largest length accepted.
 * @returns The value and the offset after it, or undefined when it is truncated, over-long or above `max`.
 */
export function readUvarint(
  bytes: Uint8Array,
  offset: number,
  max: number,
): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    if (offset + i >= bytes.length) return undefined;
    const byte = bytes[offset + i];
    value += (byte & 0x7f) * 128 ** i;
    if (!(byte & 0x80)) return value > max ? undefined : { value, next: offset + i + 1 };
  }
  return undefined;
}
