/**
 * Properties of the MQTT codec, checked by fast-check with fixed seeds:
 * random packets round-trip; a stream of packets cut anywhere decodes to the
 * same packets; random and mutated bytes never raise anything but an
 * `MqttProtocolError`; a declared length above the limit is refused from the
 * header alone, before any body is buffered.
 *
 * @module
 */

import { concatBytes } from "../../src/core/bytes.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodePacket,
  encodePacket,
  MAX_REMAINING_LENGTH,
  MqttDecoder,
  type MqttPacket,
  MqttProtocolError,
} from "../../src/emitter/mqtt/mod.ts";
import { packet } from "./_mqtt_arbitraries.ts";

const LARGE = { maxPacketSize: MAX_REMAINING_LENGTH };

/** Concatenates byte arrays. */
/** Pushes `stream` cut at `cuts` (any numbers, folded into range) and returns the packets. */
function pushCut(
  decoder: MqttDecoder,
  stream: Uint8Array,
  cuts: number[],
  out: MqttPacket[],
): void {
  const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const point of [...points, stream.length]) {
    decoder.push(stream.subarray(from, point), out);
    from = point;
  }
}

Deno.test("any packet decodes to itself and re-encodes to the same bytes", () => {
  fc.assert(
    fc.property(packet(), (p) => {
      const bytes = encodePacket(p);
      const decoded = decodePacket(bytes, LARGE);
      assert.deepEqual(decoded, p);
      assert.deepEqual(encodePacket(decoded), bytes);
    }),
    { seed: 2021, numRuns: 3000 },
  );
});

Deno.test("a stream of packets cut anywhere decodes to the same packets", () => {
  fc.assert(
    fc.property(
      fc.array(packet(), { minLength: 1, maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (packets, cuts) => {
        const decoder = new MqttDecoder(LARGE);
        const out: MqttPacket[] = [];
        pushCut(decoder, concatBytes(...packets.map(encodePacket)), cuts, out);
        assert.deepEqual(out, packets);
        assert.equal(decoder.idle, true);
      },
    ),
    { seed: 2022, numRuns: 500 },
  );
});

/** Runs `bytes` through a decoder in the given cuts; only MqttProtocolError may come out. */
function onlyProtocolErrors(bytes: Uint8Array, cuts: number[], maxPacketSize: number): void {
  const decoder = new MqttDecoder({ maxPacketSize });
  try {
    pushCut(decoder, bytes, cuts, []);
  } catch (error) {
    if (!(error instanceof MqttProtocolError)) throw error;
    assert.equal(decoder.failure, error);
    // After a failure, all later input is refused with the same type
    assert.throws(() => decoder.push(new Uint8Array([0xc0, 0])), MqttProtocolError);
  }
  // A decoder that did not fail holds at most one unfinished packet within the limit
  assert.ok(decoder.buffered <= maxPacketSize);
}

Deno.test("random bytes raise nothing but MqttProtocolError", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 400 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.integer({ min: 1, max: 512 }),
      onlyProtocolErrors,
    ),
    { seed: 2023, numRuns: 5000 },
  );
});

Deno.test("valid streams with bytes changed raise nothing but MqttProtocolError", () => {
  // Random bytes rarely get past a fixed header; mutated packets reach every body parser
  fc.assert(
    fc.property(
      fc.array(packet(), { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (packets, changes, cuts) => {
        const stream = concatBytes(...packets.map(encodePacket));
        for (const [at, value] of changes) stream[at % stream.length] = value;
        onlyProtocolErrors(stream, cuts, MAX_REMAINING_LENGTH);
      },
    ),
    { seed: 2024, numRuns: 3000 },
  );
});

/** The remaining-length bytes for `length`, the shortest form. */
function varint(length: number): number[] {
  const out: number[] = [];
  do {
    const digit = length & 0x7f;
    length >>>= 7;
    out.push(length > 0 ? digit | 0x80 : digit);
  } while (length > 0);
  return out;
}

Deno.test("a declared length above the limit is refused from the header, before any body", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1 << 20 }),
      fc.integer({ min: 1, max: MAX_REMAINING_LENGTH }),
      fc.constantFrom(0x10, 0x30, 0x32, 0x82, 0x90),
      (limit, declared, first) => {
        fc.pre(declared > limit);
        const decoder = new MqttDecoder({ maxPacketSize: limit });
        // The header alone, one byte at a time: the refusal comes with its last byte
        const header = [first, ...varint(declared)];
        for (let i = 0; i < header.length - 1; i++) decoder.push(new Uint8Array([header[i]]));
        assert.throws(
          () => decoder.push(new Uint8Array([header[header.length - 1]])),
          (error: unknown) =>
            error instanceof MqttProtocolError && error.code === "packet_too_large",
        );
        assert.equal(decoder.buffered, 0);
      },
    ),
    { seed: 2025, numRuns: 1000 },
  );
});

Deno.test("refusing a 256 MiB declared length allocates nothing like it", () => {
  // V8 counts every ArrayBuffer in `external` until it is collected, dropped ones too:
  // one buffer of the declared size would add 256 MiB
  const before = Deno.memoryUsage();
  for (let i = 0; i < 100; i++) {
    const decoder = new MqttDecoder();
    assert.throws(
      () => decoder.push(new Uint8Array([0x30, ...varint(MAX_REMAINING_LENGTH), 0, 1, 0x61])),
      MqttProtocolError,
    );
  }
  const after = Deno.memoryUsage();
  assert.ok(
    after.external - before.external < 16 << 20,
    `external grew ${after.external - before.external}`,
  );
});
