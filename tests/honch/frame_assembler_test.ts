/**
 * Tests of the rules of {@linkcode FrameAssembler}: gaps, overlaps, CRC
 * failures, size limits, id changes, duplicates and malformed frame objects.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type AssembleResult,
  decodeFrame,
  encodeFrames,
  type Frame,
  FrameAssembler,
} from "../../src/honch/frames.ts";
import {
  assertComplete,
  assertInvalidArgument,
  assertWireError,
  fromHex,
  pushAll,
} from "./_frames_fixtures.ts";

// --- FrameAssembler rules ---

function multiFrames(length = 100, messageId = 9): { message: Uint8Array; frames: Uint8Array[] } {
  const message = Uint8Array.from({ length }, (_, index) => (index * 13 + 1) & 0xff);
  return { message, frames: encodeFrames(message, { messageId, cuts: [20, 40, 60, 80] }) };
}

Deno.test("FrameAssembler takes decoded Frame objects the same as frame bytes", () => {
  const { message, frames } = multiFrames();
  assertComplete(pushAll(new FrameAssembler(), frames), message);
  const assembler = new FrameAssembler();
  let result: AssembleResult | undefined;
  for (const frame of frames) result = assembler.push(decodeFrame(frame));
  assert.ok(result);
  assertComplete(result, message);
});

Deno.test("FrameAssembler rejects a gap with offset_gap and keeps what it has", () => {
  const { message, frames } = multiFrames();
  const assembler = new FrameAssembler();
  assembler.push(frames[0]);
  assertWireError(() => assembler.push(frames[2]), "offset_gap");
  assert.equal(assembler.received, 20);
  pushAll(assembler, frames.slice(1, 4));
  assertWireError(
    () => assembler.push(encodeFrames(message, { messageId: 9, cuts: [90] })[1]),
    "offset_gap",
  );
  assertComplete(assembler.push(frames[4]), message);
});

Deno.test("FrameAssembler rejects an overlap that is not an exact duplicate with offset_gap", () => {
  const { message, frames } = multiFrames();
  const assembler = new FrameAssembler();
  pushAll(assembler, frames.slice(0, 3));
  // Starts inside the received bytes but runs past them.
  const straddling = encodeFrames(message, { messageId: 9, cuts: [50, 70] })[1];
  assertWireError(() => assembler.push(straddling), "offset_gap");
  // Lies inside the received bytes but carries different bytes.
  const changed = frames[1].slice();
  changed[changed.length - 1] ^= 0xff;
  assertWireError(() => assembler.push(changed), "offset_gap");
  assert.equal(assembler.duplicates, 0);
  // A repeat cut differently but with the same bytes is still harmless.
  const regrouped = encodeFrames(message, { messageId: 9, cuts: [10, 30, 70] })[1];
  assert.deepEqual(assembler.push(regrouped), { complete: false, received: 60 });
  assert.equal(assembler.duplicates, 1);
  assertComplete(pushAll(assembler, frames.slice(3)), message);
});

Deno.test("FrameAssembler rejects a continuation before any initial frame with offset_gap", () => {
  const { frames } = multiFrames();
  const assembler = new FrameAssembler();
  assertWireError(() => assembler.push(frames[1]), "offset_gap");
  assertWireError(() => assembler.push(frames[4]), "offset_gap");
  assert.equal(assembler.received, 0);
});

Deno.test("FrameAssembler rejects a bad final CRC with bad_crc and then takes the right frame", () => {
  const { message, frames } = multiFrames();
  const assembler = new FrameAssembler();
  pushAll(assembler, frames.slice(0, 4));
  const corrupt = frames[4].slice();
  corrupt[corrupt.length - 1] ^= 0x80;
  assertWireError(() => assembler.push(corrupt), "bad_crc");
  assert.equal(assembler.received, 80);
  const wrongBytes = frames[4].slice();
  wrongBytes[5] ^= 0x01;
  assertWireError(() => assembler.push(wrongBytes), "bad_crc");
  assertComplete(assembler.push(frames[4]), message);
});

Deno.test("FrameAssembler rejects messages above maxMessageBytes or past their total with oversize", () => {
  const { message, frames } = multiFrames(200);
  assertWireError(() => new FrameAssembler({ maxMessageBytes: 199 }).push(frames[0]), "oversize");
  assertComplete(pushAll(new FrameAssembler({ maxMessageBytes: 200 }), frames), message);
  const single = encodeFrames(message, { messageId: 9 })[0];
  assertWireError(() => new FrameAssembler({ maxMessageBytes: 100 }).push(single), "oversize");
  // A hostile total length is refused before any buffer is allocated.
  assertWireError(() => new FrameAssembler().push(fromHex("4209ffffffff0f00")), "oversize");
  const assembler = new FrameAssembler();
  assembler.push(frames[0]);
  const tooLong: Frame = { ...decodeFrame(frames[1]), payload: new Uint8Array(190) };
  assertWireError(() => assembler.push(tooLong), "oversize");
  const initTooLong: Frame = {
    sourceType: 0,
    messageId: 1,
    continuation: false,
    more: true,
    offset: 0,
    totalLength: 3,
    payload: new Uint8Array(4),
  };
  assertWireError(() => new FrameAssembler().push(initTooLong), "oversize");
});

Deno.test("FrameAssembler rejects a change of message id or source type with malformed", () => {
  const { message, frames } = multiFrames();
  const assembler = new FrameAssembler();
  assembler.push(frames[0]);
  const otherId = encodeFrames(message, { messageId: 10, cuts: [20, 40, 60, 80] });
  assertWireError(() => assembler.push(otherId[1]), "malformed");
  const otherSource = encodeFrames(message, {
    messageId: 9,
    sourceType: 1,
    cuts: [20, 40, 60, 80],
  });
  assertWireError(() => assembler.push(otherSource[1]), "malformed");
  // A second initial frame declaring another length is a collision, not a repeat.
  assertWireError(
    () => assembler.push(encodeFrames(message.subarray(0, 99), { messageId: 9, cuts: [20] })[0]),
    "malformed",
  );
  assertWireError(() => assembler.push(encodeFrames(message, { messageId: 9 })[0]), "malformed");
  assertComplete(pushAll(assembler, frames.slice(1)), message);
});

Deno.test("FrameAssembler rejects a single frame repeated after completion as duplicate", () => {
  const message = new Uint8Array([2, 1, 1]);
  const [frame] = encodeFrames(message, { messageId: 300 });
  const assembler = new FrameAssembler();
  assertComplete(assembler.push(frame), message);
  assertWireError(() => assembler.push(frame), "duplicate");
  assert.equal(assembler.duplicates, 0);
});

Deno.test("FrameAssembler rejects frame objects whose fields do not describe a frame", () => {
  const good = decodeFrame(encodeFrames(new Uint8Array(10), { messageId: 1, cuts: [5] })[0]);
  const bad: unknown[] = [
    { ...good, payload: [1, 2] },
    { ...good, messageId: -1 },
    { ...good, sourceType: 8 },
    { ...good, totalLength: undefined },
    { ...good, offset: 3 },
    { ...good, more: false },
    { ...good, continuation: "no" },
    null,
  ];
  for (const frame of bad) {
    assertWireError(() => new FrameAssembler().push(frame as Frame), "malformed");
  }
});

Deno.test("FrameAssembler rejects a maxMessageBytes that is not a positive integer", () => {
  for (const maxMessageBytes of [0, -1, 1.5, Number.NaN]) {
    assertInvalidArgument(() => new FrameAssembler({ maxMessageBytes }), "maxMessageBytes");
  }
});
