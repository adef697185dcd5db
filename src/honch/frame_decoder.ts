/**
 * The Honch chunk frame decoder: {@linkcode decodeFrame} reads one frame's
 * header, id, offset or total length, payload and CRC, checking the frame's
 * own layout only ({@linkcode FrameAssembler} checks how it fits its message).
 *
 * @module
 */

import { WireFormatError } from "./errors.ts";
import { readUvarint } from "./_varint.ts";
import {
  CONTINUATION,
  CRC_BYTES,
  hexByte,
  malformed,
  MAX_SOURCE_TYPE,
  MAX_U32,
  MORE,
  PROTOCOL_VERSION_CODE,
  RESERVED,
  VERSION_MASK,
} from "./_frame_format.ts";

/** One chunk frame, as {@linkcode decodeFrame} reads it. */
export interface Frame {
  /** The source type from header bits 2-4: 0 events, 1 coredump, 2..7 reserved. */
  sourceType: number;
  /** The message id, a u32. */
  messageId: number;
  /** Whether this frame continues a message (header bit 5); false for an initial or single frame. */
  continuation: boolean;
  /** Whether a later frame follows (header bit 6); false for a single or final frame. */
  more: boolean;
  /** Where `payload` starts within the message: 0 for an initial or single frame. */
  offset: number;
  /** The whole message's length; present only on an initial frame that has more frames after it. */
  totalLength?: number;
  /** The frame's share of the message. {@linkcode decodeFrame} returns a view into the frame bytes. */
  payload: Uint8Array;
  /** The CRC-16 of the whole message; present only when `more` is false (single or final frame). */
  crc?: number;
}

/**
 * Parses one chunk frame. It checks the frame's own layout only; whether it
 * fits the message it belongs to is {@linkcode FrameAssembler}'s job.
 *
 * @param bytes The frame, exactly as the carrier delimited it (an HTTP body, a BLE packet).
 * @returns The frame's fields; `payload` is a view into `bytes`, not a copy.
 * @throws {WireFormatError} `"malformed"` when the frame is empty, sets the
 * reserved bit 7, has a protocol version other than 2, ends inside a varint or
 * before its CRC, or has a message id above 2^32-1 or an offset or length above
 * 2^53-1.
 *
 * @example Read a single frame
 * ```ts
 * import { decodeFrame } from "@edgewire/sdk/honch";
 *
 * const frame = decodeFrame(new Uint8Array([0x02, 0xac, 0x02, 0x02, 0x01, 0x01, 0xec, 0x81]));
 * console.log(frame.messageId, frame.more, frame.payload, frame.crc?.toString(16)); // 300 false Uint8Array [2, 1, 1] "81ec"
 * ```
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length === 0) throw malformed("Cannot decode the frame as it is empty");
  const header = bytes[0];
  if ((header & RESERVED) !== 0) {
    throw malformed(
      `Cannot decode the frame as its header 0x${hexByte(header)} sets the reserved bit 7`,
    );
  }
  if ((header & VERSION_MASK) !== PROTOCOL_VERSION_CODE) {
    throw malformed(
      `Cannot decode the frame as its header 0x${hexByte(header)} has protocol version code ${
        header & VERSION_MASK
      }: only 2 is supported`,
    );
  }
  const continuation = (header & CONTINUATION) !== 0;
  const more = (header & MORE) !== 0;
  const id = readField(bytes, 1, "message_id", MAX_U32);
  let position = id.next;
  let offset = 0;
  let totalLength: number | undefined;
  if (continuation) {
    const read = readField(bytes, position, "offset", Number.MAX_SAFE_INTEGER);
    offset = read.value;
    position = read.next;
  } else if (more) {
    const read = readField(bytes, position, "total_message_length", Number.MAX_SAFE_INTEGER);
    totalLength = read.value;
    position = read.next;
  }
  let end = bytes.length;
  let crc: number | undefined;
  if (!more) {
    if (end - position < CRC_BYTES) {
      throw malformed(
        `Cannot decode the final frame of message ${id.value} as it ends before its 2-byte CRC`,
      );
    }
    crc = bytes[end - 2] | (bytes[end - 1] << 8);
    end -= CRC_BYTES;
  }
  const payload = bytes.subarray(position, end);
  if (!Number.isSafeInteger(offset + payload.length)) {
    throw malformed(
      `Cannot decode the frame of message ${id.value} as its offset ${offset} overflows`,
    );
  }
  const frame: Frame = {
    sourceType: (header >>> 2) & MAX_SOURCE_TYPE,
    messageId: id.value,
    continuation,
    more,
    offset,
    payload,
  };
  if (totalLength !== undefined) frame.totalLength = totalLength;
  if (crc !== undefined) frame.crc = crc;
  return frame;
}

function readField(
  bytes: Uint8Array,
  position: number,
  field: string,
  max: number,
): { value: number; next: number } {
  let read: { value: number | bigint; next: number };
  try {
    read = readUvarint(bytes, position);
  } catch (error) {
    if (!(error instanceof WireFormatError)) throw error;
    throw malformed(
      `Cannot decode the frame's ${field} at byte ${position} as its varint ends early or runs past 10 bytes`,
    );
  }
  if (typeof read.value !== "number" || read.value > max) {
    throw malformed(
      `Cannot decode the frame's ${field} at byte ${position} as ${read.value} exceeds ${max}`,
    );
  }
  return { value: read.value, next: read.next };
}
