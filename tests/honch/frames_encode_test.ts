/**
 * Tests of the options of {@linkcode encodeFrames}: the default single frame,
 * `messageId`, `sourceType`, `maxFrameBytes` and `cuts` validation.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { decodeFrame, encodeFrames, FrameAssembler } from "../../src/honch/frames.ts";
import { assertComplete, assertInvalidArgument, pushAll, toHex } from "./_frames_fixtures.ts";

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
