import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";

const SECRET = "s".repeat(32);
const USER = "a".repeat(64);
const DEVICE = "b".repeat(64);
const COMMON = {
  plugin_id: "pill_kstati",
  version: "1.0.0",
  client_name: "exteraGram",
  client_version: "12.3.1",
  user_hash: USER,
  device_fingerprint: DEVICE,
};
const encoder = new TextEncoder();

/** An independent oracle: the first lowercase hex counter meeting the difficulty. */
function solve(challenge: string, difficulty: number): string {
  const zeros = "0".repeat(difficulty);
  for (let n = 0;; n++) {
    const nonce = n.toString(16);
    if (hex.encode(sha256(encoder.encode(`${challenge}:${nonce}`))).startsWith(zeros)) return nonce;
  }
}

class Clock {
  time = Date.UTC(2025, 0, 15, 12);
  readonly now = (): number => this.time;
}

function makeServer(options: ServerOptions = {}): { server: EdgewireServer; clock: Clock } {
  const clock = new Clock();
  const server = createServer({ secret: SECRET, difficulty: 1, now: clock.now, ...options });
  return { server, clock };
}

function post(
  server: EdgewireServer,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return server.fetch(
    new Request(`http://x${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

async function expectJson(
  response: Response,
  status: number,
): Promise<Record<string, unknown>> {
  const body = await response.json();
  assert.equal(response.status, status, JSON.stringify(body));
  return body;
}

async function handshake(
  server: EdgewireServer,
  fields: Record<string, unknown> = COMMON,
  base = "/api/v1",
): Promise<string> {
  const first = await expectJson(await post(server, `${base}/handshake`, fields), 200);
  const challenge = first.pow_challenge as string;
  const nonce = solve(challenge, first.pow_difficulty as number);
  const second = await expectJson(
    await post(server, `${base}/handshake`, {
      ...fields,
      pow_challenge: challenge,
      pow_nonce: nonce,
    }),
    200,
  );
  assert.equal(typeof second.install_token, "string");
  return second.install_token as string;
}

function ping(server: EdgewireServer, token: string, extra: Record<string, unknown> = {}) {
  return post(server, "/api/v1/data", {
    ...COMMON,
    install_token: token,
    timestamp: 1736942400,
    ...extra,
  });
}

function event(server: EdgewireServer, token: string, extra: Record<string, unknown> = {}) {
  return post(server, "/api/v1/event", {
    ...COMMON,
    install_token: token,
    event: "feature_clicked",
    timestamp: 1736942400,
    ...extra,
  });
}

Deno.test("handshake without a solution issues a challenge", async () => {
  const { server } = makeServer({ difficulty: 3 });
  const body = await expectJson(await post(server, "/api/v1/handshake", COMMON), 200);
  assert.equal(body.pow_required, true);
  assert.equal(typeof body.pow_challenge, "string");
  assert.equal(body.pow_difficulty, 3);
  assert.equal(body.install_token, undefined);
  await server.close();
});

Deno.test("a solved handshake issues a long random install token", async () => {
  const { server } = makeServer();
  const first = await handshake(server);
  const second = await handshake(server);
  assert.ok(first.length >= 22);
  assert.notEqual(first, second);
  // The older token stays valid until it expires.
  await expectJson(await ping(server, first), 200);
  await expectJson(await ping(server, second), 200);
  await server.close();
});

Deno.test("the /api alias serves the same routes as /api/v1", async () => {
  const { server } = makeServer();
  const token = await handshake(server, COMMON, "/api");
  const body = await expectJson(
    await post(server, "/api/data", { ...COMMON, install_token: token, timestamp: 1 }),
    200,
  );
  assert.deepEqual(body, { ok: true });
  await server.close();
});

Deno.test("a ping with a missing, unknown or mismatched token is refused with 401", async () => {
  const { server } = makeServer();
  const token = await handshake(server);
  const unknown = await expectJson(await ping(server, "x".repeat(43)), 401);
  assert.deepEqual(unknown, { error: "invalid_install_token" });
  const otherUser = await expectJson(await ping(server, token, { user_hash: "c".repeat(64) }), 401);
  assert.deepEqual(otherUser, { error: "invalid_install_token" });
  const otherPlugin = await expectJson(await ping(server, token, { plugin_id: "other" }), 401);
  assert.deepEqual(otherPlugin, { error: "invalid_install_token" });
  const missing = await expectJson(
    await post(server, "/api/v1/data", { ...COMMON, timestamp: 1 }),
    400,
  );
  assert.equal(missing.field, "install_token");
  await server.close();
});

Deno.test("a ping with a token from another server is refused with 401", async () => {
  const { server: issuer } = makeServer();
  const { server } = makeServer();
  const forged = await handshake(issuer);
  await expectJson(await ping(server, forged), 401);
  await issuer.close();
  await server.close();
});

Deno.test("a ping with an expired token is refused with 401", async () => {
  const { server, clock } = makeServer({ installTokenTtlMs: 60_000 });
  const token = await handshake(server);
  await expectJson(await ping(server, token), 200);
  clock.time += 60_000;
  assert.deepEqual(await expectJson(await ping(server, token), 401), {
    error: "invalid_install_token",
  });
  await server.close();
});

Deno.test("an event before the first ping answers 409, and 200 after it", async () => {
  const { server } = makeServer();
  const token = await handshake(server);
  assert.deepEqual(await expectJson(await event(server, token), 409), {
    error: "metric_not_initialized",
  });
  await expectJson(await ping(server, token), 200);
  assert.deepEqual(await expectJson(await event(server, token, { count: 3 }), 200), { ok: true });
  await server.close();
});

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

Deno.test("a replayed solution is refused with 403 replayed", async () => {
  const { server } = makeServer();
  const first = await expectJson(await post(server, "/api/v1/handshake", COMMON), 200);
  const solved = {
    ...COMMON,
    pow_challenge: first.pow_challenge,
    pow_nonce: solve(first.pow_challenge as string, 1),
  };
  await expectJson(await post(server, "/api/v1/handshake", solved), 200);
  const replay = await expectJson(await post(server, "/api/v1/handshake", solved), 403);
  assert.deepEqual(replay, { error: "invalid_pow", reason: "replayed" });
  await server.close();
});

Deno.test("a forged challenge is refused with 403 forged", async () => {
  const { server } = makeServer();
  const { server: stranger } = makeServer({ secret: "t".repeat(32) });
  // Signed with another secret.
  const foreign = await expectJson(await post(stranger, "/api/v1/handshake", COMMON), 200);
  const challenge = foreign.pow_challenge as string;
  const forged = await expectJson(
    await post(server, "/api/v1/handshake", {
      ...COMMON,
      pow_challenge: challenge,
      pow_nonce: solve(challenge, 1),
    }),
    403,
  );
  assert.deepEqual(forged, { error: "invalid_pow", reason: "forged" });
  // Issued for another user of the same plugin.
  const own = await expectJson(await post(server, "/api/v1/handshake", COMMON), 200);
  const stolen = await expectJson(
    await post(server, "/api/v1/handshake", {
      ...COMMON,
      user_hash: "c".repeat(64),
      pow_challenge: own.pow_challenge,
      pow_nonce: solve(own.pow_challenge as string, 1),
    }),
    403,
  );
  assert.equal(stolen.reason, "forged");
  await server.close();
  await stranger.close();
});

Deno.test("an expired challenge is refused with 403 expired", async () => {
  const { server, clock } = makeServer({ challengeTtlMs: 10_000 });
  const first = await expectJson(await post(server, "/api/v1/handshake", COMMON), 200);
  clock.time += 11_000;
  const expired = await expectJson(
    await post(server, "/api/v1/handshake", {
      ...COMMON,
      pow_challenge: first.pow_challenge,
      pow_nonce: solve(first.pow_challenge as string, 1),
    }),
    403,
  );
  assert.deepEqual(expired, { error: "invalid_pow", reason: "expired" });
  await server.close();
});

Deno.test("a malformed challenge or nonce is refused with 403 malformed", async () => {
  const { server } = makeServer();
  const answer = await expectJson(
    await post(server, "/api/v1/handshake", { ...COMMON, pow_challenge: "x", pow_nonce: "zz" }),
    403,
  );
  assert.deepEqual(answer, { error: "invalid_pow", reason: "malformed" });
  await server.close();
});

Deno.test("the address limit answers 429 with Retry-After, then allows after time passes", async () => {
  const { server, clock } = makeServer({
    rateLimit: { address: { capacity: 2, refillPerSecond: 0.5 } },
    clientAddress: (request) => request.headers.get("x-test-ip") ?? undefined,
  });
  const from = (ip: string) => post(server, "/api/v1/handshake", COMMON, { "x-test-ip": ip });
  await expectJson(await from("10.0.0.1"), 200);
  await expectJson(await from("10.0.0.1"), 200);
  const limited = await from("10.0.0.1");
  assert.deepEqual(await expectJson(limited, 429), { error: "rate_limited" });
  assert.equal(limited.headers.get("retry-after"), "2");
  // Other addresses keep their own bucket.
  await expectJson(await from("10.0.0.2"), 200);
  clock.time += 1999;
  await expectJson(await from("10.0.0.1"), 429);
  clock.time += 1;
  await expectJson(await from("10.0.0.1"), 200);
  await server.close();
});

Deno.test("the install limit answers 429 per install token, not per address", async () => {
  const { server, clock } = makeServer({
    rateLimit: { install: { capacity: 3, refillPerSecond: 1 } },
  });
  // Handshakes are charged to the plugin and user hash, pings to the token.
  const token = await handshake(server);
  await expectJson(await ping(server, token), 200);
  await expectJson(await ping(server, token), 200);
  await expectJson(await ping(server, token), 200);
  const limited = await ping(server, token);
  await expectJson(limited, 429);
  assert.equal(limited.headers.get("retry-after"), "1");
  clock.time += 1000;
  await expectJson(await ping(server, token), 200);
  await server.close();
});

Deno.test("stats require the admin key and return installs, daily actives and events", async () => {
  const adminKey = "k".repeat(40);
  const { server, clock } = makeServer({ adminKey });
  const get = (path: string, authorization?: string) =>
    server.fetch(
      new Request(`http://x${path}`, {
        headers: authorization === undefined ? {} : { authorization },
      }),
    );
  const token = await handshake(server);
  const other = { ...COMMON, user_hash: "d".repeat(64) };
  const otherToken = await handshake(server, other);
  await expectJson(await ping(server, token), 200);
  await expectJson(await ping(server, token), 200);
  await expectJson(await event(server, token, { count: 2 }), 200);
  await expectJson(await event(server, token), 200);
  clock.time += 86_400_000;
  await expectJson(await ping(server, token), 200);
  await expectJson(
    await post(server, "/api/v1/data", { ...other, install_token: otherToken, timestamp: 1 }),
    200,
  );
  await expectJson(await event(server, token, { version: "1.1.0", event: "opened" }), 200);

  assert.deepEqual(await expectJson(await get("/api/v1/stats/pill_kstati"), 401), {
    error: "unauthorized",
  });
  await expectJson(await get("/api/v1/stats/pill_kstati", "Bearer wrong"), 401);
  await expectJson(await get("/api/v1/stats/pill_kstati", `Basic ${adminKey}`), 401);
  const stats = await expectJson(await get("/api/stats/pill_kstati", `Bearer ${adminKey}`), 200);
  assert.deepEqual(stats, {
    plugin_id: "pill_kstati",
    installs: 2,
    daily_actives: [{ day: "2025-01-15", count: 1 }, { day: "2025-01-16", count: 2 }],
    events: [
      { event: "feature_clicked", version: "1.0.0", count: 3 },
      { event: "opened", version: "1.1.0", count: 1 },
    ],
  });
  const empty = await expectJson(await get("/api/v1/stats/nobody", `bearer ${adminKey}`), 200);
  assert.deepEqual(empty, { plugin_id: "nobody", installs: 0, daily_actives: [], events: [] });
  await server.close();

  const { server: disabled } = makeServer();
  const answer = await disabled.fetch(
    new Request("http://x/api/v1/stats/pill_kstati", {
      headers: { authorization: `Bearer ${adminKey}` },
    }),
  );
  assert.deepEqual(await expectJson(answer, 403), { error: "admin_disabled" });
  await disabled.close();
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
