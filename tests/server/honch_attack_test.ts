/**
 * Attacks on Honch capture, replayed from the findings of issue 12: a small
 * message whose references to one large string expand without limit (the
 * expansion bomb), and thousands of first frames of multi-frame uploads that
 * would fill the disk. Each test asserts the bounded answer: the status the
 * Honch client treats as final or retryable, the time taken and what the
 * store kept.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import {
  chunk,
  frame,
  KEY,
  makeServer,
  postFrame,
  removeDb,
  uvarint,
} from "./_honch_routes_fixtures.ts";

const ADDRESS = "203.0.113.7";

/** The UTF-8 bytes of a string table entry, length first. */
function entry(text: string): number[] {
  const bytes = new TextEncoder().encode(text);
  return [...uvarint(bytes.length), ...bytes];
}

/**
 * A compact message of one event whose property `k` is an array repeating a
 * reference to one 4 KiB string `items` times: 2 bytes per item on the wire,
 * 4 KiB each once expanded.
 */
function bombMessage(items: number): Uint8Array {
  const strings = [
    "user-1",
    "device-1",
    "model-x",
    "1.0.0",
    "posix",
    "0.3.1",
    "production",
    "boom",
    "k",
    "x".repeat(4096),
  ];
  const bytes: number[] = [2, 1, 1, ...uvarint(1_700_000_000_000)];
  bytes.push(...uvarint(strings.length));
  for (const text of strings) bytes.push(...entry(text));
  // Context ids 1..7, each a string reference (tag 0x07) to entries 0..6.
  bytes.push(7);
  for (let id = 1; id <= 7; id++) bytes.push(id, 0x07, id - 1);
  // One event: name entry 7, time delta 0, one property keyed by entry 8 (ref 8*2+1).
  bytes.push(1, 7, 0, 1, 17, 0x09, ...uvarint(items));
  for (let index = 0; index < items; index++) bytes.push(0x07, 9);
  return new Uint8Array(bytes);
}

function databaseBytes(path: string): number {
  let total = 0;
  for (const suffix of ["", "-wal"]) {
    try {
      total += Deno.statSync(path + suffix).size;
    } catch {
      // Not there: nothing written.
    }
  }
  return total;
}

Deno.test("a 64 KB frame that expands to over 100 MB is refused with 413 without being stored", async () => {
  const message = bombMessage(30_000);
  const [single] = chunk(message, 1, []);
  assert.ok(single.length <= 65_536, `frame of ${single.length} bytes`);
  const { server } = makeServer({ clientAddress: () => ADDRESS });
  const rssBefore = Deno.memoryUsage().rss;
  const started = performance.now();
  const response = await postFrame(server, single);
  const elapsed = performance.now() - started;
  const text = await response.text();
  const body = text === "" ? {} : JSON.parse(text);
  const grown = Deno.memoryUsage().rss - rssBefore;
  console.log(
    `bomb: ${single.length}-byte frame answered ${response.status} in ${elapsed.toFixed(0)} ms, ` +
      `rss grew ${(grown / 1_048_576).toFixed(1)} MiB`,
  );
  assert.equal(response.status, 413, JSON.stringify(body));
  assert.equal(body.error, "expansion_too_large");
  assert.ok(elapsed < 500, `took ${elapsed} ms`);
  const read = await server.fetch(
    new Request(`http://x/api/honch/events?project_key=${KEY}`, {
      headers: { authorization: "Bearer admin-key-for-tests" },
    }),
  );
  assert.deepEqual((await read.json()).events, []);
  await server.close();
});

Deno.test("a bomb cut into frames is refused with 413 and its partial upload discarded", async () => {
  const message = bombMessage(40_000);
  const frames = chunk(message, 2, [30_000, 60_000]);
  const { server } = makeServer({ clientAddress: () => ADDRESS });
  const answers: number[] = [];
  for (const piece of frames.slice(0, -1)) {
    const response = await postFrame(server, piece, { "x-honch-stream-id": "bomb" });
    answers.push(response.status);
    await response.body?.cancel();
  }
  const started = performance.now();
  const last = await postFrame(server, frames.at(-1)!, { "x-honch-stream-id": "bomb" });
  const elapsed = performance.now() - started;
  const text = await last.text();
  const body = text === "" ? {} : JSON.parse(text);
  assert.deepEqual(answers, [202, 202]);
  assert.equal(last.status, 413, JSON.stringify(body));
  assert.equal(body.error, "expansion_too_large");
  assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  // The partial went with the refusal: a retried final frame finds no upload (409 from offset 0).
  const again = await postFrame(server, frames.at(-1)!, { "x-honch-stream-id": "bomb" });
  assert.equal(again.status, 409);
  assert.equal((await again.json()).error, "unknown_upload");
  await server.close();
});

Deno.test("2,000 first frames of multi-frame uploads are stopped by the partial-upload quota with 429 and Retry-After", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  await removeDb(path);
  const store = new SqliteStore(path);
  const { server } = makeServer({ store, clientAddress: () => ADDRESS });
  const payload = new Uint8Array(32_768).fill(0x61);
  const counts = new Map<number, number>();
  let retryAfter: string | null = null;
  const started = performance.now();
  for (let index = 0; index < 2000; index++) {
    const init = frame({
      messageId: index + 1,
      continuation: false,
      more: true,
      totalLength: 65_536,
      payload,
    });
    const response = await postFrame(server, init, { "x-honch-stream-id": `s-${index}` });
    counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
    if (response.status === 429) retryAfter ??= response.headers.get("retry-after");
    await response.body?.cancel();
  }
  const elapsed = performance.now() - started;
  await server.close();
  const written = databaseBytes(path);
  await removeDb(path);
  console.log(
    `disk fill: ${JSON.stringify(Object.fromEntries(counts))} in ${elapsed.toFixed(0)} ms, ` +
      `database ${(written / 1_048_576).toFixed(1)} MiB`,
  );
  const stored = counts.get(202) ?? 0;
  assert.ok(stored > 0 && stored <= 64, `${stored} partial uploads opened`);
  assert.equal(counts.get(429), 2000 - stored);
  assert.ok(retryAfter !== null && Number(retryAfter) >= 1, `Retry-After ${retryAfter}`);
  assert.ok(written < 16 * 1_048_576, `database of ${written} bytes`);
  assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
});
