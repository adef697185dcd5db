/**
 * Honch wire format v2 against JSON: encode and decode throughput in events
 * per second, and bytes per event against the same events as JSON and as
 * gzip'd JSON (`CompressionStream`), in one run:
 * `deno bench -A bench/honch_wire_bench.ts`. The sizes are printed once at
 * start-up, as `deno bench` measures time only.
 *
 * @module
 */

import { decodeMessage, encodeMessage, type WireBatch } from "../src/honch/wire_v2.ts";
import { expandBatch } from "../src/honch/expand.ts";
import { toWireValue } from "../src/honch/wire_value.ts";

const BASE = 1_700_000_000_000;
const context = [
  ["distinct_id", 1],
  ["$device_id", 2],
  ["$device_model", 3],
  ["$firmware_version", 4],
  ["$sdk_platform", 5],
  ["$sdk_version", 6],
  ["$environment", 7],
].map(([value, id]) => ({ id: id as number, value: toWireValue(`${value}-value`) }));

/** A realistic device batch: a few event names, numeric readings, a reserved property. */
function batchOf(count: number): WireBatch {
  const names = ["sensor_reading", "button_pressed", "wifi_connected", "ota_progress"];
  return {
    baseTimeMs: BASE,
    context,
    events: Array.from({ length: count }, (_, i) => ({
      name: names[i % names.length],
      timestampMs: BASE + i * 250,
      properties: [
        { key: "$battery_level", value: toWireValue(90 - (i % 40)) },
        { key: "temperature", value: toWireValue(21.5 + (i % 7) / 10) },
        { key: "slot", value: toWireValue(i % 4) },
        { key: "ok", value: toWireValue(i % 5 !== 0) },
      ],
    })),
  };
}

const EVENTS = 40;
const batch = batchOf(EVENTS);
const encoded = encodeMessage(batch);
// What a JSON client would send for the same events: the expanded form
const expanded = expandBatch(batch);
const json = JSON.stringify(expanded);
const jsonBytes = new TextEncoder().encode(json);

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const gzipped = await gzip(jsonBytes);
console.log(
  `bytes per event (${EVENTS} events): wire v2 ${(encoded.length / EVENTS).toFixed(1)}, ` +
    `JSON ${(jsonBytes.length / EVENTS).toFixed(1)}, gzip'd JSON ${
      (gzipped.length / EVENTS).toFixed(1)
    }`,
);

Deno.bench({ name: `JSON.stringify, ${EVENTS} events`, group: "encode", baseline: true }, () => {
  new TextEncoder().encode(JSON.stringify(expanded));
});
Deno.bench({ name: `encodeMessage, ${EVENTS} events`, group: "encode" }, () => {
  encodeMessage(batch);
});
Deno.bench({ name: `gzip'd JSON, ${EVENTS} events`, group: "encode" }, async () => {
  await gzip(new TextEncoder().encode(JSON.stringify(expanded)));
});

Deno.bench({ name: `JSON.parse, ${EVENTS} events`, group: "decode", baseline: true }, () => {
  JSON.parse(new TextDecoder().decode(jsonBytes));
});
Deno.bench({ name: `decodeMessage, ${EVENTS} events`, group: "decode" }, () => {
  decodeMessage(encoded);
});
