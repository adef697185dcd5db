/**
 * Capture's side of multi-frame reassembly: it asks the pure rules in
 * `honch/_reassembly.ts` (the ones {@linkcode FrameAssembler} follows) what a
 * frame means, and keeps the bytes as rows of a {@linkcode HonchStore}. A
 * compare-and-append that loses a race re-reads the partial and decides
 * again, so concurrent copies of one frame append it once.
 *
 * @module
 */

import { planFrame, sameBytesAt } from "../../honch/_reassembly.ts";
import type { HonchStore, HonchUploadKey } from "./store.ts";

/** One frame of a multi-frame upload, as capture hands it to {@linkcode takeFrame}. */
export interface IncomingFrame {
  /** Whether the frame continues a message (header bit 5). */
  continuation: boolean;
  /** Whether a later frame follows (header bit 6). */
  more: boolean;
  /** Where the payload starts within the message; 0 for the init frame. */
  offset: number;
  /** The frame's payload, without header or CRC. */
  payload: Uint8Array;
  /** The declared total length; only the init frame carries it. */
  totalLength?: number;
}

/**
 * What became of a frame. `stored`: held, `received` bytes are now held;
 * `duplicate`: the same bytes were already held, nothing changed;
 * `assembled`: the final frame completes the message, whose bytes are in
 * `message` (the partial stays until completed or discarded); `unknown`: no
 * live partial upload to continue; `conflict`: other bytes, or another total
 * length, are held there; `gap`: the frame does not start at `expected`;
 * `overflow`: the frame runs past the declared total length, or a non-final
 * frame reaches it, or a final frame falls short of it.
 */
export type FrameOutcome =
  | { status: "stored"; received: number }
  | { status: "duplicate"; received: number }
  | { status: "assembled"; message: Uint8Array }
  | { status: "unknown" }
  | { status: "conflict" }
  | { status: "gap"; expected: number }
  | { status: "overflow" };

/** How often a lost compare-and-append is decided again before the frame is answered `conflict`. */
const ATTEMPTS = 4;

/**
 * Takes one frame of a multi-frame upload into the store.
 *
 * @param store Where partial uploads are kept.
 * @param key The upload.
 * @param frame The frame.
 * @param now The server's current time, in milliseconds.
 * @param expiresAt When a partial opened by this frame expires, in milliseconds.
 * @param address The client address a partial opened by this frame is counted against.
 * @returns What became of the frame.
 */
export async function takeFrame(
  store: HonchStore,
  key: HonchUploadKey,
  frame: IncomingFrame,
  now: number,
  expiresAt: number,
  address = "",
): Promise<FrameOutcome> {
  const shape = { ...frame, length: frame.payload.length };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const partial = await store.findHonchPartial(key, now);
    const state = partial === undefined ? undefined : { ...partial, multiFrame: true };
    const plan = planFrame(state, shape);
    switch (plan.step) {
      case "unknown":
        return { status: "unknown" };
      case "disagree":
      case "overlap":
        return { status: "conflict" };
      case "gap":
        return { status: "gap", expected: plan.expected };
      case "too_large":
      case "oversize":
      case "misfit":
        return { status: "overflow" };
      case "repeat": {
        const held = await store.readHonchPartialBytes(key);
        if (!sameBytesAt(held, frame.offset, frame.payload)) return { status: "conflict" };
        return { status: "duplicate", received: partial!.received };
      }
      case "start": {
        const opened = await store.openHonchPartial(key, {
          totalLength: plan.totalLength,
          payload: frame.payload,
          now,
          expiresAt,
          address,
        });
        if (opened) return { status: "stored", received: plan.end };
        break;
      }
      case "append": {
        if (plan.final) {
          const held = await store.readHonchPartialBytes(key);
          if (held.length !== frame.offset) break;
          const message = new Uint8Array(plan.end);
          message.set(held);
          message.set(frame.payload, frame.offset);
          return { status: "assembled", message };
        }
        const appended = await store.appendHonchFrame(key, {
          offset: frame.offset,
          payload: frame.payload,
          now,
        });
        if (appended) return { status: "stored", received: plan.end };
        break;
      }
    }
  }
  return { status: "conflict" };
}
