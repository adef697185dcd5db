/**
 * Honch wire format v2 against JSON: encode and decode throughput in events
 * per second, and bytes per event against the same events as JSON and as
 * gzip'd JSON (`CompressionStream`), in one run:
 * `deno bench -A bench/honch_wire_bench.ts`. The sizes are printed once at
 * start-up, as `deno bench` measures time only.
 *
 * @module
 */

import { decodeMessage, encodeMessage } from "../src/honch/wire_v2.ts";
import { expandBatch } from "../src/honch/expand.ts";
import { deviceBatch } from "./_honch_batch.ts";

const EVENTS = 40;
const batch = deviceBatch(EVENTS);
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
