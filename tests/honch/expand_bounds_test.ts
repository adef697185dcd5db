import assert from "node:assert/strict";
import fc from "fast-check";
import { hex } from "@scure/base";
import { expandBatch } from "../../src/honch/expand.ts";
import { WireFormatError } from "../../src/honch/errors.ts";
import { decodeMessage, type WireBatch } from "../../src/honch/wire_v2.ts";
import { toWireValue, type WireValue } from "../../src/honch/wire_value.ts";
import { vectors } from "./_vectors.ts";

const UTF8 = new TextEncoder();

/** The bytes of each expanded event as canonical JSON, bigints as decimal strings. */
function jsonSizes(batch: WireBatch): number[] {
  return expandBatch(batch).map((event) =>
    UTF8.encode(
      JSON.stringify(event, (_key, value) => typeof value === "bigint" ? String(value) : value),
    ).length
  );
}

function batchOf(properties: Record<string, unknown>[]): WireBatch {
  const text = (value: string): WireValue => ({ type: "string", value });
  return {
    baseTimeMs: 1_700_000_000_000,
    context: ["user-1", "device-é", "model-x", "1.0.0", "posix", "0.3.1", "production"]
      .map((value, index) => ({ id: index + 1, value: text(value) })),
    events: properties.map((own, index) => ({
      name: `event-${index}`,
      timestampMs: 1_700_000_000_000 + index,
      properties: Object.entries(own).map(([key, value]) => ({ key, value: toWireValue(value) })),
    })),
  };
}

/** Asserts the bounds hold exactly at the JSON size: equal passes, one byte less is refused. */
function assertExactBounds(batch: WireBatch): void {
  const sizes = jsonSizes(batch);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const largest = Math.max(...sizes);
  assert.equal(
    expandBatch(batch, { maxBytes: total, maxEventBytes: largest }).length,
    sizes.length,
  );
  assert.throws(
    () => expandBatch(batch, { maxBytes: total - 1 }),
    (error) => error instanceof WireFormatError && error.problem === "oversize",
  );
  assert.throws(
    () => expandBatch(batch, { maxEventBytes: largest - 1 }),
    (error) => error instanceof WireFormatError && error.problem === "oversize",
  );
}

Deno.test("the expansion bounds count exactly the JSON bytes of every accepted fixture", () => {
  for (const fixture of vectors.wire_v2_fixtures) {
    if (fixture.fixture.expected_capture_response_code !== 204) continue;
    assertExactBounds(decodeMessage(hex.decode(fixture.compact_message_hex)));
  }
});

Deno.test("the expansion bounds count escapes, non-ASCII text, bigints, floats and nesting exactly", () => {
  assertExactBounds(batchOf([
    {
      quote: 'say "hi"\\ \n\t\u0001\u001f',
      text: "é中😀\u2028",
      big: 2n ** 63n,
      negative: -(2n ** 62n),
      float: 1e21,
      tiny: 5e-324,
      zero: -0,
      nested: [[], {}, [null, true, false, { "ключ": ["x"] }]],
    },
    {},
  ]));
});

Deno.test("the expansion bounds are exact for random properties", () => {
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(
      fc.string({ unit: "binary" }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      fc.boolean(),
      fc.constant(null),
    ),
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      tie("leaf"),
      fc.array(tie("node"), { maxLength: 4 }),
      fc.dictionary(fc.string({ minLength: 1, unit: "binary" }), tie("node"), { maxKeys: 4 }),
    ),
  })).node;
  const key = fc.string({ minLength: 1, unit: "binary" }).filter((text) => !text.startsWith("$"));
  fc.assert(
    fc.property(
      fc.array(fc.dictionary(key, value, { maxKeys: 5 }), { minLength: 1, maxLength: 4 }),
      (events) => assertExactBounds(batchOf(events)),
    ),
    { seed: 12, numRuns: 200 },
  );
});

Deno.test("a reference repeated 100,000 times is measured without building its expansion", () => {
  const big = { type: "string", value: "x".repeat(4096) } as const;
  const batch = batchOf([{}]);
  batch.events[0].properties.push({
    key: "k",
    value: { type: "array", items: new Array(100_000).fill(big) },
  });
  const started = performance.now();
  assert.throws(
    () => expandBatch(batch, { maxBytes: 8 * 1_048_576, maxEventBytes: 1_048_576 }),
    /event 0 takes more than 1048576 bytes as JSON/,
  );
  assert.ok(performance.now() - started < 200);
});
