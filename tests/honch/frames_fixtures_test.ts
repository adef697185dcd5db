/**
 * Frame encoding, decoding and reassembly against the wire-v2 and coredump
 * fixtures, including the outcome behind each fixture's capture response.
 *
 * @module
 */

import assert from "node:assert/strict";
import { crc16, decodeFrame, encodeFrames, FrameAssembler } from "../../src/honch/frames.ts";
import {
  assertComplete,
  assertWireError,
  blobFromFormula,
  fixture,
  fromHex,
  pushAll,
  toHex,
  VECTORS,
} from "./_frames_fixtures.ts";

// --- fixtures ---

Deno.test("encodeFrames reproduces every wire-v2 fixture's frames byte for byte", () => {
  for (const wire of VECTORS.wire_v2_fixtures) {
    const message = fromHex(wire.compact_message_hex);
    const frames = encodeFrames(message, {
      messageId: wire.input.message_id,
      sourceType: wire.input.source_type,
      cuts: wire.input.frame_cuts ?? [],
    });
    for (const [index, expected] of wire.fixture.frames.entries()) {
      let hex = expected.hex;
      if (expected.kind === "corrupt-final") {
        // The fixture's rule: the trailing CRC is the correct one XOR 0x0001 (low byte first).
        const bytes = fromHex(hex);
        bytes[bytes.length - 2] ^= 0x01;
        hex = toHex(bytes);
      }
      // A "duplicate" frame is a byte-identical copy of the frame that starts at the same offset.
      const position = expected.kind === "duplicate"
        ? wire.fixture.frames.findIndex((frame) => frame.offset === expected.offset)
        : index;
      assert.equal(toHex(frames[position]), hex, `${wire.name} frame ${index}`);
    }
    if (wire.fixture.expected_capture_response_code !== 202) {
      assert.equal(frames.length, wire.fixture.frames.length, wire.name);
    }
  }
});

Deno.test("decodeFrame reads every fixture frame's header, id, offset, payload and CRC", () => {
  for (const wire of VECTORS.wire_v2_fixtures) {
    const message = fromHex(wire.compact_message_hex);
    const cuts = wire.input.frame_cuts ?? [];
    for (const [index, expected] of wire.fixture.frames.entries()) {
      const frame = decodeFrame(fromHex(expected.hex));
      const offset = expected.offset ?? 0;
      const start = [0, ...cuts].indexOf(offset);
      const end = start + 1 < cuts.length + 1 ? cuts[start] : message.length;
      const isFinal = end === message.length;
      assert.equal(frame.messageId, wire.input.message_id, wire.name);
      assert.equal(frame.sourceType, wire.input.source_type);
      assert.equal(frame.offset, offset);
      assert.equal(frame.continuation, offset > 0, `${wire.name} frame ${index}`);
      assert.equal(frame.more, !isFinal);
      assert.equal(frame.totalLength, offset === 0 && !isFinal ? message.length : undefined);
      assert.deepEqual(frame.payload, message.subarray(offset, end));
      const crc = crc16(message);
      assert.equal(
        frame.crc,
        isFinal ? (expected.kind === "corrupt-final" ? crc ^ 1 : crc) : undefined,
      );
    }
  }
});

Deno.test("FrameAssembler gives each fixture the outcome behind its expected capture response", () => {
  const codes = VECTORS.spec_tables.conformance_fixture_expectations.expected_capture_response_code;
  for (const wire of VECTORS.wire_v2_fixtures) {
    const code = wire.fixture.expected_capture_response_code;
    assert.equal(codes[wire.name], code);
    const frames = wire.fixture.frames.map((frame) => fromHex(frame.hex));
    const assembler = new FrameAssembler();
    if (code === 400) {
      for (const frame of frames.slice(0, -1)) assembler.push(frame);
      assertWireError(() => assembler.push(frames[frames.length - 1]), "bad_crc");
    } else if (code === 202) {
      const result = pushAll(assembler, frames);
      assert.equal(result.complete, false, wire.name);
    } else {
      // 204 and 422 both pass framing; 422 is a semantic failure of the decoded message.
      assertComplete(pushAll(assembler, frames), fromHex(wire.compact_message_hex));
    }
  }
});

Deno.test("FrameAssembler rejects the crc-failure fixture with bad_crc and stays empty", () => {
  const wire = fixture("crc-failure");
  const assembler = new FrameAssembler();
  const frame = fromHex(wire.fixture.frames[0].hex);
  assertWireError(() => assembler.push(frame), "bad_crc");
  assert.equal(assembler.received, 0);
  assert.equal(assembler.complete, false);
  // Nothing was kept, so the correct frame is still taken afterwards.
  const message = fromHex(wire.compact_message_hex);
  assertComplete(assembler.push(encodeFrames(message, { messageId: 5 })[0]), message);
});

Deno.test("FrameAssembler counts the duplicate-continuation fixture's repeat and ignores it", () => {
  const wire = fixture("duplicate-continuation");
  const message = fromHex(wire.compact_message_hex);
  const [init, continuation, duplicate] = wire.fixture.frames.map((frame) => fromHex(frame.hex));
  const assembler = new FrameAssembler();
  assert.deepEqual(assembler.push(init), { complete: false, received: 37 });
  assert.deepEqual(assembler.push(continuation), { complete: false, received: 74 });
  assert.deepEqual(assembler.push(duplicate), { complete: false, received: 74 });
  assert.equal(assembler.duplicates, 1);
  // The initial frame again (a sender retrying from offset 0) is just as harmless.
  assert.deepEqual(assembler.push(init), { complete: false, received: 74 });
  assert.equal(assembler.duplicates, 2);
  // The fixture leaves out the final frame; ours completes the message.
  const final = encodeFrames(message, { messageId: wire.input.message_id, cuts: [37, 74] })[2];
  assertComplete(assembler.push(final), message);
  assert.equal(assembler.complete, true);
  // After completion a repeat must not deliver the message a second time.
  assertWireError(() => assembler.push(final), "duplicate");
  assertWireError(() => assembler.push(duplicate), "duplicate");
});

Deno.test("encodeFrames reproduces the coredump fixtures by cuts and by maxFrameBytes", () => {
  for (const core of VECTORS.coredump_fixtures) {
    const blob = blobFromFormula(core.input.blob_formula);
    assert.equal(toHex(blob), core.fixture.blob_hex);
    assert.equal(blob.length, core.fixture.blob_size);
    const expected = core.fixture.frames.map((frame) => frame.hex);
    const options = { messageId: core.input.message_id, sourceType: core.input.source_type };
    assert.deepEqual(
      encodeFrames(blob, { ...options, cuts: core.input.frame_cuts ?? [] }).map(toHex),
      expected,
      core.name,
    );
    const largest = Math.max(...expected.map((hex) => hex.length / 2));
    const byLimit = encodeFrames(blob, { ...options, maxFrameBytes: largest });
    assert.deepEqual(byLimit.map(toHex), expected, core.name);
    assert.deepEqual(
      byLimit.map((frame) => frame[0]),
      expected.length === 1 ? [0x06] : [0x46, 0x66, 0x26],
    );
    const assembler = new FrameAssembler();
    byLimit.forEach((frame, index) => {
      const decoded = decodeFrame(frame);
      assert.equal(decoded.offset, core.fixture.frames[index].offset);
      assert.equal(decoded.sourceType, 1);
    });
    const result = pushAll(assembler, byLimit);
    assertComplete(result, blob);
    assert.equal(result.complete && result.sourceType, 1);
  }
});
