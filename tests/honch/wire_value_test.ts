import assert from "node:assert/strict";
import fc from "fast-check";
import { toWireValue, type WireValue, wireValueToJson } from "../../src/honch/wire_value.ts";
import { decodeMessage, encodeMessage } from "../../src/honch/wire_v2.ts";

Deno.test("toWireValue picks the smallest type that keeps each value", () => {
  assert.deepEqual(toWireValue(42), { type: "uint", value: 42 });
  assert.deepEqual(toWireValue(-1), { type: "int", value: -1 });
  assert.deepEqual(toWireValue(-0), { type: "uint", value: 0 });
  assert.deepEqual(toWireValue(3.2), { type: "float64", value: 3.2 });
  assert.deepEqual(toWireValue(2n ** 64n - 1n), { type: "uint", value: 2n ** 64n - 1n });
  assert.deepEqual(toWireValue(-(2n ** 63n)), { type: "int", value: -(2n ** 63n) });
  assert.deepEqual(toWireValue(7n), { type: "uint", value: 7 });
  assert.deepEqual(toWireValue(true), { type: "bool", value: true });
  assert.deepEqual(toWireValue(null), { type: "null" });
  assert.deepEqual(toWireValue(undefined), { type: "null" });
  assert.deepEqual(toWireValue(new Uint8Array([1, 2])), {
    type: "bytes",
    value: new Uint8Array([1, 2]),
  });
  assert.deepEqual(toWireValue(new Date(1700000000000)), {
    type: "string",
    value: "2023-11-14T22:13:20.000Z",
  });
  assert.deepEqual(toWireValue({ tags: ["auto", "hdr"], n: 1 }), {
    type: "map",
    entries: [
      {
        key: "tags",
        value: {
          type: "array",
          items: [{ type: "string", value: "auto" }, { type: "string", value: "hdr" }],
        },
      },
      { key: "n", value: { type: "uint", value: 1 } },
    ],
  });
});

Deno.test("toWireValue names the path of a value it cannot encode", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  let deep: unknown = 1;
  for (let level = 0; level < 9; level++) deep = [deep];
  const cases: [unknown, RegExp][] = [
    [
      { items: [0, 1, { x: NaN }] },
      /^Cannot encode 'properties\.items\[2\]\.x' as NaN is not allowed: pass a finite number or null$/,
    ],
    [{ items: [Infinity] }, /'properties\.items\[0\]' as Infinity/],
    [{ f: () => 1 }, /'properties\.f' as a function/],
    [{ s: Symbol("s") }, /'properties\.s' as a symbol/],
    [{ m: new Map() }, /'properties\.m' as a Map is not a plain object/],
    [{ d: new Date(Number.NaN) }, /invalid Date/],
    [{ b: 2n ** 64n }, /outside 64 bits/],
    [cycle, /'properties\.self' as the value contains itself/],
    [deep, /deeper than 8 levels/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => toWireValue(value, { path: "properties" }),
      (error) => error instanceof TypeError && message.test(error.message),
    );
  }
  let eight: unknown = 1;
  for (let level = 0; level < 8; level++) eight = [eight];
  assert.equal(toWireValue(eight).type, "array");
});

Deno.test("wireValueToJson renders values as capture stores them", () => {
  const value: WireValue = {
    type: "map",
    entries: [
      { key: "big", value: { type: "uint", value: 2n ** 64n - 1n } },
      { key: "f32", value: { type: "float32", value: Math.fround(0.1) } },
      { key: "blob", value: { type: "bytes", value: new Uint8Array([0, 255, 16]) } },
      { key: "__proto__", value: { type: "bool", value: false } },
      {
        key: "list",
        value: { type: "array", items: [{ type: "null" }, { type: "int", value: -3 }] },
      },
    ],
  };
  const json = wireValueToJson(value) as Record<string, unknown>;
  assert.equal(json.big, "18446744073709551615");
  assert.equal(json.f32, 0.10000000149011612);
  assert.equal(json.blob, "AP8Q");
  assert.deepEqual(Object.keys(json), ["big", "f32", "blob", "__proto__", "list"]);
  assert.equal(Object.getPrototypeOf(json), Object.prototype);
  assert.deepEqual(json.list, [null, -3]);
});

Deno.test("toWireValue output of any JSON value round-trips through a message", () => {
  const context = ["u", "d", "m", "1", "p", "0", "e"].map((value, index) => ({
    id: index + 1,
    value: { type: "string", value } as WireValue,
  }));
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (json) => {
      const value = toWireValue(json);
      let bytes: Uint8Array;
      try {
        bytes = encodeMessage({
          baseTimeMs: 0,
          context,
          events: [{ name: "e", timestampMs: 0, properties: [{ key: "v", value }] }],
        });
      } catch {
        // Generated objects may use promoted keys or exceed the size limits; those are refused by design.
        fc.pre(false);
        return;
      }
      assert.deepEqual(decodeMessage(bytes).events[0].properties[0].value, value);
      assert.deepEqual(wireValueToJson(value), JSON.parse(JSON.stringify(json)));
    }),
    { seed: 42, numRuns: 300 },
  );
});
