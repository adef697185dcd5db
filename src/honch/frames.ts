/**
 * Chunk frames of the Honch compact wire format (v2): the CRC-16 that guards a
 * whole message, the encoder that splits a message into frames, the parser of
 * one frame, and the assembler that puts one message back together from its
 * frames as a capture server receives them.
 *
 * @module
 */

import { readUvarint, writeUvarint } from "./_varint.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { WireFormatError } from "./errors.ts";
import { planFrame, sameBytesAt } from "./_reassembly.ts";

const PROTOCOL_VERSION_CODE = 2;
const VERSION_MASK = 0x03;
const CONTINUATION = 0x20;
const MORE = 0x40;
const RESERVED = 0x80;
const CRC_BYTES = 2;
const MAX_U32 = 0xffff_ffff;
const MAX_SOURCE_TYPE = 7;
const DEFAULT_MAX_FRAME_BYTES = 4096;
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

// Built once at load: the per-byte loop of crc16 then does one lookup, no bit loop and no allocation.
const CRC_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc;
  }
  return table;
})();

/**
 * Computes the CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xffff, no
 * reflection, no final XOR) of `bytes`. Pass the result of one call as
 * `initial` of the next to checksum a message that arrives in pieces.
 *
 * @param bytes The bytes to checksum.
 * @param initial The running CRC to continue from; 0xffff starts a new one.
 * @returns The CRC, an integer in 0..0xffff. The wire writes it little-endian.
 * @throws {InvalidArgumentError} When `initial` is not an integer in 0..0xffff.
 *
 * @example Checksum in one call or in pieces
 * ```ts
 * import { crc16 } from "@edgewire/sdk/honch";
 *
 * const bytes = new TextEncoder().encode("123456789");
 * console.log(crc16(bytes).toString(16)); // "29b1"
 * console.log(crc16(bytes.subarray(4), crc16(bytes.subarray(0, 4))) === crc16(bytes)); // true
 * ```
 */
export function crc16(bytes: Uint8Array, initial: number = 0xffff): number {
  if (!Number.isInteger(initial) || initial < 0 || initial > 0xffff) {
    throw new InvalidArgumentError(
      "initial",
      `Cannot compute the CRC as 'initial' must be an integer in 0..65535: current value is ${initial}`,
    );
  }
  let crc = initial;
  for (let index = 0; index < bytes.length; index++) {
    crc = ((crc << 8) ^ CRC_TABLE[(crc >>> 8) ^ bytes[index]]) & 0xffff;
  }
  return crc;
}

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
        describe(message)
      }`,
    );
  }
  const messageId = options?.messageId;
  if (!isIntegerIn(messageId, 0, MAX_U32)) {
    throw new InvalidArgumentError(
      "messageId",
      `Cannot encode frames as 'messageId' must be an integer in 0..4294967295: current value is ${
        describe(messageId)
      }`,
    );
  }
  const sourceType = options.sourceType ?? 0;
  if (!isIntegerIn(sourceType, 0, MAX_SOURCE_TYPE)) {
    throw new InvalidArgumentError(
      "sourceType",
      `Cannot encode frames as 'sourceType' must be an integer in 0..7: current value is ${
        describe(sourceType)
      }`,
    );
  }
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
    const maxFrameBytes = positiveInteger(
      "maxFrameBytes",
      options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      "encode frames",
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

/** Options of {@linkcode FrameAssembler}. */
export interface AssemblerOptions {
  /**
   * The largest message to accept, in bytes; checked against the declared
   * total length before any buffer is allocated.
   *
   * @default 1048576 (1 MiB, the capture limit)
   */
  maxMessageBytes?: number;
}

/**
 * What {@linkcode FrameAssembler.push} reports: how many bytes are in so far,
 * or the complete message once the final frame's CRC has matched.
 */
export type AssembleResult =
  | {
    /** The message still misses bytes. */
    complete: false;
    /** How many bytes of the message have arrived, from offset 0 without gaps. */
    received: number;
  }
  | {
    /** The final frame arrived and its CRC matched. */
    complete: true;
    /** The whole message, owned by the caller. */
    message: Uint8Array;
    /** The message id of its frames. */
    messageId: number;
    /** The source type of its frames. */
    sourceType: number;
  };

/**
 * Reassembles the frames of ONE message of one stream, taken in order, and
 * checks the final CRC over the whole message before handing it out.
 *
 * A frame whose payload repeats bytes already taken, byte for byte, is
 * harmless: while the message is incomplete it is counted in
 * {@linkcode FrameAssembler.duplicates} and otherwise ignored, so a sender
 * that retries from offset 0 can resend what was stored (the format's
 * duplicate-continuation fixture expects 202 for it). Once the message is
 * complete, any repeat throws `"duplicate"` so the message is never handed
 * out twice. A frame that throws leaves the assembler as it was.
 *
 * @example Put a message back together
 * ```ts
 * import { encodeFrames, FrameAssembler } from "@edgewire/sdk/honch";
 *
 * const frames = encodeFrames(new Uint8Array(10_000), { messageId: 1, maxFrameBytes: 4096 });
 * const assembler = new FrameAssembler();
 * for (const frame of frames) {
 *   const result = assembler.push(frame);
 *   if (result.complete) console.log(result.message.length); // 10000
 *   else console.log(result.received);
 * }
 * ```
 */
export class FrameAssembler {
  readonly #maxMessageBytes: number;
  #started = false;
  #messageId = 0;
  #sourceType = 0;
  #multiFrame = false;
  #total = 0;
  #buffer: Uint8Array = new Uint8Array(0);
  #received = 0;
  #crc = 0xffff;
  #complete = false;
  #duplicates = 0;

  /**
   * Creates an assembler for one message.
   *
   * @param options The size limit.
   * @throws {InvalidArgumentError} When `maxMessageBytes` is not a positive integer.
   */
  constructor(options: AssemblerOptions = {}) {
    const maxMessageBytes = positiveInteger(
      "maxMessageBytes",
      options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      "create FrameAssembler",
    );
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** How many bytes of the message have arrived, from offset 0 without gaps. */
  get received(): number {
    return this.#received;
  }

  /** How many harmless duplicate frames were ignored while the message was incomplete. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** Whether the final frame arrived and its CRC matched. */
  get complete(): boolean {
    return this.#complete;
  }

  /**
   * Takes the next frame of the message.
   *
   * @param frame The frame's bytes, or a frame {@linkcode decodeFrame} returned.
   * @returns The bytes received so far, or the complete message after the final frame.
   * @throws {WireFormatError} `"malformed"` for an unparsable frame, a frame of
   * another message id or source type, a second initial frame that disagrees
   * with the first, a non-final frame that reaches the end of the message or a
   * final frame that stops short of it; `"offset_gap"` for a frame that starts
   * past the bytes received, overlaps them with different bytes, or is a
   * continuation before any initial frame; `"oversize"` for a message above
   * `maxMessageBytes` or a frame past the declared total length; `"bad_crc"`
   * when the final frame's CRC does not match the message; `"duplicate"` for
   * any repeat after the message is complete.
   */
  push(frame: Uint8Array | Frame): AssembleResult {
    const next = frame instanceof Uint8Array ? decodeFrame(frame) : checkFrame(frame);
    if (this.#started) {
      if (next.messageId !== this.#messageId || next.sourceType !== this.#sourceType) {
        throw malformed(
          `Cannot take a frame of message ${next.messageId} (source type ${next.sourceType}) into message ${this.#messageId} (source type ${this.#sourceType}): use one assembler per message`,
        );
      }
    }
    const state = this.#started
      ? { totalLength: this.#total, received: this.#received, multiFrame: this.#multiFrame }
      : undefined;
    const plan = planFrame(
      state,
      { ...next, length: next.payload.length },
      this.#maxMessageBytes,
    );
    switch (plan.step) {
      case "unknown":
        throw new WireFormatError(
          "offset_gap",
          `Cannot start message ${next.messageId} with a continuation frame at offset ${next.offset}: send its initial frame first`,
        );
      case "too_large":
        throw new WireFormatError(
          "oversize",
          `Cannot take message ${next.messageId} as it is ${plan.totalLength} bytes long, above the limit of ${this.#maxMessageBytes}`,
        );
      case "disagree":
        throw malformed(
          `Cannot take a second initial frame for message ${this.#messageId} as it disagrees with the first on the length or the frame count`,
        );
      case "oversize":
        throw new WireFormatError(
          "oversize",
          `Cannot take the frame at offset ${next.offset} of message ${next.messageId} as it ends at byte ${plan.end}, past the message's ${plan.totalLength} bytes`,
        );
      case "misfit":
        throw malformed(
          next.more
            ? `Cannot take the frame at offset ${next.offset} of message ${next.messageId} as it reaches the end of the message but says more frames follow`
            : `Cannot take the final frame of message ${next.messageId} as it ends at byte ${plan.end}, before the message's ${plan.totalLength} bytes`,
        );
      case "gap":
        throw new WireFormatError(
          "offset_gap",
          `Cannot take the frame at offset ${next.offset} of message ${this.#messageId} as only ${plan.expected} bytes arrived: resend from byte ${plan.expected}`,
        );
      case "overlap":
        throw this.#overlapError(next);
      case "repeat":
        return this.#repeat(next);
      case "start":
        return this.#start(next, plan.totalLength);
      case "append": {
        const crc = crc16(next.payload, this.#crc);
        if (plan.final && crc !== next.crc) throw badCrc(this.#messageId, next.crc, crc);
        this.#buffer.set(next.payload, next.offset);
        this.#received = plan.end;
        this.#crc = crc;
        return plan.final ? this.#finish() : { complete: false, received: plan.end };
      }
    }
  }

  #start(first: Frame, total: number): AssembleResult {
    const crc = crc16(first.payload);
    if (!first.more && crc !== first.crc) throw badCrc(first.messageId, first.crc, crc);
    // Bounded by maxMessageBytes in planFrame, so a hostile total length cannot force a large allocation.
    this.#buffer = new Uint8Array(total);
    this.#buffer.set(first.payload);
    this.#started = true;
    this.#messageId = first.messageId;
    this.#sourceType = first.sourceType;
    this.#multiFrame = first.more;
    this.#total = total;
    this.#received = first.payload.length;
    this.#crc = crc;
    return first.more ? { complete: false, received: this.#received } : this.#finish();
  }

  #overlapError(frame: Frame): WireFormatError {
    return new WireFormatError(
      "offset_gap",
      `Cannot take the frame at offset ${frame.offset} of message ${this.#messageId} as it overlaps the ${this.#received} bytes received with different bytes: resend from byte ${this.#received}`,
    );
  }

  #repeat(frame: Frame): AssembleResult {
    if (!sameBytesAt(this.#buffer.subarray(0, this.#received), frame.offset, frame.payload)) {
      throw this.#overlapError(frame);
    }
    if (!frame.more && frame.crc !== this.#crc) throw badCrc(this.#messageId, frame.crc, this.#crc);
    if (this.#complete) {
      throw new WireFormatError(
        "duplicate",
        `Cannot take the frame at offset ${frame.offset} of message ${this.#messageId} as the message is already complete: treat it as delivered`,
      );
    }
    this.#duplicates++;
    return { complete: false, received: this.#received };
  }

  #finish(): AssembleResult {
    this.#complete = true;
    return {
      complete: true,
      message: this.#buffer,
      messageId: this.#messageId,
      sourceType: this.#sourceType,
    };
  }
}

function checkCuts(cuts: unknown, length: number): readonly number[] {
  if (!Array.isArray(cuts)) {
    throw new InvalidArgumentError(
      "cuts",
      `Cannot encode frames as 'cuts' must be an array of byte offsets: current value is ${
        describe(cuts)
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
        } (rising, inside the ${length}-byte message): current value is ${describe(cut)}`,
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

function checkFrame(frame: Frame): Frame {
  const ok = typeof frame === "object" && frame !== null &&
    frame.payload instanceof Uint8Array &&
    isIntegerIn(frame.messageId, 0, MAX_U32) &&
    isIntegerIn(frame.sourceType, 0, MAX_SOURCE_TYPE) &&
    typeof frame.continuation === "boolean" && typeof frame.more === "boolean" &&
    isIntegerIn(frame.offset, 0, frame.continuation ? Number.MAX_SAFE_INTEGER : 0) &&
    Number.isSafeInteger(frame.offset + frame.payload.length) &&
    (frame.continuation || !frame.more ||
      isIntegerIn(frame.totalLength, 0, Number.MAX_SAFE_INTEGER)) &&
    (frame.more || isIntegerIn(frame.crc, 0, 0xffff));
  if (!ok) {
    throw malformed(
      "Cannot take the frame object as its fields do not describe a frame: pass the bytes or a frame decodeFrame returned",
    );
  }
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

function uvarintLength(value: number): number {
  let bytes = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function malformed(message: string): WireFormatError {
  return new WireFormatError("malformed", message);
}

function badCrc(messageId: number, sent: number | undefined, computed: number): WireFormatError {
  return new WireFormatError(
    "bad_crc",
    `Cannot accept message ${messageId} as the final frame's CRC 0x${
      (sent ?? 0).toString(16).padStart(4, "0")
    } does not match the message's 0x${
      computed.toString(16).padStart(4, "0")
    }: resend the message from offset 0`,
  );
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? Object.prototype.toString.call(value) : typeof value;
}

function positiveInteger(field: string, value: number, action: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      field,
      `Cannot ${action} as '${field}' must be a positive integer: current value is ${
        describe(value)
      }`,
    );
  }
  return value;
}
