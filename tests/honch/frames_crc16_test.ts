/**
 * Tests of the Honch CRC-16/CCITT-FALSE ({@linkcode crc16}): the check value,
 * running updates, every fixture's stated CRC, and argument validation.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { crc16 } from "../../src/honch/frames.ts";
import { assertInvalidArgument, fromHex, unitVectors, VECTORS } from "./_frames_fixtures.ts";

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
