/**
 * The rules that put one Honch message back together from its chunk frames,
 * as a pure decision: given what has arrived so far and the next frame's
 * shape, which step to take. {@linkcode FrameAssembler} (bytes in memory)
 * and the reference server's capture (bytes as store rows) both follow it,
 * so the two can never disagree on what a frame means.
 *
 * @module
 */

/** What has arrived of one message so far. */
export interface ReassemblyState {
  /** The message's length: the init frame's declared total, or a single frame's payload length. */
  totalLength: number;
  /** How many bytes arrived, from offset 0 without gaps. */
  received: number;
  /** Whether the message was opened by an init frame that announced more frames. */
  multiFrame: boolean;
}

/** The parts of a frame the rules look at. */
export interface FrameShape {
  /** Whether the frame continues a message (header bit 5). */
  continuation: boolean;
  /** Whether a later frame follows (header bit 6). */
  more: boolean;
  /** Where the payload starts within the message; 0 for an init or single frame. */
  offset: number;
  /** The payload's length, in bytes. */
  length: number;
  /** The declared total length; only an init frame with more frames after it carries it. */
  totalLength?: number;
}

/**
 * The step to take for a frame. `start`: the frame opens the message
 * (`end === totalLength` means it is a single frame and complete);
 * `append`: the frame continues exactly where the bytes stop (`final` when
 * it is the last); `repeat`: the frame lies within the bytes already held,
 * which the caller compares with {@linkcode sameBytesAt}; `overlap`: it
 * starts inside the held bytes but runs past them; `unknown`: a
 * continuation with no message open; `gap`: it starts past the bytes held;
 * `disagree`: a second init frame differs from the first on the length or
 * the frame count; `too_large`: the message is longer than allowed;
 * `oversize`: the frame runs past the message's end; `misfit`: a non-final
 * frame reaches the end, or a final frame stops short of it.
 */
export type FrameStep =
  | { step: "start"; totalLength: number; end: number }
  | { step: "append"; end: number; final: boolean }
  | { step: "repeat"; end: number }
  | { step: "overlap" }
  | { step: "unknown" }
  | { step: "gap"; expected: number }
  | { step: "disagree" }
  | { step: "too_large"; totalLength: number }
  | { step: "oversize"; end: number; totalLength: number }
  | { step: "misfit"; end: number; totalLength: number };

/**
 * Decides what to do with the next frame of a message.
 *
 * @param state What has arrived so far, or `undefined` when nothing has.
 * @param frame The frame's flags, offset and lengths.
 * @param maxMessageBytes The longest message accepted when the frame opens one.
 * @returns The step to take; taking it is the caller's business.
 */
export function planFrame(
  state: ReassemblyState | undefined,
  frame: FrameShape,
  maxMessageBytes: number = Number.MAX_SAFE_INTEGER,
): FrameStep {
  const end = frame.offset + frame.length;
  if (state === undefined) {
    if (frame.continuation) return { step: "unknown" };
    const totalLength = frame.more ? frame.totalLength ?? 0 : frame.length;
    if (totalLength > maxMessageBytes) return { step: "too_large", totalLength };
    if (end > totalLength) return { step: "oversize", end, totalLength };
    if (frame.more === (end === totalLength)) return { step: "misfit", end, totalLength };
    return { step: "start", totalLength, end };
  }
  if (
    !frame.continuation &&
    (frame.more !== state.multiFrame || (frame.more && frame.totalLength !== state.totalLength))
  ) {
    return { step: "disagree" };
  }
  if (end > state.totalLength) return { step: "oversize", end, totalLength: state.totalLength };
  if (frame.more === (end === state.totalLength)) {
    return { step: "misfit", end, totalLength: state.totalLength };
  }
  if (frame.offset > state.received) return { step: "gap", expected: state.received };
  if (frame.offset < state.received || state.received === state.totalLength) {
    return end <= state.received ? { step: "repeat", end } : { step: "overlap" };
  }
  return { step: "append", end, final: !frame.more };
}

/**
 * Tells whether a repeated frame carries the bytes already held at its offset.
 *
 * @param held The message bytes held so far, from offset 0.
 * @param offset Where the frame's payload starts.
 * @param payload The frame's payload.
 * @returns `true` when every payload byte equals the held byte at its position.
 */
export function sameBytesAt(held: Uint8Array, offset: number, payload: Uint8Array): boolean {
  if (offset + payload.length > held.length) return false;
  for (let index = 0; index < payload.length; index++) {
    if (held[offset + index] !== payload[index]) return false;
  }
  return true;
}
