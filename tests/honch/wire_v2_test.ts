import assert from "node:assert/strict";
import fc from "fast-check";
import { hex } from "@scure/base";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { WireFormatError } from "../../src/honch/errors.ts";
import {
  CAPTURE_LIMITS,
  CONTEXT_KEY_IDS,
  decodeMessage,
  encodeMessage,
  largestFittingPrefix,
  RESERVED_PROPERTY_IDS,
  WIRE_LIMITS,
  type WireBatch,
  type WireContextEntry,
  type WireEvent,
  type WireProperty,
} from "../../src/honch/wire_v2.ts";
import type { WireValue } from "../../src/honch/wire_value.ts";
import { readSvarint, readUvarint, writeSvarint, writeUvarint } from "../../src/honch/_varint.ts";
import { integer, toBatch, unitVectors, vectors } from "./_vectors.ts";

const text = (value: string): WireValue => ({ type: "string", value });
const REQUIRED = ["user-1", "device-1", "model-x", "1.0.0", "posix", "0.3.1", "production"];
const CONTEXT: WireContextEntry[] = REQUIRED.map((value, index) => ({
  id: index + 1,
  value: text(value),
}));

function batchOf(events: WireEvent[], context = CONTEXT): WireBatch {
  return { baseTimeMs: 1000, context, events };
}

function assertWireError(run: () => unknown, problem: string): void {
  assert.throws(run, (error) => error instanceof WireFormatError && error.problem === problem);
}

// The fixture that encodes a semantic failure on purpose (capture answers 422).
const NEGATIVE_FIXTURES = new Set(["duplicate-reserved-property"]);

for (const fixture of vectors.wire_v2_fixtures) {
  const negative = NEGATIVE_FIXTURES.has(fixture.name);
  Deno.test(`encodeMessage writes the ${fixture.name} fixture byte for byte`, () => {
    const bytes = encodeMessage(toBatch(fixture.input), { strict: !negative });
    assert.equal(hex.encode(bytes), fixture.compact_message_hex);
    // Every frame carries a slice of exactly these bytes; a single frame carries all of them.
    const single = fixture.fixture.frames.find((frame) => frame.kind === "single");
    if (single) assert.ok(single.hex.includes(fixture.compact_message_hex));
  });

  Deno.test(`decodeMessage reads the ${fixture.name} fixture back value for value`, () => {
    const bytes = hex.decode(fixture.compact_message_hex);
    const expected = toBatch(fixture.input);
    if (negative) {
      assertWireError(() => decodeMessage(bytes), "invalid");
      assert.deepEqual(decodeMessage(bytes, { strict: false }), expected);
    } else {
      assert.deepEqual(decodeMessage(bytes), expected);
    }
  });
}

Deno.test("encodeMessage refuses the duplicate reserved property of the fixture by default", () => {
  const fixture = vectors.wire_v2_fixtures.find((entry) =>
    entry.name === "duplicate-reserved-property"
  )!;
  assert.throws(
    () => encodeMessage(toBatch(fixture.input)),
    (error) =>
      error instanceof InvalidArgumentError &&
      error.argument === "events[0].properties.$battery_level",
  );
});

// C-API specific vectors with no TypeScript counterpart.
const C_ONLY = new Set(["test_event_batch_encoder_treats_zero_string_size_as_empty"]);

for (const vector of unitVectors("encode_event_batch")) {
  if (C_ONLY.has(vector.test)) continue;
  const expect = vector.expect;
  const batch = toBatch(vector.input as never);
  if (expect.result === "ok") {
    Deno.test(`encodeMessage passes ${vector.test}`, () => {
      const bytes = encodeMessage(batch);
      const written = hex.encode(bytes);
      if (typeof expect.message_hex === "string") assert.equal(written, expect.message_hex);
      if (typeof expect.message_size === "number") assert.equal(bytes.length, expect.message_size);
      for (const part of (expect.message_contains_hex as string[] | undefined) ?? []) {
        assert.ok(written.includes(part), `${written} contains ${part}`);
      }
      if (typeof expect.message_ends_with_hex === "string") {
        assert.ok(written.endsWith(expect.message_ends_with_hex), written);
      }
      if (typeof expect.message_byte_5 === "number") assert.equal(bytes[5], expect.message_byte_5);
      if (typeof expect.message_not_contains_hex === "string") {
        assert.ok(!written.includes(expect.message_not_contains_hex));
      }
      const sorted = { ...batch, context: [...batch.context].sort((a, b) => a.id - b.id) };
      assert.deepEqual(decodeMessage(bytes), sorted);
    });
  } else {
    Deno.test(`encodeMessage refuses ${vector.test} and decodeMessage refuses its bytes`, () => {
      assert.throws(() => encodeMessage(batch), InvalidArgumentError);
      if (vector.test.includes("null_map_keys")) return; // no bytes can carry a null key
      const bytes = encodeMessage(batch, { strict: false });
      const problem = vector.test.includes("invalid_utf8")
        ? "malformed"
        : vector.test.includes("compact_messages_over")
        ? "oversize"
        : "invalid";
      assertWireError(() => decodeMessage(bytes), problem);
    });
  }
}

Deno.test("encodeMessage writes the message inside the single-required-context frame of test_wire_v2.c", () => {
  const [vector] = unitVectors("encode_event_batch_then_frame");
  const frame = vector.expect.frame_hex as string;
  const bytes = encodeMessage(toBatch(vector.input as never));
  // Header 0x02 and message id 1 come first, the 2-byte CRC last.
  assert.equal(hex.encode(bytes), frame.slice(4, -4));
  assert.equal(frame.slice(0, 4), "0201");
});

Deno.test("svarint writes the zigzag of the 64-bit edge cases of test_wire_v2.c", () => {
  const [vector] = unitVectors("zigzag_i64");
  for (const { i64, zigzag_u64 } of vector.input.cases as { i64: string; zigzag_u64: string }[]) {
    const signed: number[] = [];
    writeSvarint(signed, integer(i64));
    const unsigned: number[] = [];
    writeUvarint(unsigned, integer(zigzag_u64));
    assert.deepEqual(signed, unsigned);
    assert.equal(readSvarint(new Uint8Array(signed), 0).value, integer(i64));
    assert.equal(readUvarint(new Uint8Array(unsigned), 0).value, integer(zigzag_u64));
  }
});

Deno.test("uvarint refuses truncated, overlong and over-64-bit encodings as malformed", () => {
  for (
    const bytes of [[0x80], [0x80, 0x00], [
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x02,
    ], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00]]
  ) {
    assertWireError(() => readUvarint(new Uint8Array(bytes), 0), "malformed");
  }
  assert.deepEqual(readUvarint(new Uint8Array([0xac, 0x02]), 0), { value: 300, next: 2 });
  assert.throws(() => writeUvarint([], -1), InvalidArgumentError);
  assert.throws(() => writeUvarint([], 2n ** 64n), InvalidArgumentError);
});

Deno.test("the exported tables match the spec's context and reserved property ids", () => {
  assert.equal(CONTEXT_KEY_IDS.distinct_id, 1);
  assert.equal(CONTEXT_KEY_IDS.$environment, 7);
  assert.equal(CONTEXT_KEY_IDS.capabilities, 10);
  assert.deepEqual(Object.values(RESERVED_PROPERTY_IDS), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(RESERVED_PROPERTY_IDS.session_name, 7);
  assert.equal(WIRE_LIMITS.maxEvents, 50);
  assert.ok(Object.isFrozen(WIRE_LIMITS));
});

Deno.test("encodeMessage writes context in ascending id order whatever the given order", () => {
  const shuffled = [{ id: 128, value: text("edge") }, ...[...CONTEXT].reverse(), {
    id: 9,
    value: { type: "uint", value: 2 } as WireValue,
  }];
  const event = { name: "boot", timestampMs: 1000, properties: [] };
  const bytes = encodeMessage(batchOf([event], shuffled));
  const decoded = decodeMessage(bytes);
  assert.deepEqual(decoded.context.map((entry) => entry.id), [1, 2, 3, 4, 5, 6, 7, 9, 128]);
});

Deno.test("encodeMessage names the field at fault", () => {
  const cases: [WireEvent[], WireContextEntry[], string][] = [
    [[], CONTEXT, "events"],
    [[{ name: "", timestampMs: 1000, properties: [] }], CONTEXT, "events[0].name"],
    [[{ name: "x", timestampMs: 1000, properties: [] }], CONTEXT.slice(1), "context"],
    [
      [{
        name: "x",
        timestampMs: 1000,
        properties: [{ key: "f", value: { type: "float32", value: 1e39 } }],
      }],
      CONTEXT,
      "events[0].properties.f",
    ],
    [
      [{ name: "x", timestampMs: 1000, properties: [{ key: "$session_id", value: text("s") }] }],
      CONTEXT,
      "events[0].properties.$session_id",
    ],
    [
      [{
        name: "x",
        timestampMs: 1000,
        properties: [{
          key: "m",
          value: { type: "map", entries: [{ key: "$device_id", value: text("s") }] },
        }],
      }],
      CONTEXT,
      "events[0].properties.m.$device_id",
    ],
  ];
  for (const [events, context, field] of cases) {
    assert.throws(
      () => encodeMessage(batchOf(events, context)),
      (error) =>
        error instanceof InvalidArgumentError && error.argument === field &&
        /^Cannot encode/.test(error.message),
    );
  }
  const tooMany = Array.from(
    { length: 51 },
    () => ({ name: "x", timestampMs: 1000, properties: [] }),
  );
  assert.throws(() => encodeMessage(batchOf(tooMany)), InvalidArgumentError);
  const props = Array.from(
    { length: 65 },
    (_, index) => ({ key: `k${index}`, value: { type: "null" } as WireValue }),
  );
  assert.throws(
    () => encodeMessage(batchOf([{ name: "x", timestampMs: 1000, properties: props }])),
    (error) => error instanceof InvalidArgumentError && error.argument === "events[0].properties",
  );
  const strings = Array.from(
    { length: 130 },
    (_, index) => ({ key: `k${index}`, value: { type: "null" } as WireValue }),
  );
  const events = [0, 1, 2].map((offset) => ({
    name: "x",
    timestampMs: 1000,
    properties: strings.slice(offset * 60, offset * 60 + 60),
  }));
  assert.throws(() => encodeMessage(batchOf(events)), /over the limit of 128/);
});

Deno.test("largestFittingPrefix counts the leading events that fit the limits", () => {
  const big = (index: number): WireEvent => ({
    name: "sample",
    timestampMs: 1000 + index,
    properties: Array.from(
      { length: 64 },
      (_, j) => ({ key: `k${j}`, value: { type: "uint", value: 123456789 + j } as WireValue }),
    ),
  });
  const events = Array.from({ length: 10 }, (_, index) => big(index));
  const fit = largestFittingPrefix(batchOf(events));
  assert.ok(fit > 0 && fit < 10);
  encodeMessage(batchOf(events.slice(0, fit)));
  assert.throws(() => encodeMessage(batchOf(events.slice(0, fit + 1))), InvalidArgumentError);
  const small = Array.from(
    { length: 70 },
    () => ({ name: "tick", timestampMs: 1000, properties: [] }),
  );
  assert.equal(largestFittingPrefix(batchOf(small)), 50);
  assert.equal(largestFittingPrefix(batchOf([])), 0);
  assert.equal(largestFittingPrefix(batchOf(small, CONTEXT.slice(2))), 0);
});

Deno.test("decodeMessage refuses every truncation of a valid message as malformed", () => {
  const bytes = hex.decode(vectors.wire_v2_fixtures[1].compact_message_hex);
  for (let length = 0; length < bytes.length; length++) {
    assertWireError(() => decodeMessage(bytes.subarray(0, length)), "malformed");
  }
});

Deno.test("decodeMessage tells malformed bytes from invalid and oversize ones", () => {
  const valid = encodeMessage(
    batchOf([{
      name: "hdr",
      timestampMs: 1025,
      properties: [{ key: "mode", value: text("auto") }],
    }]),
  );
  const patched = (at: number, byte: number): Uint8Array => {
    const copy = valid.slice();
    copy[at] = byte;
    return copy;
  };
  const tail = valid.length - 2; // tag of the last value (string ref)
  assertWireError(() => decodeMessage(patched(0, 3)), "malformed"); // format version
  assertWireError(() => decodeMessage(patched(1, 2)), "malformed"); // message kind
  assertWireError(() => decodeMessage(patched(2, 3)), "malformed"); // reserved flag bit
  assertWireError(() => decodeMessage(patched(2, 0)), "invalid"); // promotion flag missing
  assertWireError(() => decodeMessage(patched(tail, 0x0b)), "malformed"); // reserved tag
  assertWireError(() => decodeMessage(patched(tail + 1, 0x7f)), "malformed"); // string index
  assertWireError(() => decodeMessage(new Uint8Array([...valid, 0])), "malformed"); // trailing byte
  assertWireError(() => decodeMessage(valid, { limits: { maxMessageBytes: 50 } }), "oversize");
  assertWireError(() => decodeMessage(valid, { limits: { maxStrings: 3 } }), "invalid");
  assertWireError(() => decodeMessage(valid, { limits: { maxStringBytes: 5 } }), "invalid");
  assert.equal(decodeMessage(valid, { limits: CAPTURE_LIMITS }).events.length, 1);
  assert.throws(() => decodeMessage(valid, { limits: { maxEvents: 0 } }), InvalidArgumentError);
  const binary = encodeMessage(
    batchOf([{
      name: "b",
      timestampMs: 1000,
      properties: [{ key: "blob", value: { type: "bytes", value: new Uint8Array([1]) } }],
    }]),
  );
  assertWireError(() => decodeMessage(binary, { allowBytes: false }), "invalid");
  const alias = encodeMessage(
    batchOf([{
      name: "x",
      timestampMs: 1000,
      properties: [{ key: "$device_id", value: text("spoof") }],
    }]),
    { strict: false },
  );
  assertWireError(() => decodeMessage(alias), "invalid");
  const ext = encodeMessage(
    batchOf([{ name: "x", timestampMs: 1000, properties: [] }], [...CONTEXT, {
      id: 11,
      value: { type: "null" },
    }]),
    { strict: false },
  );
  assertWireError(() => decodeMessage(ext), "invalid");
});

// ---- property tests -------------------------------------------------------------------------

const MAX_I64 = 2n ** 63n - 1n;
const safe = (value: bigint): number | bigint =>
  value >= -BigInt(Number.MAX_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
const shortText = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ unit: "grapheme", maxLength: 4 }),
);
const PROMOTED = new Set(Object.keys(CONTEXT_KEY_IDS).slice(0, 8));
const key = fc.oneof(
  fc.string({ minLength: 1, maxLength: 6 }).filter((name) => !PROMOTED.has(name)),
  fc.constantFrom(...Object.keys(RESERVED_PROPERTY_IDS)),
);

const scalar: fc.Arbitrary<WireValue> = fc.oneof(
  fc.constant<WireValue>({ type: "null" }),
  fc.boolean().map((value): WireValue => ({ type: "bool", value })),
  fc.oneof(
    fc.nat(),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(safe),
    fc.constantFrom(2n ** 53n, 2n ** 64n - 1n),
  )
    .map((value): WireValue => ({ type: "uint", value })),
  fc.oneof(
    fc.integer(),
    fc.bigInt({ min: -MAX_I64 - 1n, max: MAX_I64 }).map(safe),
    fc.constantFrom(-(2n ** 63n), MAX_I64),
  )
    .map((value): WireValue => ({ type: "int", value })),
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((value): WireValue => ({
    type: "float32",
    value,
  })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value): WireValue => ({
    type: "float64",
    value,
  })),
  shortText.map((value): WireValue => ({ type: "string", value })),
  fc.uint8Array({ maxLength: 6 }).map((value): WireValue => ({ type: "bytes", value })),
);

const entries = (value: fc.Arbitrary<WireValue>): fc.Arbitrary<WireProperty[]> =>
  fc.uniqueArray(fc.record({ key, value }, { noNullPrototype: true }), {
    maxLength: 3,
    selector: (entry) => entry.key,
  });

// A chain of 8 nested containers (the limit) around a scalar, arrays and maps mixed.
const deep: fc.Arbitrary<WireValue> = fc.tuple(
  fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  scalar,
  key,
)
  .map(([kinds, inner, name]) =>
    kinds.reduce<WireValue>(
      (value, isMap) =>
        isMap
          ? { type: "map", entries: [{ key: name, value }] }
          : { type: "array", items: [value] },
      inner,
    )
  );

const { value } = fc.letrec<{ value: WireValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 3 }).map((items): WireValue => ({ type: "array", items })),
    entries(tie("value")).map((list): WireValue => ({ type: "map", entries: list })),
  ),
}));

const contextArb: fc.Arbitrary<WireContextEntry[]> = fc.record({
  required: fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 7, maxLength: 7 }),
  session: fc.option(fc.string({ minLength: 1, maxLength: 8 })),
  timeSource: fc.option(fc.integer({ min: 0, max: 3 })),
  capabilities: fc.option(fc.nat()),
  extensions: fc.uniqueArray(
    fc.record({ id: fc.integer({ min: 128, max: 100000 }), value }, { noNullPrototype: true }),
    {
      maxLength: 2,
      selector: (entry) => entry.id,
    },
  ),
}).map(({ required, session, timeSource, capabilities, extensions }) => {
  const context: WireContextEntry[] = required.map((item, index) => ({
    id: index + 1,
    value: text(item),
  }));
  if (session !== null) context.push({ id: 8, value: text(session) });
  if (timeSource !== null) context.push({ id: 9, value: { type: "uint", value: timeSource } });
  if (capabilities !== null) context.push({ id: 10, value: { type: "uint", value: capabilities } });
  return [...context, ...extensions].sort((a, b) => a.id - b.id);
});

const batchArb: fc.Arbitrary<WireBatch> = fc.record({
  baseTimeMs: fc.integer({ min: 0, max: 2 ** 42 }),
  context: contextArb,
  events: fc.array(
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 8 }),
      delta: fc.integer({ min: -1_000_000, max: 1_000_000 }),
      properties: entries(fc.oneof(value, deep)),
    }),
    { minLength: 1, maxLength: 6 },
  ),
}).map(({ baseTimeMs, context, events }) => ({
  baseTimeMs: baseTimeMs + 1_000_000,
  context,
  events: events.map(({ name, delta, properties }) => ({
    name,
    timestampMs: baseTimeMs + 1_000_000 + delta,
    properties,
  })),
}));

Deno.test("any batch within the limits encodes then decodes to an equal batch", () => {
  fc.assert(
    fc.property(batchArb, (batch) => {
      let bytes: Uint8Array;
      try {
        bytes = encodeMessage(batch);
      } catch (error) {
        // Only the size limits may refuse a generated batch; every rule is kept by construction.
        assert.ok(
          error instanceof InvalidArgumentError && /limit/.test(error.message),
          String(error),
        );
        fc.pre(false);
        return;
      }
      assert.deepEqual(decodeMessage(bytes), batch);
      assert.deepEqual(encodeMessage(decodeMessage(bytes)), bytes);
    }),
    { seed: 20240601, numRuns: 400 },
  );
});

Deno.test("decodeMessage throws nothing but WireFormatError on arbitrary bytes", () => {
  const valid = hex.decode(vectors.wire_v2_fixtures[1].compact_message_hex);
  const mutated = fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
    minLength: 1,
    maxLength: 4,
  })
    .map((edits) => {
      const copy = valid.slice();
      for (const [at, byte] of edits) copy[at] = byte;
      return copy;
    });
  const prefixed = fc.uint8Array({ maxLength: 60 }).map((tail) =>
    new Uint8Array([2, 1, 1, ...tail])
  );
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), mutated, prefixed), (bytes) => {
      try {
        decodeMessage(bytes);
      } catch (error) {
        assert.ok(error instanceof WireFormatError, String(error));
      }
    }),
    { seed: 7, numRuns: 3000 },
  );
});
