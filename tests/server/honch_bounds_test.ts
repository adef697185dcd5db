/**
 * The bounds of Honch capture besides the attacks themselves: the options
 * that set them, the quota of each scope, the JSON ingest expansion, and an
 * older SQLite database taking the per-address quota.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { createServer } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import {
  errorOf,
  frame,
  makeServer,
  postFrame,
  postJson,
  removeDb,
} from "./_honch_routes_fixtures.ts";

function init(messageId: number, totalLength = 8192): Uint8Array {
  return frame({
    messageId,
    continuation: false,
    more: true,
    totalLength,
    payload: new Uint8Array(16),
  });
}

Deno.test("the expansion and quota options are checked when the server is created", () => {
  const refused = (honch: Record<string, unknown>, field: string) =>
    assert.throws(
      () => createServer({ honch }),
      (error) => error instanceof InvalidArgumentError && error.argument === `honch.${field}`,
    );
  refused({ maxExpansionRatio: 0 }, "maxExpansionRatio");
  refused({ maxExpandedBytes: 100 }, "maxExpandedBytes");
  refused({ maxExpandedBytes: 65_536, maxExpandedEventBytes: 65_537 }, "maxExpandedEventBytes");
  refused({ partialsPerStream: { count: 0 } }, "partialsPerStream.count");
  // A byte quota below the largest message would refuse that message forever.
  refused(
    { maxMessageBytes: 65_536, partialsPerAddress: { bytes: 65_535 } },
    "partialsPerAddress.bytes",
  );
  refused({ partialsPerProject: "many" }, "partialsPerProject");
  refused({ duplicateWindowMs: 0 }, "duplicateWindowMs");
});

Deno.test("each partial-upload scope refuses with 429 once full, and an expired upload frees its place", async () => {
  let address = "198.51.100.1";
  const { server, clock } = makeServer({
    clientAddress: () => address,
    honch: {
      maxMessageBytes: 8192,
      partialTtlMs: 30_000,
      partialsPerStream: { count: 2 },
      partialsPerAddress: { count: 3 },
      partialsPerProject: { count: 4, bytes: 40_000 },
    },
  });
  const post = (messageId: number, stream: string) =>
    postFrame(server, init(messageId), { "x-honch-stream-id": stream });
  assert.equal((await post(1, "a")).status, 202);
  assert.equal((await post(2, "a")).status, 202);
  const stream = await post(3, "a");
  assert.equal(stream.headers.get("retry-after"), "30");
  assert.equal((await errorOf(stream, 429)).scope, "stream");
  // A repeated init frame of an open upload is no new upload.
  assert.equal((await post(2, "a")).status, 202);
  assert.equal((await post(3, "b")).status, 202);
  assert.equal((await errorOf(await post(4, "b"), 429)).scope, "address");
  address = "198.51.100.2";
  assert.equal((await post(4, "c")).status, 202);
  // 4 partials of 8192 declared bytes: a fifth passes neither the count nor the 40,000 bytes.
  assert.equal((await errorOf(await post(5, "d"), 429)).scope, "project");
  clock.time += 30_000;
  assert.equal((await post(5, "d")).status, 202);
  await server.close();
});

Deno.test("a JSON batch whose context copied into every event passes the bounds is refused with 413", async () => {
  const { server } = makeServer({ honch: { maxExpandedBytes: 1_048_576 } });
  const long = "d".repeat(4096);
  const context = {
    distinct_id: long,
    $device_id: long,
    $device_model: long,
    $firmware_version: long,
    $sdk_platform: long,
    $sdk_version: long,
  };
  const events = Array.from({ length: 500 }, () => ({ event: "e", timestamp: 1 }));
  const refused = await postJson(server, { context, events });
  assert.equal((await errorOf(refused, 413)).error, "expansion_too_large");
  const fine = await postJson(server, { context, events: events.slice(0, 2) });
  assert.equal((await errorOf(fine, 200)).accepted, 2);
  await server.close();
});

Deno.test("a SQLite database made before the per-address quota gains its column and counts", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  const old = new DatabaseSync(path);
  old.exec(`CREATE TABLE honch_partials (
    project_key_hash TEXT NOT NULL, stream_id TEXT NOT NULL, source_type INTEGER NOT NULL,
    message_id INTEGER NOT NULL, total_length INTEGER NOT NULL, received INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (project_key_hash, stream_id, source_type, message_id)) WITHOUT ROWID`);
  old.exec("INSERT INTO honch_partials VALUES ('p', 's', 0, 1, 100, 10, 1000)");
  old.close();
  const store = new SqliteStore(path);
  const key = { projectKeyHash: "p", streamId: "s", sourceType: 0, messageId: 2 };
  await store.openHonchPartial(key, {
    totalLength: 50,
    payload: new Uint8Array(5),
    now: 0,
    expiresAt: 1000,
    address: "192.0.2.1",
  });
  assert.deepEqual(await store.honchPartialUsage({ ...key, address: "192.0.2.1" }, 1), {
    project: { count: 2, bytes: 150 },
    stream: { count: 2, bytes: 150 },
    address: { count: 1, bytes: 50 },
  });
  await store.close();
  await removeDb(path);
});
