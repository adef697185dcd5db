/**
 * The limits of the Honch capture routes: project keys, aliases, content
 * types, sizes, malformed frames, and random bytes never getting a 5xx.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { hex } from "@scure/base";
import { createServer } from "../../src/server/mod.ts";
import {
  CHUNK,
  chunk,
  crc16,
  errorOf,
  fixture,
  frame,
  KEY,
  makeServer,
  postFrame,
  postJson,
  status,
  storedEvents,
} from "./_honch_routes_fixtures.ts";

Deno.test("a missing or wrong project key is refused with 401, as is any key when none is set", async () => {
  const single = fixture("single-required-context").fixture.frames[0].hex;
  const { server } = makeServer();
  const missing = await postFrame(server, single, { "x-honch-project-key": "" });
  assert.deepEqual(await errorOf(missing, 401), { error: "invalid_project_key" });
  const wrong = await postFrame(server, single, { "x-honch-project-key": "phc_other" });
  assert.deepEqual(await errorOf(wrong, 401), { error: "invalid_project_key" });
  const json = await postJson(server, {}, { "x-honch-project-key": "phc_other" });
  assert.equal(await status(json), 401);
  await server.close();

  const closed = createServer();
  assert.equal(await status(await postFrame(closed, single)), 401);
  await closed.close();
});

Deno.test("the aliases /e and /chunks take frames like /capture", async () => {
  const single = fixture("single-required-context");
  const { server } = makeServer();
  assert.equal(await status(await postFrame(server, single.fixture.frames[0].hex, {}, "/e")), 204);
  const other = chunk(hex.decode(single.compact_message_hex), 99, [])[0];
  assert.equal(await status(await postFrame(server, other, {}, "/chunks")), 204);
  assert.equal((await storedEvents(server)).length, 2);
  await server.close();
});

Deno.test("another content type or a content encoding is refused with 415", async () => {
  const single = fixture("single-required-context").fixture.frames[0].hex;
  const { server } = makeServer();
  const text = await postFrame(server, single, { "content-type": "text/plain" });
  assert.equal((await errorOf(text, 415)).error, "unsupported_media_type");
  const gzip = await postFrame(server, single, { "content-encoding": "gzip" });
  assert.equal((await errorOf(gzip, 415)).error, "unsupported_content_encoding");
  await server.close();
});

Deno.test("an oversized frame or declared message is refused with 413", async () => {
  const { server } = makeServer({ honch: { maxFrameBytes: 4096, maxMessageBytes: 8192 } });
  const big = new Uint8Array(4097);
  big[0] = 0x02;
  assert.equal((await errorOf(await postFrame(server, big), 413)).error, "payload_too_large");
  const init = frame({
    messageId: 1,
    continuation: false,
    more: true,
    totalLength: 8193,
    payload: new Uint8Array(10),
  });
  // Without Content-Length the limit is enforced while streaming.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1000));
      controller.close();
    },
  });
  const streamed = await server.fetch(
    new Request("http://x/capture", {
      method: "POST",
      headers: { "content-type": CHUNK, "x-honch-project-key": KEY },
      body: stream,
    }),
  );
  assert.equal((await errorOf(streamed, 413)).error, "payload_too_large");
  const tooLong = await errorOf(await postFrame(server, init, { "x-honch-stream-id": "s" }), 413);
  assert.equal(tooLong.error, "message_too_large");
  await server.close();
});

Deno.test("malformed frames and messages are refused with 400", async () => {
  const { server } = makeServer();
  const empty = await errorOf(await postFrame(server, new Uint8Array(0)), 400);
  assert.equal(empty.error, "malformed_frame");
  const reservedBit = hex.decode(fixture("single-required-context").fixture.frames[0].hex);
  reservedBit[0] |= 0x80;
  assert.equal((await errorOf(await postFrame(server, reservedBit), 400)).error, "malformed_frame");
  const wrongVersion = hex.decode(fixture("single-required-context").fixture.frames[0].hex);
  wrongVersion[0] = (wrongVersion[0] & ~0x03) | 0x01;
  assert.equal(await status(await postFrame(server, wrongVersion)), 400);
  const reservedSource = frame({
    messageId: 1,
    sourceType: 2,
    continuation: false,
    more: false,
    payload: new Uint8Array([1, 2, 3]),
    crc: crc16(new Uint8Array([1, 2, 3])),
  });
  assert.equal(await status(await postFrame(server, reservedSource)), 400);
  const emptyInit = frame({
    messageId: 1,
    continuation: false,
    more: true,
    totalLength: 10,
    payload: new Uint8Array(0),
  });
  const noProgress = await errorOf(
    await postFrame(server, emptyInit, { "x-honch-stream-id": "s" }),
    400,
  );
  assert.equal(noProgress.error, "malformed_frame");
  const garbage = new Uint8Array([0x09, 0x09, 0x09]);
  const [notAMessage] = chunk(garbage, 2, []);
  assert.equal(
    (await errorOf(await postFrame(server, notAMessage), 400)).error,
    "malformed_message",
  );
  assert.deepEqual(await storedEvents(server), []);
  await server.close();
});

Deno.test("random bytes posted as frames never get a 5xx", async () => {
  const { server } = makeServer({ honch: { maxFrameBytes: 4096 } });
  const single = hex.decode(fixture("single-custom-properties").fixture.frames[0].hex);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        // Valid headers first, so the decoder gets past the first byte.
        fc.tuple(fc.constantFrom(0x02, 0x06, 0x22, 0x42, 0x62), fc.uint8Array({ maxLength: 200 }))
          .map(([header, rest]) => Uint8Array.of(header, ...rest)),
        // A real frame with a few bytes flipped, so decoding reaches the message.
        fc.array(fc.tuple(fc.nat(single.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }).map((flips) => {
          const copy = single.slice();
          for (const [at, mask] of flips) copy[at] ^= mask;
          return copy;
        }),
      ),
      fc.constantFrom("", "fuzz-stream"),
      async (bytes, stream) => {
        const headers: Record<string, string> = stream === ""
          ? {}
          : { "x-honch-stream-id": stream };
        const response = await postFrame(server, bytes, headers);
        await response.body?.cancel();
        assert.ok(response.status < 500, `status ${response.status} for ${hex.encode(bytes)}`);
      },
    ),
    { seed: 20250115, numRuns: 400 },
  );
  await server.close();
});
