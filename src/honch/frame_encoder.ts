/**
 * The Honch chunk frame encoder: {@linkcode encodeFrames} splits a compact
 * message (or a coredump blob) into the frames that carry it, by a frame
 * size or at given offsets, the last one closed by the message's CRC-16.
 *
 * @module
 */

import { uvarintLength } from "../core/bytes.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { describeValue, integer } from "../core/validate.ts";
import { writeUvarint } from "./_varint.ts";
import {
  CONTINUATION,
  CRC_BYTES,
  isIntegerIn,
  MAX_SOURCE_TYPE,
  MAX_U32,
  MORE,
  PROTOCOL_VERSION_CODE,
} from "./_frame_format.ts";
import { crc16 } from "./crc16.ts";

const DEFAULT_MAX_FRAME_BYTES = 4096;

/** Options of {@linkcode encodeFrames}. */
export interface FrameOptions {
  /**
   * The message id, an integer in 0..2^32-1, unique per project, stream and
   * source type.
   */
  messageId: number;
  /**
   * The source type written in the header: 0 for an event message, 1 for a
   * coredump blob; 2..7 are reserved by the format.
   *
   * @default 0
   */
  sourceType?: number;
  /**
   * Byte offsets into the message where a new frame starts, strictly rising
   * within 1..length-1; an empty list gives one single frame. Mutually
   * exclusive with `maxFrameBytes`.
   *
   * @default undefined (split by `maxFrameBytes`)
   */
  cuts?: number[];
  /**
   * The largest frame to emit, in bytes, counting the header, the varints
   * and the final CRC. A message that fits one frame gives a single frame;
   * otherwise each frame takes as many bytes as fit while leaving at least
   * one for the final frame. Mutually exclusive with `cuts`.
   *
   * @default 4096
   */
  maxFrameBytes?: number;
}

/**
 * Splits a compact message (or a coredump blob) into chunk frames: one single
 * frame when it fits, otherwise an initial frame carrying the total length,
 * continuation frames carrying their offset, and a final frame carrying the
 * CRC-16 of the whole message.
 *
 * @param message The complete message bytes.
 * @param options The message id, source type, and where or how finely to split.
 * @returns The frames in sending order, each a new array.
 * @throws {InvalidArgumentError} When `messageId` is not a u32, `sourceType` is
 * not in 0..7, `cuts` do not rise strictly inside the message, `cuts` and
 * `maxFrameBytes` are both given, or `maxFrameBytes` leaves no room for a
 * payload byte next to the header, varints and CRC.
 *
 * @example Split five bytes into frames of at most six bytes
 * ```ts
 * import { encodeFrames } from "@edgewire/sdk/honch";
 *
 * const frames = encodeFrames(new Uint8Array([1, 2, 3, 4, 5]), { messageId: 7, maxFrameBytes: 6 });
 * console.log(frames.length); // 3
 * console.log(frames[0]); // Uint8Array [0x42, 0x07, 0x05, 0x01, 0x02, 0x03]
 * ```
 */
export function encodeFrames(message: Uint8Array, options: FrameOptions): Uint8Array[] {
  if (!(message instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      "message",
      `Cannot encode frames as 'message' must be a Uint8Array: current value is ${
        describeValue(message)
      }`,
    );
  }
  const action = "encode frames";
  const messageId = integer(action, "messageId", options?.messageId, undefined, {
    min: 0,
    max: MAX_U32,
  });
  const sourceType = integer(action, "sourceType", options.sourceType, 0, {
    min: 0,
    max: MAX_SOURCE_TYPE,
  });
  let cuts: readonly number[];
  if (options.cuts !== undefined) {
    if (options.maxFrameBytes !== undefined) {
      throw new InvalidArgumentError(
        "cuts",
        "Cannot encode frames with both 'cuts' and 'maxFrameBytes': pass only one of them",
      );
    }
    cuts = checkCuts(options.cuts, message.length);
  } else {
    const maxFrameBytes = integer(
      action,
      "maxFrameBytes",
      options.maxFrameBytes,
      DEFAULT_MAX_FRAME_BYTES,
    );
    cuts = planCuts(message.length, uvarintLength(messageId), maxFrameBytes);
  }

  const crc = crc16(message);
  const last = cuts.length;
  const frames: Uint8Array[] = new Array(last + 1);
  // One scratch array for every frame's header and varints.
  const head: number[] = [];
  for (let index = 0; index <= last; index++) {
    const start = index === 0 ? 0 : cuts[index - 1];
    const end = index === last ? message.length : cuts[index];
    const isFinal = index === last;
    head.length = 0;
    head.push(
      PROTOCOL_VERSION_CODE | (sourceType << 2) | (index > 0 ? CONTINUATION : 0) |
        (isFinal ? 0 : MORE),
    );
    writeUvarint(head, messageId);
    if (index > 0) writeUvarint(head, start);
    else if (!isFinal) writeUvarint(head, message.length);
    const frame = new Uint8Array(head.length + (end - start) + (isFinal ? CRC_BYTES : 0));
    frame.set(head);
    frame.set(message.subarray(start, end), head.length);
    if (isFinal) {
      frame[frame.length - 2] = crc & 0xff;
      frame[frame.length - 1] = crc >>> 8;
    }
    frames[index] = frame;
  }
  return frames;
}

function checkCuts(cuts: unknown, length: number): readonly number[] {
  if (!Array.isArray(cuts)) {
    throw new InvalidArgumentError(
      "cuts",
      `Cannot encode frames as 'cuts' must be an array of byte offsets: current value is ${
        describeValue(cuts)
      }`,
    );
  }
  let previous = 0;
  for (let index = 0; index < cuts.length; index++) {
    const cut: unknown = cuts[index];
    if (!isIntegerIn(cut, previous + 1, length - 1)) {
      throw new InvalidArgumentError(
        "cuts",
        `Cannot encode frames as 'cuts[${index}]' must be an integer in ${previous + 1}..${
          length - 1
        } (rising, inside the ${length}-byte message): current value is ${describeValue(cut)}`,
      );
    }
    previous = cut;
  }
  return cuts;
}

/** Greedy split into frames of at most `max` bytes; every non-final frame leaves at least one byte. */
function planCuts(length: number, idBytes: number, max: number): number[] {
  const single = 1 + idBytes + length + CRC_BYTES;
  if (single <= max) return [];
  // The costliest frames: the initial one with one payload byte, the final one at the last offset.
  const multi = length < 2 ? Infinity : 1 + idBytes +
    Math.max(uvarintLength(length) + 1, uvarintLength(length - 1) + 1 + CRC_BYTES);
  const needed = Math.min(single, multi);
  if (max < needed) {
    throw new InvalidArgumentError(
      "maxFrameBytes",
      `Cannot split a ${length}-byte message into frames as 'maxFrameBytes' must be at least ${needed}: current value is ${max}`,
    );
  }
  const cuts: number[] = [];
  let offset = Math.min(max - (1 + idBytes + uvarintLength(length)), length - 1);
  cuts.push(offset);
  for (;;) {
    const overhead = 1 + idBytes + uvarintLength(offset);
    if (overhead + (length - offset) + CRC_BYTES <= max) return cuts;
    offset += Math.min(max - overhead, length - offset - 1);
    cuts.push(offset);
  }
}
