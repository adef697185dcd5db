/**
 * Honch capture of wire-v2 frames on the reference server: every wire and
 * coredump fixture, duplicate and conflicting frames, CRC failures and the
 * 422 of an undecodable message.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hex } from "@scure/base";
import { encodeMessage } from "../../src/honch/wire_v2.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { sha256Hex } from "../../src/server/_context.ts";
import {
  chunk,
  context,
  errorOf,
  expectedFromDecoded,
  fixture,
  KEY,
  makeServer,
  postFrame,
  status,
  storedEvents,
  vectors,
} from "./_honch_routes_fixtures.ts";

Deno.test("the frame builder of these tests reproduces the fixture frames", () => {
  const entry = fixture("duplicate-continuation");
  const message = hex.decode(entry.compact_message_hex);
  const frames = chunk(message, entry.input.message_id, [37, 74]);
  assert.equal(hex.encode(frames[0]), entry.fixture.frames[0].hex);
  assert.equal(hex.encode(frames[1]), entry.fixture.frames[1].hex);
  const single = fixture("single-required-context");
  const [only] = chunk(hex.decode(single.compact_message_hex), single.input.message_id, []);
  assert.equal(hex.encode(only), single.fixture.frames[0].hex);
});

for (const entry of vectors.wire_v2_fixtures) {
  Deno.test(`wire-v2 fixture '${entry.name}' answers its expected codes and stores its events`, async () => {
    const { server } = makeServer();
    const expected = entry.fixture.expected_capture_response_code;
    assert.equal(
      vectors.spec_tables.conformance_fixture_expectations.expected_capture_response_code[
        entry.name
      ],
      expected,
    );
    const frames = entry.fixture.frames;
    for (const [index, item] of frames.entries()) {
      const response = await postFrame(server, item.hex, { "x-honch-stream-id": "fixture-stream" });
      const want = index === frames.length - 1 ? expected : 202;
      if (want === 204) {
        assert.equal(response.status, 204, `${entry.name} frame ${index}`);
        assert.equal(await response.text(), "");
      } else {
        const body = await errorOf(response, want);
        if (want === 202) assert.equal(body.status, "chunk_stored");
      }
    }
    assert.deepEqual(await storedEvents(server), entry.fixture.expanded_event_json);
    await server.close();
  });
}

Deno.test("the duplicate continuation is taken once and the missing final frame completes the message", async () => {
  const entry = fixture("duplicate-continuation");
  const message = hex.decode(entry.compact_message_hex);
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "dup-stream" };
  const received: unknown[] = [];
  for (const item of entry.fixture.frames) {
    received.push((await errorOf(await postFrame(server, item.hex, headers), 202)).received);
  }
  // The duplicate appended nothing: the byte count stays where the first copy left it.
  assert.deepEqual(received, [37, 74, 74]);
  const final = chunk(message, entry.input.message_id, [37, 74])[2];
  assert.equal(await status(await postFrame(server, final, headers)), 204);
  assert.deepEqual(await storedEvents(server), expectedFromDecoded(entry));
  await server.close();
});

Deno.test("a duplicate frame with other bytes at a stored offset is answered 409", async () => {
  const entry = fixture("duplicate-continuation");
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "dup-stream" };
  await status(await postFrame(server, entry.fixture.frames[0].hex, headers));
  await status(await postFrame(server, entry.fixture.frames[1].hex, headers));
  const altered = hex.decode(entry.fixture.frames[1].hex);
  altered[altered.length - 1] ^= 0xff;
  const body = await errorOf(await postFrame(server, altered, headers), 409);
  assert.equal(body.error, "frame_conflict");
  await server.close();
});

Deno.test("the CRC failure fixture is refused with 400 before decoding and stores nothing", async () => {
  const entry = fixture("crc-failure");
  const { server } = makeServer();
  const body = await errorOf(await postFrame(server, entry.fixture.frames[0].hex), 400);
  assert.equal(body.error, "bad_crc");
  assert.deepEqual(await storedEvents(server), []);
  await server.close();
});

Deno.test("a multi-frame CRC failure drops the partial, so a retry from offset 0 succeeds", async () => {
  const entry = fixture("single-custom-properties");
  const message = hex.decode(entry.compact_message_hex);
  const frames = chunk(message, 77, [40, 90]);
  const corrupt = frames[2].slice();
  corrupt[corrupt.length - 1] ^= 0x01;
  const { server } = makeServer();
  const headers = { "x-honch-stream-id": "crc-stream" };
  assert.equal(await status(await postFrame(server, frames[0], headers)), 202);
  assert.equal(await status(await postFrame(server, frames[1], headers)), 202);
  assert.equal((await errorOf(await postFrame(server, corrupt, headers), 400)).error, "bad_crc");
  assert.deepEqual(await storedEvents(server), []);
  for (const [index, item] of frames.entries()) {
    assert.equal(await status(await postFrame(server, item, headers)), index < 2 ? 202 : 204);
  }
  assert.deepEqual(await storedEvents(server), entry.fixture.expanded_event_json);
  await server.close();
});

Deno.test("a bytes property is refused with 422 as the value-types fixture expects", async () => {
  const message = encodeMessage({
    baseTimeMs: 1_700_000_000_000,
    context: context(),
    events: [{
      name: "blob",
      timestampMs: 1_700_000_000_000,
      properties: [{ key: "raw", value: { type: "bytes", value: new Uint8Array([0xde, 0xad]) } }],
    }],
  });
  const { server } = makeServer();
  const [single] = chunk(message, 9, []);
  const body = await errorOf(await postFrame(server, single), 422);
  assert.equal(body.error, "invalid_message");
  assert.equal(
    vectors.spec_tables.conformance_fixture_expectations.expected_capture_response_code[
      "value-types"
    ],
    422,
  );
  assert.deepEqual(await storedEvents(server), []);
  await server.close();
});

for (const entry of vectors.coredump_fixtures) {
  Deno.test(`coredump fixture '${entry.name}' is stored as a blob`, async () => {
    const store = new SqliteStore(":memory:");
    const { server } = makeServer({ store });
    const frames = entry.fixture.frames;
    for (const [index, item] of frames.entries()) {
      const response = await postFrame(server, item.hex, {
        "x-honch-stream-id": entry.input.stream_id,
      });
      assert.equal(await status(response), index < frames.length - 1 ? 202 : 204);
    }
    const blobs = await store.listHonchBlobs(sha256Hex(KEY), 10);
    assert.equal(blobs.length, 1);
    assert.equal(hex.encode(blobs[0].bytes), entry.fixture.blob_hex);
    assert.deepEqual(blobs[0].key, {
      projectKeyHash: sha256Hex(KEY),
      streamId: entry.input.stream_id,
      sourceType: 1,
      messageId: entry.input.message_id,
    });
    assert.deepEqual(await storedEvents(server), []);
    await server.close();
  });
}
