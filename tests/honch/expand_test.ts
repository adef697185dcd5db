import assert from "node:assert/strict";
import { hex } from "@scure/base";
import { expandBatch, type ExpandedEvent } from "../../src/honch/expand.ts";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  CONTEXT_KEY_IDS,
  decodeMessage,
  encodeMessage,
  type WireBatch,
} from "../../src/honch/wire_v2.ts";
import { toWireValue, type WireValue } from "../../src/honch/wire_value.ts";
import { vectors } from "./_vectors.ts";

for (const fixture of vectors.wire_v2_fixtures) {
  if (fixture.fixture.expected_capture_response_code !== 204) continue;
  Deno.test(`expandBatch gives the expanded events of the ${fixture.name} fixture`, () => {
    const batch = decodeMessage(hex.decode(fixture.compact_message_hex));
    assert.deepEqual(expandBatch(batch), fixture.fixture.expanded_event_json);
  });
}

Deno.test("expandBatch promotes session id but not ingest metadata or extensions", () => {
  const text = (value: string): WireValue => ({ type: "string", value });
  const batch: WireBatch = {
    baseTimeMs: 1000,
    context: [
      ...["user-1", "device-1", "model-x", "1.0.0", "posix", "0.3.1", "production", "session-1"]
        .map((value, index) => ({ id: index + 1, value: text(value) })),
      { id: 9, value: { type: "uint", value: 1 } },
      { id: 128, value: text("edge") },
    ],
    events: [{
      name: "$session_start",
      timestampMs: 990,
      properties: [{ key: "session_name", value: text("rec") }],
    }],
  };
  const [event] = expandBatch(decodeMessage(encodeMessage(batch)));
  assert.equal(event.timestamp, 990);
  assert.deepEqual(Object.keys(event.properties), [
    "$device_id",
    "$device_model",
    "$firmware_version",
    "$sdk_platform",
    "$sdk_version",
    "$environment",
    "$session_id",
    "session_name",
  ]);
  assert.throws(() => expandBatch({ ...batch, context: [] }), InvalidArgumentError);
});

// The JSON ingest fixtures that a valid wire-v2 message can also express (the rest test
// per-event rejection, RFC3339 parsing or context-key rules that belong to the JSON endpoint).
const JSON_COUNTERPARTS = [
  "single-required-context",
  "custom-properties",
  "identify",
  "multi-event-session",
  "default-environment-and-rfc3339",
];

for (const name of JSON_COUNTERPARTS) {
  const fixture = vectors.json_ingest_fixtures.find((entry) => entry.name === name)!;
  Deno.test(`a wire-v2 message expands like the ${name} JSON ingest fixture`, () => {
    const body = fixture.fixture.request.body as {
      context: Record<string, string>;
      events: { event: string; timestamp: number | string; properties?: Record<string, unknown> }[];
    };
    const context = { $environment: "production", ...body.context };
    const batch: WireBatch = {
      baseTimeMs: 0,
      context: Object.entries(context).map(([key, value]) => ({
        id: CONTEXT_KEY_IDS[key],
        value: toWireValue(value),
      })),
      events: body.events.map((event) => ({
        name: event.event,
        timestampMs: typeof event.timestamp === "number"
          ? event.timestamp
          : Date.parse(event.timestamp),
        properties: Object.entries(event.properties ?? {}).map(([key, value]) => ({
          key,
          value: toWireValue(value),
        })),
      })),
    };
    batch.baseTimeMs = batch.events[0].timestampMs;
    const expanded: ExpandedEvent[] = expandBatch(decodeMessage(encodeMessage(batch)));
    assert.deepEqual(expanded, fixture.fixture.expected_expanded_events);
  });
}
