/**
 * Multi-frame reassembly on the Honch capture routes: split messages, a
 * restart between frames, retries, collisions, offset gaps and the expiry of
 * partial uploads.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hex } from "@scure/base";
import { encodeMessage } from "../../src/honch/wire_v2.ts";
import { createServer } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import {
  ADMIN,
  chunk,
  context,
  crc16,
  errorOf,
  fixture,
  frame,
  KEY,
  makeServer,
  postFrame,
  removeDb,
  status,
  storedEvents,
} from "./_honch_routes_fixtures.ts";

Deno.test("a float and nested property message split across frames is stored as one event", async () => {
  const message = encodeMessage({
    baseTimeMs: 1_700_000_000_000,
    context: context(),
    events: [{
      name: "sample",
      timestampMs: 1_700_000_000_250,
      properties: [
        { key: "ratio", value: { type: "float64", value: 0.5 } },
        {
          key: "nested",
          value: {
            type: "map",
            entries: [{ key: "k", value: { type: "array", items: [{ type: "int", value: -3 }] } }],
          },
        },
      ],
    }],
  });
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "split-stream" };
  const frames = chunk(message, 12, [1, 50, message.length - 1]);
  for (const [index, item] of frames.entries()) {
    assert.equal(await status(await postFrame(server, item, headers)), index < 3 ? 202 : 204);
  }
  const [stored] = await storedEvents(server) as { event: string; properties: object }[];
  assert.equal(stored.event, "sample");
  assert.deepEqual(
    { ...stored.properties },
    {
      $device_id: "device-1",
      $device_model: "model-x",
      $environment: "production",
      $firmware_version: "1.0.0",
      $sdk_platform: "posix",
      $sdk_version: "0.3.1",
      ratio: 0.5,
      nested: { k: [-3] },
    },
  );
  await server.close();
});

Deno.test("a restart between frames keeps the partial upload in the SQLite file", async () => {
  const entry = fixture("single-custom-properties");
  const message = hex.decode(entry.compact_message_hex);
  const frames = chunk(message, 41, [60, 120]);
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    const headers = { "x-honch-stream-id": "restart-stream" };
    const first = createServer({ store: new SqliteStore(path), honch: { projectKeys: [KEY] } });
    assert.equal(await status(await postFrame(first, frames[0], headers)), 202);
    assert.equal(await status(await postFrame(first, frames[1], headers)), 202);
    await first.close();

    const second = createServer({
      store: new SqliteStore(path),
      adminKey: ADMIN,
      honch: { projectKeys: [KEY] },
    });
    assert.equal(await status(await postFrame(second, frames[2], headers)), 204);
    assert.deepEqual(await storedEvents(second), entry.fixture.expanded_event_json);
    await second.close();
  } finally {
    await removeDb(path);
  }
});

Deno.test("a retried complete message is stored once and answered 204 again", async () => {
  const single = fixture("single-required-context");
  const multi = fixture("single-custom-properties");
  const frames = chunk(hex.decode(multi.compact_message_hex), 5, [70]);
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "retry-stream" };
  for (let attempt = 0; attempt < 2; attempt++) {
    assert.equal(await status(await postFrame(server, single.fixture.frames[0].hex, headers)), 204);
    assert.equal(await status(await postFrame(server, frames[0], headers)), 202);
    assert.equal(await status(await postFrame(server, frames[1], headers)), 204);
  }
  assert.deepEqual(await storedEvents(server), [
    ...single.fixture.expanded_event_json,
    ...multi.fixture.expanded_event_json,
  ]);
  // The same message id on another stream is another message.
  await status(await postFrame(server, single.fixture.frames[0].hex, { "x-honch-stream-id": "b" }));
  assert.equal((await storedEvents(server)).length, 3);
  await server.close();
});

Deno.test("other bytes under a stored message id are a collision answered 409", async () => {
  const one = fixture("single-required-context");
  const other = fixture("single-custom-properties");
  const { server } = makeServer();
  assert.equal(await status(await postFrame(server, one.fixture.frames[0].hex)), 204);
  const [sameId] = chunk(hex.decode(other.compact_message_hex), one.input.message_id, []);
  const body = await errorOf(await postFrame(server, sameId), 409);
  assert.equal(body.error, "message_collision");
  assert.equal((await storedEvents(server)).length, 1);
  await server.close();
});

Deno.test("offset gaps, unknown uploads and mismatched lengths get the spec's answers", async () => {
  const entry = fixture("single-custom-properties");
  const message = hex.decode(entry.compact_message_hex);
  const frames = chunk(message, 21, [30, 60, 90]);
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "gap-stream" };
  const unknown = await errorOf(await postFrame(server, frames[1], headers), 409);
  assert.equal(unknown.error, "unknown_upload");
  assert.equal(await status(await postFrame(server, frames[0], headers)), 202);
  const gap = await errorOf(await postFrame(server, frames[2], headers), 409);
  assert.equal(gap.error, "offset_gap");
  assert.equal(gap.expected_offset, 30);
  const short = frame({
    messageId: 21,
    continuation: true,
    more: false,
    offset: 30,
    payload: message.subarray(30, 40),
    crc: crc16(message),
  });
  assert.equal(
    (await errorOf(await postFrame(server, short, headers), 400)).error,
    "length_mismatch",
  );
  // A length mismatch drops the partial: the retry starts over from offset 0.
  for (const [index, item] of frames.entries()) {
    assert.equal(await status(await postFrame(server, item, headers)), index < 3 ? 202 : 204);
  }
  const noStream = await errorOf(await postFrame(server, frames[0]), 400);
  assert.equal(noStream.error, "missing_stream_id");
  await server.close();
});

Deno.test("a partial upload expires after partialTtlMs", async () => {
  const entry = fixture("single-custom-properties");
  const frames = chunk(hex.decode(entry.compact_message_hex), 3, [50]);
  const { server, clock } = makeServer({ honch: { partialTtlMs: 60_000 } });
  const headers = { "x-honch-stream-id": "ttl-stream" };
  assert.equal(await status(await postFrame(server, frames[0], headers)), 202);
  clock.time += 60_001;
  const late = await errorOf(await postFrame(server, frames[1], headers), 409);
  assert.equal(late.error, "unknown_upload");
  await server.close();
});
