/**
 * Frame encoding and decoding against the C unit vectors of wire v2: single,
 * initial and final frames, the frames the C encoder refuses, and the chunker.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  crc16,
  decodeFrame,
  encodeFrames,
  type Frame,
  FrameAssembler,
} from "../../src/honch/frames.ts";
import { assertWireError, fromHex, toHex, unitVectors } from "./_frames_fixtures.ts";

// --- encodeFrames / decodeFrame against the unit vectors ---

Deno.test("encodeFrames reproduces the single, initial and final frame vectors byte for byte", () => {
  const vectors = unitVectors("encode_frame").filter((vector) => vector.expect.result === "ok");
  assert.equal(vectors.length, 3);
  for (const vector of vectors) {
    const { input } = vector;
    const payload = fromHex(input.payload_hex);
    // The vector gives the payload of one frame; rebuild a message and the cuts that isolate it.
    const message = input.crc_message_hex !== undefined
      ? fromHex(input.crc_message_hex)
      : new Uint8Array(input.total_message_length);
    if (input.crc_message_hex === undefined) message.set(payload, input.offset);
    assert.deepEqual(message.subarray(input.offset, input.offset + payload.length), payload);
    const cuts: number[] = [];
    if (input.offset > 0) cuts.push(input.offset);
    if (input.more) cuts.push(input.offset + payload.length);
    const frames = encodeFrames(message, {
      messageId: input.message_id,
      sourceType: input.source_type,
      cuts,
    });
    const frame = frames[input.offset > 0 ? 1 : 0];
    assert.equal(toHex(frame), vector.expect.frame_hex, vector.test);
    assert.equal(frame.length, vector.expect.frame_size);
  }
});

Deno.test("decodeFrame reads every field of the frame vectors", () => {
  for (const vector of unitVectors("encode_frame")) {
    if (vector.expect.result !== "ok") continue;
    const { input } = vector;
    const frame = decodeFrame(fromHex(vector.expect.frame_hex));
    const expected: Frame = {
      sourceType: input.source_type,
      messageId: input.message_id,
      continuation: input.continuation,
      more: input.more,
      offset: input.offset,
      payload: fromHex(input.payload_hex),
    };
    if (!input.continuation && input.more) expected.totalLength = input.total_message_length;
    if (!input.more) {
      expected.crc = crc16(fromHex(input.crc_message_hex ?? input.payload_hex));
    }
    assert.deepEqual(frame, expected, vector.test);
  }
});

Deno.test("FrameAssembler rejects the frames the C encoder refuses to build as malformed", () => {
  const vectors = unitVectors("encode_frame").filter((vector) =>
    vector.expect.result === "invalid_argument"
  );
  assert.equal(vectors.length, 2);
  for (const vector of vectors) {
    const { input } = vector;
    const payload = fromHex(input.payload_hex);
    const assembler = new FrameAssembler();
    if (input.offset > 0) {
      const message = fromHex(input.crc_message_hex);
      assert.deepEqual(
        assembler.push({
          sourceType: input.source_type,
          messageId: input.message_id,
          continuation: false,
          more: true,
          offset: 0,
          totalLength: input.total_message_length,
          payload: message.subarray(0, input.offset),
        }),
        { complete: false, received: input.offset },
      );
    }
    const frame: Frame = {
      sourceType: input.source_type,
      messageId: input.message_id,
      continuation: input.continuation,
      more: input.more,
      offset: input.offset,
      payload,
    };
    if (!input.continuation && input.more) frame.totalLength = input.total_message_length;
    if (!input.more) frame.crc = crc16(fromHex(input.crc_message_hex));
    assertWireError(() => assembler.push(frame), "malformed");
    assert.equal(assembler.received, input.offset, "a rejected frame leaves the state unchanged");
  }
});

Deno.test("encodeFrames with maxFrameBytes reproduces the chunker vectors, events and coredump", () => {
  const vectors = unitVectors("chunker");
  assert.equal(vectors.length, 2);
  for (const vector of vectors) {
    const { input } = vector;
    const message = fromHex(input.message_hex);
    const frames = encodeFrames(message, {
      messageId: input.message_id,
      sourceType: input.source_type,
      maxFrameBytes: input.max_frame_size,
    });
    assert.deepEqual(
      frames.map(toHex),
      vector.expect.frames.map((frame: { frame_hex: string }) => frame.frame_hex),
      vector.test,
    );
    const assembler = new FrameAssembler();
    frames.forEach((frame, index) => {
      assert.ok(frame.length <= input.max_frame_size);
      const result = assembler.push(frame);
      assert.equal(result.complete, vector.expect.frames[index].complete_after);
      if (result.complete) {
        assert.deepEqual(result.message, message);
        assert.equal(result.sourceType, input.source_type);
        assert.equal(result.messageId, input.message_id);
      }
    });
  }
});
