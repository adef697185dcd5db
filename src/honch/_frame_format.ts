/**
 * The layout of a Honch chunk frame that the encoder, the decoder and the
 * assembler share: the header bits, the CRC size, the bounds of its fields,
 * and the wording of a malformed frame. Internal: not exported from the package.
 *
 * @module
 */

import { WireFormatError } from "./errors.ts";

// Header bits: the protocol version code, continuation, more frames, reserved
export const PROTOCOL_VERSION_CODE = 2;
export const VERSION_MASK = 0x03;
export const CONTINUATION = 0x20;
export const MORE = 0x40;
export const RESERVED = 0x80;
/** The final frame's trailing CRC-16, little-endian. */
export const CRC_BYTES = 2;
/** The largest message id. */
export const MAX_U32 = 0xffff_ffff;
/** The largest source type (header bits 2-4). */
export const MAX_SOURCE_TYPE = 7;

/** Whether `value` is an integer within `min..max`. */
export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** A `"malformed"` wire error with `message`. */
export function malformed(message: string): WireFormatError {
  return new WireFormatError("malformed", message);
}

/** `byte` as two hex digits. */
export function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
