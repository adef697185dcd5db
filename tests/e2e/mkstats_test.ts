import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/core/storage.ts";
import { MkStatsClient } from "../../src/mkstats/client.ts";
import type { MkStatsClientOptions } from "../../src/mkstats/options.ts";
import { generateDeviceFingerprint, generateUserHash } from "../../src/mkstats/identity.ts";
import { solvePow } from "../../src/pow/solve.ts";
import { recordingFetch, type Running, startServer } from "./_server.ts";

const PLUGIN = "my_plugin";
const TOKEN_KEY = `mkstats:${PLUGIN}:install_token`;

function clientFor(running: Running, extra: Partial<MkStatsClientOptions> = {}): MkStatsClient {
  return new MkStatsClient({
    pluginId: PLUGIN,
    pluginVersion: "1.0.0",
    deviceId: "stable-device-id",
    endpoint: `${running.base}/api`,
    now: () => running.clock.now,
    random: () => 0,
    ...extra,
  });
}

const count = (paths: string[], suffix: string) => paths.filter((p) => p.endsWith(suffix)).length;

Deno.test("a new install handshakes with proof-of-work, pings and counts events on the server", async () => {
  await using running = startServer();
  const recorder = recordingFetch();
  const client = clientFor(running, { fetch: recorder.fetch });
  const token = await client.handshake();
  assert.match(token, /.{16,}/);
  assert.equal(count(recorder.paths, "/handshake"), 2, "challenge, then solution");
  assert.deepEqual(await client.sendPing(), { ok: true });
  assert.deepEqual(await client.trackEvent("feature clicked", 2), { ok: true });
  client.queueEvent("menu_opened");
  client.queueEvent("menu_opened");
  assert.equal(await client.flushEvents(), true);
  const stats = await running.stats(PLUGIN);
  assert.equal(stats.installs, 1);
  assert.deepEqual(stats.daily_actives, [{ day: "2026-11-22", count: 1 }]);
  assert.deepEqual(stats.events, [
    { event: "feature_clicked", version: "1.0.0", count: 2 },
    { event: "menu_opened", version: "1.0.0", count: 2 },
  ]);
});

Deno.test("a restarted client reuses its stored install token instead of handshaking again", async () => {
  await using running = startServer();
  const storage = new MemoryStorage();
  await clientFor(running, { storage }).handshake();
  const recorder = recordingFetch();
  const restarted = clientFor(running, { storage, fetch: recorder.fetch });
  assert.deepEqual(await restarted.sendPing(), { ok: true });
  assert.deepEqual(recorder.paths, ["/api/v1/data"]);
});

Deno.test("a 401 for a forged token leads to exactly one re-handshake and a retried ping", async () => {
  await using running = startServer();
  const storage = new MemoryStorage();
  await storage.set(TOKEN_KEY, "forged-token-that-the-server-never-issued");
  const recorder = recordingFetch();
  const client = clientFor(running, { storage, fetch: recorder.fetch });
  assert.deepEqual(await client.sendPing(), { ok: true });
  assert.deepEqual(recorder.paths.map((p) => p.replace("/api/v1", "")), [
    "/data",
    "/handshake",
    "/handshake",
    "/data",
  ]);
  const kept = await storage.get(TOKEN_KEY);
  assert.ok(kept !== undefined && kept !== "forged-token-that-the-server-never-issued");
});

Deno.test("an event before the first ping is answered 409, then the client pings and retries once", async () => {
  await using running = startServer();
  const statuses: number[] = [];
  const recorder = recordingFetch();
  const client = clientFor(running, {
    fetch: async (input, init) => {
      const response = await recorder.fetch(input, init);
      statuses.push(response.status);
      return response;
    },
  });
  await client.handshake();
  assert.deepEqual(await client.trackEvent("first_run"), { ok: true });
  assert.deepEqual(recorder.paths.slice(2).map((p) => p.replace("/api/v1", "")), [
    "/event",
    "/data",
    "/event",
  ]);
  assert.deepEqual(statuses.slice(2), [409, 200, 200]);
  const stats = await running.stats(PLUGIN);
  assert.deepEqual(stats.events, [{ event: "first_run", version: "1.0.0", count: 1 }]);
});

Deno.test("a 429 from the server's rate limit is honoured for its Retry-After seconds", async () => {
  await using running = startServer({
    rateLimit: { install: { capacity: 3, refillPerSecond: 0.1 } },
  });
  const recorder = recordingFetch();
  const client = clientFor(running, { fetch: recorder.fetch });
  await client.handshake();
  await client.sendPing();
  let pings = 1;
  while (Object.keys(await client.sendPing()).length > 0) {
    assert.ok(++pings < 20, "the rate limit answers 429 within 20 pings");
  }
  const waitMs = client.queueStats().backoffRemainingMs;
  assert.ok(waitMs >= 1000 && waitMs <= 10_000, `backoff of ${waitMs} ms follows Retry-After`);

  client.queueEvent("while_limited", 5);
  const sent = recorder.paths.length;
  assert.equal(await client.flushEvents(), false);
  assert.deepEqual(await client.sendPing(), {});
  assert.equal(recorder.paths.length, sent, "nothing is sent while backing off");
  assert.equal(client.queueStats().queued, 1, "the queued event stays queued");

  running.clock.now += waitMs + 10_000;
  assert.equal(await client.flushEvents(), true);
  const stats = await running.stats(PLUGIN);
  assert.deepEqual(stats.events, [{ event: "while_limited", version: "1.0.0", count: 5 }]);
});

Deno.test("a 429 whose Retry-After is an HTTP date backs off until that date", async () => {
  await using running = startServer();
  let limitOnce = true;
  const recorder = recordingFetch((path) => {
    if (!path.endsWith("/event") || !limitOnce) return undefined;
    limitOnce = false;
    const until = new Date(running.clock.now + 90_000).toUTCString();
    return Response.json({ error: "rate_limited" }, {
      status: 429,
      headers: { "retry-after": until },
    });
  });
  const client = clientFor(running, { fetch: recorder.fetch });
  await client.sendPing();
  client.queueEvent("dated");
  assert.equal(await client.flushEvents(), false);
  assert.equal(client.queueStats().backoffRemainingMs, 90_000);
  running.clock.now += 89_000;
  assert.equal(await client.flushEvents(), false);
  running.clock.now += 1_000;
  assert.equal(await client.flushEvents(), true);
  assert.equal(client.queueStats().sent, 1);
});

Deno.test("a 503 keeps queued events for the next flush and nothing is counted twice", async () => {
  await using running = startServer();
  let down = true;
  const recorder = recordingFetch((path) =>
    down && path.endsWith("/event") ? new Response("maintenance", { status: 503 }) : undefined
  );
  const client = clientFor(running, { fetch: recorder.fetch });
  await client.sendPing();
  client.queueEvent("a", 2);
  client.queueEvent("b", 3);
  assert.equal(await client.flushEvents(), false);
  assert.equal(client.queueStats().queued, 2);
  assert.equal(count(recorder.paths, "/event"), 1, "the flush stops at the first failure");
  down = false;
  assert.equal(await client.flushEvents(), true);
  assert.equal(client.queueStats().queued, 0);
  const stats = await running.stats(PLUGIN);
  assert.deepEqual(stats.events, [
    { event: "a", version: "1.0.0", count: 2 },
    { event: "b", version: "1.0.0", count: 3 },
  ]);
});

Deno.test("queued events survive a restart through durable storage", async () => {
  await using running = startServer();
  const storage = new MemoryStorage();
  const offline = clientFor(running, {
    storage,
    fetch: () => Promise.reject(new TypeError("offline")),
  });
  offline.queueEvent("saved_for_later", 4);
  assert.equal(await offline.flushEvents(), false);
  const restarted = clientFor(running, { storage });
  assert.equal(await restarted.flushEvents(), true);
  const stats = await running.stats(PLUGIN);
  assert.deepEqual(stats.events, [{ event: "saved_for_later", version: "1.0.0", count: 4 }]);
});

Deno.test("heartbeat() runs its iterations, flushing queued events each time", async () => {
  await using running = startServer();
  const client = clientFor(running);
  client.queueEvent("buffered", 7);
  const report = await client.heartbeat({ intervalSeconds: 0.001, iterations: 2 });
  assert.deepEqual(report, { iterations: 2, pings: 2, errors: 0, stopped: "completed" });
  const stats = await running.stats(PLUGIN);
  assert.deepEqual(stats.daily_actives, [{ day: "2026-11-22", count: 1 }]);
  assert.deepEqual(stats.events, [{ event: "buffered", version: "1.0.0", count: 7 }]);
});

Deno.test("heartbeat() stops during its wait when its signal aborts", async () => {
  await using running = startServer();
  const controller = new AbortController();
  const recorder = recordingFetch();
  const client = clientFor(running, {
    fetch: async (input, init) => {
      const response = await recorder.fetch(input, init);
      if (new URL(response.url).pathname.endsWith("/data")) setTimeout(() => controller.abort(), 0);
      return response;
    },
  });
  const report = await client.heartbeat({ intervalSeconds: 3600, signal: controller.signal });
  assert.deepEqual(report, { iterations: 1, pings: 1, errors: 0, stopped: "aborted" });
});

async function challengeFor(base: string, body: Record<string, unknown>) {
  const response = await fetch(`${base}/api/v1/handshake`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  return await response.json() as { pow_challenge: string; pow_difficulty: number };
}

const IDENTITY = {
  plugin_id: PLUGIN,
  version: "1.0.0",
  client_name: "exteraGram",
  client_version: "12.3.1",
  user_hash: generateUserHash("raw-device", PLUGIN),
  device_fingerprint: generateDeviceFingerprint("raw-device"),
};

async function postHandshake(base: string, body: Record<string, unknown>) {
  const response = await fetch(`${base}/api/v1/handshake`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("a replayed proof-of-work solution is rejected", async () => {
  await using running = startServer();
  const { pow_challenge, pow_difficulty } = await challengeFor(running.base, IDENTITY);
  const { nonce } = await solvePow(pow_challenge, pow_difficulty);
  const solved = { ...IDENTITY, pow_challenge, pow_nonce: nonce };
  const first = await postHandshake(running.base, solved);
  assert.equal(first.status, 200);
  assert.equal(typeof first.body.install_token, "string");
  const replay = await postHandshake(running.base, solved);
  assert.equal(replay.status, 403);
  assert.deepEqual(replay.body, { error: "invalid_pow", reason: "replayed" });
});

Deno.test("a forged or re-targeted challenge is rejected", async () => {
  await using running = startServer();
  const { pow_challenge, pow_difficulty } = await challengeFor(running.base, IDENTITY);
  const last = pow_challenge.at(-1) === "A" ? "B" : "A";
  const forged = pow_challenge.slice(0, -1) + last;
  const forgedNonce = (await solvePow(forged, pow_difficulty)).nonce;
  const tampered = await postHandshake(running.base, {
    ...IDENTITY,
    pow_challenge: forged,
    pow_nonce: forgedNonce,
  });
  assert.equal(tampered.status, 403);
  assert.equal(tampered.body.reason, "forged");

  const { nonce } = await solvePow(pow_challenge, pow_difficulty);
  const otherUser = { ...IDENTITY, user_hash: generateUserHash("someone-else", PLUGIN) };
  const stolen = await postHandshake(running.base, {
    ...otherUser,
    pow_challenge,
    pow_nonce: nonce,
  });
  assert.equal(stolen.status, 403);
  assert.equal(stolen.body.reason, "forged");
});

Deno.test("an expired challenge is rejected", async () => {
  await using running = startServer();
  const { pow_challenge, pow_difficulty } = await challengeFor(running.base, IDENTITY);
  const { nonce } = await solvePow(pow_challenge, pow_difficulty);
  running.clock.now += 3_600_000;
  const late = await postHandshake(running.base, { ...IDENTITY, pow_challenge, pow_nonce: nonce });
  assert.equal(late.status, 403);
  assert.equal(late.body.reason, "expired");
});

Deno.test("malformed bodies are answered 400 naming the field, over real HTTP", async () => {
  await using running = startServer();
  const cases: [string, string, string][] = [
    ["/handshake", "{not json", ""],
    ["/handshake", "[]", ""],
    ["/handshake", JSON.stringify({ ...IDENTITY, plugin_id: undefined }), "plugin_id"],
    ["/handshake", JSON.stringify({ ...IDENTITY, user_hash: "XYZ" }), "user_hash"],
    ["/data", JSON.stringify({ ...IDENTITY, install_token: "t", timestamp: "now" }), "timestamp"],
    [
      "/event",
      JSON.stringify({ ...IDENTITY, install_token: "t", event: "ok", count: -1, timestamp: 1 }),
      "count",
    ],
    [
      "/event",
      JSON.stringify({ ...IDENTITY, install_token: "t", event: "9 bad", timestamp: 1 }),
      "event",
    ],
  ];
  for (const [path, body, field] of cases) {
    const response = await fetch(`${running.base}/api/v1${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const answer = await response.json();
    assert.equal(response.status, 400, `${path} ${body.slice(0, 40)}`);
    assert.equal(answer.error, "invalid_request");
    if (field) assert.equal(answer.field, field, `${path} names the field`);
  }
});

Deno.test("an oversize body is answered 413, over real HTTP", async () => {
  await using running = startServer();
  const response = await fetch(`${running.base}/api/v1/event`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...IDENTITY, padding: "x".repeat(1 << 20) }),
  });
  assert.equal(response.status, 413);
  assert.equal((await response.json()).error, "payload_too_large");
});
