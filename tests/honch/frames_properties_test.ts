/**
 * Property tests of Honch framing: frames from any limit or any cuts
 * reassemble into the message, and random or corrupted bytes only ever raise
 * {@linkcode WireFormatError}.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { WireFormatError } from "../../src/honch/errors.ts";
import { decodeFrame, encodeFrames, FrameAssembler } from "../../src/honch/frames.ts";
import { assertComplete } from "./_frames_fixtures.ts";

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
