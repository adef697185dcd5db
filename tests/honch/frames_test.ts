import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { WireFormatError } from "../../src/honch/errors.ts";
import type { WireFormatProblem } from "../../src/honch/errors.ts";
import {
  type AssembleResult,
  crc16,
  decodeFrame,
  encodeFrames,
  type Frame,
  FrameAssembler,
} from "../../src/honch/frames.ts";

// Private loader (the shared tests/honch/_vectors.ts is written concurrently by another engineer).
interface FixtureFrame {
  hex: string;
  kind: string;
  offset?: number;
}
interface WireFixture {
  name: string;
  input: { message_id: number; source_type: number; frame_cuts: number[] | null };
  compact_message_hex: string;
  compact_message_length: number;
  crc16_ccitt_false_of_message: string;
  fixture: { frames: FixtureFrame[]; expected_capture_response_code: number };
}
interface CoredumpFixture {
  name: string;
  input: {
    blob_formula: string;
    message_id: number;
    source_type: number;
    frame_cuts: number[] | null;
  };
  crc16_ccitt_false_of_blob: string;
  fixture: { blob_hex: string; blob_size: number; frames: FixtureFrame[] };
}
interface UnitVector {
  test: string;
  kind: string;
  // deno-lint-ignore no-explicit-any
  input: Record<string, any>;
  // deno-lint-ignore no-explicit-any
  expect: Record<string, any>;
}
interface Vectors {
  wire_v2_fixtures: WireFixture[];
  coredump_fixtures: CoredumpFixture[];
  spec_tables: {
    conformance_fixture_expectations: { expected_capture_response_code: Record<string, number> };
  };
  unit_vectors_test_wire_v2_c: { vectors: UnitVector[] };
}

const VECTORS: Vectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/honch_wire_v2.json", import.meta.url)),
);
const UNIT = VECTORS.unit_vectors_test_wire_v2_c.vectors;

function fromHex(text: string): Uint8Array {
  assert.match(text, /^(?:[0-9a-f]{2})*$/);
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = parseInt(text.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function unitVectors(kind: string): UnitVector[] {
  const found = UNIT.filter((vector) => vector.kind === kind);
  assert.ok(found.length > 0, `no ${kind} vectors`);
  return found;
}

function fixture(name: string): WireFixture {
  const found = VECTORS.wire_v2_fixtures.find((candidate) => candidate.name === name);
  assert.ok(found, `no fixture ${name}`);
  return found;
}

function assertWireError(action: () => unknown, problem: WireFormatProblem): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof WireFormatError, `expected WireFormatError, got ${error}`);
    assert.equal(error.problem, problem, error.message);
    return true;
  });
}

function assertInvalidArgument(action: () => unknown, field: string, pattern?: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${error}`);
    assert.equal(error.argument, field, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

function pushAll(assembler: FrameAssembler, frames: Uint8Array[]): AssembleResult {
  let result: AssembleResult | undefined;
  for (const frame of frames) result = assembler.push(frame);
  assert.ok(result);
  return result;
}

function assertComplete(result: AssembleResult, message: Uint8Array): void {
  assert.equal(result.complete, true);
  if (result.complete) assert.deepEqual(result.message, message);
}

/** Builds the coredump blob from the fixture's formula, `blob[i] = (i*A + B) & 0xff for i in 0..N`. */
function blobFromFormula(formula: string): Uint8Array {
  const match = /^blob\[i\] = \(i\*(\d+) \+ (\d+)\) & 0xff for i in 0\.\.(\d+)$/.exec(formula);
  assert.ok(match, formula);
  const [factor, term, last] = match.slice(1).map(Number);
  return Uint8Array.from({ length: last + 1 }, (_, index) => (index * factor + term) & 0xff);
}

// --- crc16 ---

Deno.test("crc16 gives the CCITT-FALSE check value 0x29b1 for '123456789'", () => {
  for (const vector of unitVectors("crc16")) {
    const bytes = fromHex(vector.input.data_hex);
    assert.deepEqual(bytes, new TextEncoder().encode(vector.input.data_ascii));
    assert.equal(crc16(bytes), vector.expect.crc16_int);
    assert.equal(crc16(bytes).toString(16).padStart(4, "0"), vector.expect.crc16);
  }
  assert.equal(crc16(new TextEncoder().encode("123456789")), 0x29b1);
});

Deno.test("crc16 continued from a running value equals the one-shot CRC", () => {
  for (const vector of unitVectors("crc16_incremental")) {
    const bytes = fromHex(vector.input.data_hex);
    const initial = parseInt(vector.input.initial, 16);
    const split = vector.input.split_after_bytes;
    const oneShot = crc16(bytes, initial);
    const running = crc16(bytes.subarray(split), crc16(bytes.subarray(0, split), initial));
    assert.equal(running === oneShot, vector.expect.running_equals_one_shot);
    assert.equal(oneShot, parseInt(vector.expect.one_shot_crc16_derived, 16));
    assert.equal(crc16(new Uint8Array(0), oneShot), oneShot, "an empty update is a no-op");
    assert.equal(crc16(new Uint8Array(0)), 0xffff, "the default initial value is 0xffff");
  }
});

Deno.test("crc16 matches every fixture's stated message and blob CRC", () => {
  for (const wire of VECTORS.wire_v2_fixtures) {
    const message = fromHex(wire.compact_message_hex);
    assert.equal(message.length, wire.compact_message_length);
    assert.equal(crc16(message), parseInt(wire.crc16_ccitt_false_of_message, 16), wire.name);
  }
  for (const core of VECTORS.coredump_fixtures) {
    assert.equal(
      crc16(fromHex(core.fixture.blob_hex)),
      parseInt(core.crc16_ccitt_false_of_blob, 16),
      core.name,
    );
  }
});

Deno.test("crc16 split at every position equals the one-shot CRC", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, at) => {
      const split = bytes.length === 0 ? 0 : at % (bytes.length + 1);
      return crc16(bytes.subarray(split), crc16(bytes.subarray(0, split))) === crc16(bytes);
    }),
    { seed: 11, numRuns: 300 },
  );
});

Deno.test("crc16 rejects an initial value outside 0..0xffff with InvalidArgumentError", () => {
  for (const initial of [-1, 0x10000, 1.5, Number.NaN]) {
    assertInvalidArgument(() => crc16(new Uint8Array(1), initial), "initial", /'initial'/);
  }
});

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

// --- encodeFrames options ---

Deno.test("encodeFrames puts a message that fits into one single frame by default", () => {
  const message = new Uint8Array(4096 - 1 - 1 - 2);
  assert.equal(encodeFrames(message, { messageId: 1 }).length, 1);
  assert.equal(encodeFrames(new Uint8Array(4093), { messageId: 1 }).length, 2);
  const empty = encodeFrames(new Uint8Array(0), { messageId: 0 });
  assert.deepEqual(empty.map(toHex), ["0200ffff"]);
  assertComplete(new FrameAssembler().push(empty[0]), new Uint8Array(0));
});

Deno.test("encodeFrames rejects a messageId that is not a u32 naming 'messageId'", () => {
  for (const messageId of [-1, 2 ** 32, 1.5, Number.NaN, "7" as unknown as number]) {
    assertInvalidArgument(
      () => encodeFrames(new Uint8Array(1), { messageId }),
      "messageId",
      /'messageId' must be an integer from 0 to 4294967295/,
    );
  }
  assert.equal(
    decodeFrame(encodeFrames(new Uint8Array(1), { messageId: 2 ** 32 - 1 })[0])
      .messageId,
    2 ** 32 - 1,
  );
});

Deno.test("encodeFrames rejects a sourceType outside 0..7 naming 'sourceType'", () => {
  for (const sourceType of [-1, 8, 0.5]) {
    assertInvalidArgument(
      () => encodeFrames(new Uint8Array(1), { messageId: 1, sourceType }),
      "sourceType",
    );
  }
  assert.equal(encodeFrames(new Uint8Array(1), { messageId: 1, sourceType: 7 })[0][0], 0x1e);
});

Deno.test("encodeFrames rejects a maxFrameBytes too small for header, varints and CRC", () => {
  // Five bytes, id 7: a single frame needs 9 bytes, two frames need 6 (42 07 05 xx | 22 07 04 xx crc).
  const message = new Uint8Array([1, 2, 3, 4, 5]);
  assertInvalidArgument(
    () => encodeFrames(message, { messageId: 7, maxFrameBytes: 5 }),
    "maxFrameBytes",
    /'maxFrameBytes' must be at least 6: current value is 5/,
  );
  assert.equal(encodeFrames(message, { messageId: 7, maxFrameBytes: 9 }).length, 1);
  assertInvalidArgument(
    () => encodeFrames(new Uint8Array(1), { messageId: 7, maxFrameBytes: 4 }),
    "maxFrameBytes",
    /at least 5/,
  );
  for (const maxFrameBytes of [0, -1, 2.5, Number.POSITIVE_INFINITY]) {
    assertInvalidArgument(
      () => encodeFrames(message, { messageId: 7, maxFrameBytes }),
      "maxFrameBytes",
    );
  }
});

Deno.test("encodeFrames accepts exactly the smallest maxFrameBytes it names", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 3000 }),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      (message, messageId) => {
        let needed = 0;
        try {
          encodeFrames(message, { messageId, maxFrameBytes: 1 });
          assert.fail("no frame fits one byte");
        } catch (error) {
          assert.ok(error instanceof InvalidArgumentError);
          needed = Number(/at least (\d+)/.exec(error.message)?.[1]);
        }
        assert.throws(() => encodeFrames(message, { messageId, maxFrameBytes: needed - 1 }));
        const frames = encodeFrames(message, { messageId, maxFrameBytes: needed });
        assert.ok(frames.every((frame) => frame.length <= needed));
        assertComplete(pushAll(new FrameAssembler(), frames), message);
        return true;
      },
    ),
    { seed: 12, numRuns: 150 },
  );
});

Deno.test("encodeFrames rejects cuts that do not rise strictly inside the message", () => {
  const message = new Uint8Array(10);
  for (const cuts of [[0], [10], [3, 3], [5, 2], [1.5], [-1], [11]]) {
    assertInvalidArgument(
      () => encodeFrames(message, { messageId: 1, cuts }),
      "cuts",
      /'cuts\[\d\]' must be an integer/,
    );
  }
  assertInvalidArgument(
    () => encodeFrames(message, { messageId: 1, cuts: "3" as unknown as number[] }),
    "cuts",
  );
  assertInvalidArgument(
    () => encodeFrames(message, { messageId: 1, cuts: [3], maxFrameBytes: 100 }),
    "cuts",
    /both 'cuts' and 'maxFrameBytes'/,
  );
  assert.equal(encodeFrames(message, { messageId: 1, cuts: [] }).length, 1);
  assert.equal(encodeFrames(message, { messageId: 1, cuts: [1, 9] }).length, 3);
  assertInvalidArgument(
    () => encodeFrames([1, 2] as unknown as Uint8Array, { messageId: 1 }),
    "message",
  );
});

// --- decodeFrame errors ---

Deno.test("decodeFrame rejects reserved bit 7, other protocol versions and truncation as malformed", () => {
  const cases: [string, string][] = [
    ["", "empty frame"],
    ["8207000000", "reserved bit 7 set"],
    ["c2070500", "reserved bit 7 set on an initial frame"],
    ["0007000000", "protocol version code 0"],
    ["0107000000", "protocol version code 1"],
    ["0307000000", "protocol version code 3"],
    ["02", "no message id"],
    ["0280", "message id ends inside its varint"],
    ["02ffffffffffffffffffff01", "message id runs past 10 bytes"],
    ["028080808010ffff", "message id above 2^32-1"],
    ["0207ff", "final frame ends inside its CRC"],
    ["0207", "final frame without CRC"],
    ["4207", "initial frame without total length"],
    ["420780", "total length ends inside its varint"],
    ["6207", "continuation without offset"],
    ["2207", "final continuation without offset"],
    ["2207ffffffffffffffff7f00ffff", "offset above 2^53-1"],
  ];
  for (const [hex, label] of cases) {
    assertWireError(() => decodeFrame(fromHex(hex)), "malformed");
    assert.ok(label);
  }
  assert.equal(decodeFrame(fromHex("02ffffffff0fffff")).messageId, 2 ** 32 - 1);
});

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

// --- properties ---

const messages = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 20_000, size: "max" }),
);

Deno.test("frames from maxFrameBytes reassemble into the message for any message and id", () => {
  fc.assert(
    fc.property(
      messages,
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 16, max: 4096 }),
      (message, messageId, sourceType, maxFrameBytes) => {
        const frames = encodeFrames(message, { messageId, sourceType, maxFrameBytes });
        const assembler = new FrameAssembler();
        frames.forEach((frame, index) => {
          assert.ok(frame.length <= maxFrameBytes);
          const result = assembler.push(frame);
          if (index < frames.length - 1) assert.equal(result.complete, false);
          else {
            assertComplete(result, message);
            assert.equal(result.complete && result.messageId, messageId);
            assert.equal(result.complete && result.sourceType, sourceType);
          }
        });
      },
    ),
    { seed: 21, numRuns: 120 },
  );
});

Deno.test("frames from random cuts reassemble into the message, repeats included", () => {
  const cutMessages = messages.chain((message) =>
    fc.tuple(
      fc.constant(message),
      message.length < 2
        ? fc.constant<number[]>([])
        : fc.uniqueArray(fc.integer({ min: 1, max: message.length - 1 }), { maxLength: 60 })
          .map((cuts) => cuts.sort((a, b) => a - b)),
    )
  );
  fc.assert(
    fc.property(
      cutMessages,
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.nat(),
      ([message, cuts], messageId, repeatSeed) => {
        const frames = encodeFrames(message, { messageId, cuts });
        assert.equal(frames.length, cuts.length + 1);
        const assembler = new FrameAssembler();
        let repeats = 0;
        frames.forEach((frame, index) => {
          const result = assembler.push(frame);
          assert.equal(result.complete, index === frames.length - 1);
          if (!result.complete && (repeatSeed >> (index % 30)) & 1) {
            // Resend an earlier frame, as a sender retrying from offset 0 would.
            assembler.push(frames[(repeatSeed + index) % (index + 1)]);
            repeats++;
          }
          if (result.complete) assert.deepEqual(result.message, message);
        });
        assert.equal(assembler.duplicates, repeats);
      },
    ),
    { seed: 22, numRuns: 120 },
  );
});

Deno.test("random frame bytes never raise anything but WireFormatError", () => {
  const headers = fc.constantFrom(0x02, 0x06, 0x22, 0x42, 0x62, 0x66, 0x82, 0x03);
  const frame = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.tuple(headers, fc.uint8Array({ maxLength: 64 })).map(([header, rest]) =>
      Uint8Array.of(header, ...rest)
    ),
  );
  fc.assert(
    fc.property(fc.array(frame, { minLength: 1, maxLength: 6 }), (frames) => {
      const assembler = new FrameAssembler({ maxMessageBytes: 64 * 1024 });
      for (const bytes of frames) {
        try {
          decodeFrame(bytes);
        } catch (error) {
          assert.ok(error instanceof WireFormatError, String(error));
          assert.equal(error.problem, "malformed");
        }
        try {
          assembler.push(bytes);
        } catch (error) {
          assert.ok(error instanceof WireFormatError, String(error));
        }
      }
    }),
    { seed: 23, numRuns: 2000 },
  );
});

Deno.test("corrupted valid frames never raise anything but WireFormatError", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.integer({ min: 16, max: 64 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
      (message, maxFrameBytes, flips) => {
        const frames = encodeFrames(message, { messageId: 77, maxFrameBytes });
        for (const [which, at, mask] of flips) {
          const frame = frames[which % frames.length];
          if (frame.length > 0) frame[at % frame.length] ^= mask;
        }
        const assembler = new FrameAssembler();
        for (const frame of frames) {
          try {
            assembler.push(frame);
          } catch (error) {
            assert.ok(error instanceof WireFormatError, String(error));
          }
        }
      },
    ),
    { seed: 24, numRuns: 500 },
  );
});
