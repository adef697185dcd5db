/**
 * How the server reads a request body (src/server/_body_deadline.ts): in
 * small pieces through a BYOB reader where the body is a byte stream, as it
 * comes otherwise, and, at the deadline, by releasing the reader rather than
 * cancelling the body. Both choices were measured under the slow-connection
 * attack of issue 12 (a pending 64 KiB read costs ~200 KB per connection in
 * Deno 2.9, and a cancelled pending read is never freed).
 *
 * @module
 */

import assert from "node:assert/strict";
import { TimeoutError } from "../../src/core/errors.ts";
import {
  openChunkReader,
  readBeforeDeadline,
  stampBodyDeadline,
} from "../../src/server/_body_deadline.ts";

/** Reads a chunk reader to its end. */
async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const reader = openChunkReader(body);
  const chunks: Uint8Array[] = [];
  // At most one chunk per byte sent, and the tests send 10,000
  for (let i = 0; i < 10_001; i++) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
  throw new Error("The body never ended");
}

Deno.test("a byte-stream body is read in pieces of at most 4 KiB that stay intact after later reads", async () => {
  const sent = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);
  const body = new ReadableStream<Uint8Array>({
    type: "bytes",
    start(controller) {
      controller.enqueue(sent.slice());
      controller.close();
    },
  });
  const chunks = await readAll(body);
  assert.deepEqual(chunks.map((chunk) => chunk.byteLength), [4096, 4096, 1808]);
  const joined = new Uint8Array(10_000);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  assert.deepEqual(joined, sent);
});

Deno.test("a body that is not a byte stream is read as it comes", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(10_000).fill(7));
      controller.close();
    },
  });
  const chunks = await readAll(body);
  assert.deepEqual(chunks.map((chunk) => chunk.byteLength), [10_000]);
  assert.equal(chunks[0][9_999], 7);
});

Deno.test("at the deadline a pending read is given up without cancelling the body", async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    type: "bytes",
    pull: () => new Promise(() => {}),
    cancel() {
      cancelled = true;
    },
  });
  const request = new Request("http://127.0.0.1/", { method: "POST" });
  stampBodyDeadline(request, 1);
  const reader = openChunkReader(body);
  await assert.rejects(readBeforeDeadline(request, reader), TimeoutError);
  assert.equal(cancelled, false);
  assert.equal(body.locked, false);
});
