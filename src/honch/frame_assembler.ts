/**
 * The Honch frame assembler: {@linkcode FrameAssembler} puts one message
 * back together from its chunk frames, as a capture server receives them,
 * following the pure reassembly rules of `_reassembly.ts` that the reference
 * server's store-backed capture follows too, and checks the CRC-16 before
 * handing the message out.
 *
 * @module
 */

import { integer } from "../core/validate.ts";
import { WireFormatError } from "./errors.ts";
import { planFrame, sameBytesAt } from "./_reassembly.ts";
import { isIntegerIn, malformed, MAX_SOURCE_TYPE, MAX_U32 } from "./_frame_format.ts";
import { crc16 } from "./crc16.ts";
import { decodeFrame, type Frame } from "./frame_decoder.ts";

const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

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
    const maxMessageBytes = integer(
      "create FrameAssembler",
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULT_MAX_MESSAGE_BYTES,
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
