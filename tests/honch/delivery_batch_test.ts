/**
 * How the Honch delivery forms batches and uploads: byte-identical single
 * frames, message ids, the int tag of reserved numbers, where a batch ends,
 * oversize events, and messages sent as several frames.
 *
 * @module
 */

import assert from "node:assert/strict";
import { expandBatch } from "../../src/honch/expand.ts";
import { decodeFrame, encodeFrames } from "../../src/honch/frames.ts";
import {
  decodeMessage,
  encodeMessage,
  largestFittingPrefix,
  type WireBatch,
} from "../../src/honch/wire_v2.ts";
import {
  accept,
  batchOf,
  event,
  fixtures,
  harness,
  messageOf,
  SEED,
  T0,
} from "./_delivery_harness.ts";

Deno.test("a single-frame upload is byte-identical to encodeMessage and encodeFrames of the batch", async () => {
  const { delivery, sent, queue } = harness(accept);
  const queued = event({
    properties: { mode: "auto", previous_mode: "auto", samples: 3, tags: ["auto", "hdr"] },
  });
  queue.items.push(queued);
  const step = await delivery.step({ keepalive: true });
  assert.deepEqual(step, { kind: "sent", events: 1 });
  assert.deepEqual(queue.items, []);
  assert.equal(delivery.sent, 1);
  assert.equal(sent.length, 1);
  const message = encodeMessage(batchOf([queued]));
  assert.deepEqual(sent[0].body, encodeFrames(message, { messageId: SEED })[0]);
  assert.equal(sent[0].url, "http://collector.test/base/capture");
  assert.equal(sent[0].headers.get("content-type"), "application/vnd.honch.chunk");
  assert.equal(sent[0].headers.get("x-honch-project-key"), "phc_test");
  assert.equal(sent[0].headers.get("x-honch-stream-id"), "0a1b2c3d");
  assert.equal(sent[0].keepalive, true);
  // The expansion is exactly what the wire fixture expects of the same event.
  const fixture = fixtures.wire_v2_fixtures.find((f) => f.name === "single-custom-properties");
  assert.deepEqual(expandBatch(decodeMessage(message)), fixture?.fixture.expanded_event_json);
});

Deno.test("each new batch takes the next message id, wrapping at 2^32", async () => {
  const { delivery, sent, queue } = harness(accept);
  for (const name of ["first", "second", "third"]) {
    queue.items.push(event({ name }));
    assert.equal((await delivery.step()).kind, "sent");
  }
  assert.deepEqual(sent.map((s) => decodeFrame(s.body).messageId), [0xffff_fffe, 0xffff_ffff, 0]);
});

Deno.test("reserved battery and RSSI numbers are written with the int tag", async () => {
  const { delivery, sent, queue } = harness(accept);
  queue.items.push(event({ properties: { $battery_level: 44, $wifi_rssi: -60 } }));
  await delivery.step();
  const message = messageOf(sent.map((s) => s.body));
  const [decoded] = decodeMessage(message).events;
  assert.deepEqual(decoded.properties, [
    { key: "$battery_level", value: { type: "int", value: 44 } },
    { key: "$wifi_rssi", value: { type: "int", value: -60 } },
  ]);
  // Reserved id 1 (key 02), tag int (04), ZigZag 44 (58), as the C SDK writes it.
  const hex = Array.from(message, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.ok(hex.includes("020458"));
});

Deno.test("a batch ends where the distinct id or the session changes and at batchSize", async () => {
  const { delivery, sent, queue } = harness(accept, { batchSize: 2 });
  queue.items.push(
    event({ name: "a1" }),
    event({ name: "a2" }),
    event({ name: "a3" }),
    event({ name: "s1", sessionId: "sess_1" }),
    event({ name: "s2", sessionId: "sess_1" }),
    event({ name: "b1", distinctId: "user-2", sessionId: "sess_1" }),
  );
  const counts: number[] = [];
  for (;;) {
    const step = await delivery.step();
    if (step.kind !== "sent") {
      assert.equal(step.kind, "empty");
      break;
    }
    counts.push(step.events);
  }
  assert.deepEqual(counts, [2, 1, 2, 1]);
  const batches = sent.map((s) => decodeMessage(messageOf([s.body])));
  assert.deepEqual(batches.map((b) => b.events.map((e) => e.name)), [
    ["a1", "a2"],
    ["a3"],
    ["s1", "s2"],
    ["b1"],
  ]);
  const ids = (b: WireBatch) =>
    b.context.map((c) => `${c.id}=${(c.value as { value: string }).value}`);
  assert.ok(!ids(batches[1]).some((c) => c.startsWith("8=")));
  assert.ok(ids(batches[2]).includes("8=sess_1"));
  assert.ok(ids(batches[3]).includes("1=user-2"));
  assert.equal(batches[2].baseTimeMs, T0);
});

Deno.test("a batch is the largest prefix that encodes within 4096 bytes", async () => {
  const { delivery, sent, queue } = harness(accept, { batchSize: 50 });
  // Unique 150-byte strings: the string table passes 2048 bytes before 50 events.
  const events = Array.from(
    { length: 30 },
    (_, i) => event({ timestampMs: T0 + i, properties: { blob: `${i}`.padEnd(150, "x") } }),
  );
  queue.items.push(...events);
  const expected = largestFittingPrefix(batchOf(events));
  assert.ok(expected > 1 && expected < 30);
  const step = await delivery.step();
  assert.deepEqual(step, { kind: "sent", events: expected });
  assert.equal(queue.items.length, 30 - expected);
  const message = messageOf(sent.map((s) => s.body));
  assert.ok(message.length <= 4096);
  assert.deepEqual(message, encodeMessage(batchOf(events.slice(0, expected))));
  assert.throws(() => encodeMessage(batchOf(events.slice(0, expected + 1))));
});

Deno.test("a single event too large for a message is dropped as oversize without a request", async () => {
  const { delivery, sent, queue } = harness(accept);
  const next = event();
  queue.items.push(event({ properties: { dump: new Uint8Array(5000) } }), next);
  const step = await delivery.step();
  assert.deepEqual(step, { kind: "dropped", events: 1, reason: "oversize" });
  assert.equal(sent.length, 0);
  assert.deepEqual(queue.items, [next]);
  assert.deepEqual(queue.dropped, { oversize: 1 });
  // The next batch takes the first message id: the dropped event never had one
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  assert.equal(decodeFrame(sent[0].body).messageId, SEED);
});

Deno.test("a message larger than maxFrameBytes goes as several frames, each non-final one answered 202", async () => {
  const { delivery, sent, queue } = harness(accept, { maxFrameBytes: 64 });
  const events = [event({ properties: { note: "n".repeat(200) } }), event({ name: "two" })];
  queue.items.push(...events);
  const step = await delivery.step();
  assert.deepEqual(step, { kind: "sent", events: 2 });
  const message = encodeMessage(batchOf(events));
  const frames = encodeFrames(message, { messageId: SEED, maxFrameBytes: 64 });
  assert.ok(frames.length >= 4);
  assert.deepEqual(sent.map((s) => s.body), frames);
  assert.ok(sent.every((s) => s.headers.get("x-honch-stream-id") === "0a1b2c3d"));
});
