/**
 * The request bodies the mkStats routes refuse: invalid event names,
 * malformed fields, other content types, oversize bodies, and arbitrary JSON
 * never getting a 5xx.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  COMMON,
  event,
  expectJson,
  handshake,
  makeServer,
  ping,
  post,
} from "./_mkstats_routes_fixtures.ts";

Deno.test("an event with an invalid name is refused with 400 naming the event field", async () => {
  const { server } = makeServer();
  const token = await handshake(server);
  await expectJson(await ping(server, token), 200);
  for (const name of ["", "1abc", "has space", "a".repeat(101), "é", 5]) {
    const body = await expectJson(await event(server, token, { event: name }), 400);
    assert.equal(body.error, "invalid_request");
    assert.equal(body.field, "event");
  }
  await expectJson(await event(server, token, { event: "_a.b:c-d" }), 200);
  await server.close();
});

Deno.test("each malformed body is refused with 400 naming the field, never 500", async () => {
  const { server } = makeServer();
  const token = await handshake(server);
  const data = { ...COMMON, install_token: token, timestamp: 1 };
  const cases: [string, string, string][] = [
    ["/api/v1/handshake", "{", "body"],
    ["/api/v1/handshake", "", "body"],
    ["/api/v1/handshake", "[]", "body"],
    ["/api/v1/handshake", "null", "body"],
    ["/api/v1/handshake", '"text"', "body"],
    ["/api/v1/handshake", "42", "body"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, plugin_id: undefined }), "plugin_id"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, plugin_id: "a/b" }), "plugin_id"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, plugin_id: "p".repeat(129) }), "plugin_id"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, version: 1 }), "version"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, version: "" }), "version"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, client_name: ["x"] }), "client_name"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, client_version: {} }), "client_version"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, user_hash: "A".repeat(64) }), "user_hash"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, user_hash: "a".repeat(63) }), "user_hash"],
    [
      "/api/v1/handshake",
      JSON.stringify({ ...COMMON, device_fingerprint: null }),
      "device_fingerprint",
    ],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, pow_challenge: 7 }), "pow_challenge"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, pow_challenge: "abc" }), "pow_nonce"],
    ["/api/v1/handshake", JSON.stringify({ ...COMMON, pow_nonce: "1" }), "pow_challenge"],
    ["/api/v1/data", JSON.stringify({ ...data, install_token: 5 }), "install_token"],
    ["/api/v1/data", JSON.stringify({ ...data, timestamp: undefined }), "timestamp"],
    ["/api/v1/data", JSON.stringify({ ...data, timestamp: "1" }), "timestamp"],
    ["/api/v1/data", JSON.stringify({ ...data, timestamp: 1.5 }), "timestamp"],
    ["/api/v1/data", JSON.stringify({ ...data, timestamp: -1 }), "timestamp"],
    ["/api/v1/event", JSON.stringify({ ...data, event: "e", count: 0 }), "count"],
    ["/api/v1/event", JSON.stringify({ ...data, event: "e", count: 1_000_001 }), "count"],
    ["/api/v1/event", JSON.stringify({ ...data, event: "e", count: "2" }), "count"],
    ["/api/v1/event", JSON.stringify({ ...data }), "event"],
  ];
  for (const [path, body, field] of cases) {
    const answer = await expectJson(await post(server, path, body), 400);
    assert.equal(answer.error, "invalid_request", `${path} ${body}`);
    assert.equal(answer.field, field, `${path} ${body}`);
    assert.equal(typeof answer.message, "string");
    assert.ok(!String(answer.message).includes(token), "a message must never echo a token");
  }
  const invalidUtf8 = await server.fetch(
    new Request("http://x/api/v1/handshake", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
    }),
  );
  assert.equal((await expectJson(invalidUtf8, 400)).field, "body");
  await server.close();
});

Deno.test("a body that is not JSON by content type is refused with 415", async () => {
  const { server } = makeServer();
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]) {
    const response = await post(server, "/api/v1/handshake", COMMON, { "content-type": type });
    assert.deepEqual(await expectJson(response, 415), { error: "unsupported_media_type" });
  }
  const none = await server.fetch(
    new Request("http://x/api/v1/data", { method: "POST", body: new Uint8Array([0x7b, 0x7d]) }),
  );
  assert.deepEqual(await expectJson(none, 415), { error: "unsupported_media_type" });
  const withCharset = await post(server, "/api/v1/handshake", COMMON, {
    "content-type": "Application/JSON; charset=utf-8",
  });
  await expectJson(withCharset, 200);
  await server.close();
});

Deno.test("an oversize body is refused with 413 whether or not it declares its length", async () => {
  const { server } = makeServer({ bodyLimitBytes: 1024 });
  const big = JSON.stringify({ ...COMMON, padding: "x".repeat(2000) });
  const declared = await post(server, "/api/v1/handshake", big);
  assert.deepEqual(await expectJson(declared, 413), { error: "payload_too_large" });
  // A declared length past the limit is refused before anything is read.
  const lying = await post(server, "/api/v1/handshake", "{}", { "content-length": "99999" });
  assert.deepEqual(await expectJson(lying, 413), { error: "payload_too_large" });

  let pulled = 0;
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(512).fill(0x20));
    },
    cancel() {
      cancelled = true;
    },
  });
  const streamed = await server.fetch(
    new Request("http://x/api/v1/handshake", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: endless,
    }),
  );
  assert.deepEqual(await expectJson(streamed, 413), { error: "payload_too_large" });
  assert.ok(pulled < 10, "the endless body must be cut off, not buffered");
  assert.ok(cancelled);
  await server.close();
});

Deno.test("arbitrary JSON bodies to the mkStats routes never get a 5xx", async () => {
  const { server } = makeServer({
    rateLimit: { install: { capacity: Infinity }, address: { capacity: Infinity } },
  });
  const token = await handshake(server);
  await expectJson(await ping(server, token), 200);
  const plausible = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(...Object.values(COMMON), token, "feature_clicked", 1, 0, -1, 1e300),
  );
  const fields = fc.record(
    {
      plugin_id: plausible,
      version: plausible,
      client_name: plausible,
      client_version: plausible,
      user_hash: plausible,
      device_fingerprint: plausible,
      install_token: plausible,
      timestamp: plausible,
      event: plausible,
      count: plausible,
      pow_challenge: plausible,
      pow_nonce: plausible,
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fields.map((value) => JSON.stringify({ ...COMMON, install_token: token, ...value })),
    fields.map((value) => JSON.stringify(value)),
    fc.string(),
  );
  const path = fc.constantFrom("/api/v1/handshake", "/api/v1/data", "/api/v1/event", "/api/event");
  await fc.assert(
    fc.asyncProperty(path, body, async (route, text) => {
      const response = await post(server, route, text);
      await response.body?.cancel();
      assert.ok(response.status < 500, `${route} ${text} -> ${response.status}`);
    }),
    { numRuns: 400 },
  );
  await server.close();
});
