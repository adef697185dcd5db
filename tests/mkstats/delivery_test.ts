import assert from "node:assert/strict";
import { HttpError } from "../../src/core/errors.ts";
import { MemoryStorage } from "../../src/core/storage.ts";
import { MAX_EVENT_COUNT } from "../../src/mkstats/_policy.ts";
import { MkStatsClient } from "../../src/mkstats/client.ts";
import { client } from "./_client.ts";

interface Call {
  path: string;
  body: Record<string, unknown>;
  key: string | null;
}

/** A scripted mkStats server; `answer` may replace any answer, else the happy path. */
function scripted(answer?: (call: Call) => Response | undefined) {
  const calls: Call[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname.replace("/api/v1", "");
    const call = { path, body: await request.json(), key: request.headers.get("idempotency-key") };
    calls.push(call);
    const replaced = answer?.(call);
    if (replaced) return replaced;
    if (path === "/handshake") return Response.json({ install_token: "tok" });
    return Response.json({ ok: true });
  };
  const events = () => calls.filter((c) => c.path === "/event");
  return { fetch, calls, events };
}

/** Queues 50 names, 150 counts in all. */
function queueFifty(mk: MkStatsClient): void {
  for (let i = 0; i < 50; i++) mk.queueEvent(`event_${i}`, 3);
}

const html404 = () =>
  new Response("<html><body>404 Not Found</body></html>", {
    status: 404,
    headers: { "content-type": "text/html" },
  });

Deno.test("over 10 s of 503s, flushing every 50 ms backs off instead of hammering the server", async () => {
  let now = 1_000_000;
  const server = scripted((call) =>
    call.path === "/event" ? new Response("unavailable", { status: 503 }) : undefined
  );
  const mk = client(server.fetch, { now: () => now, random: () => 0.999 });
  queueFifty(mk);
  for (const end = now + 10_000; now <= end; now += 50) {
    assert.equal(await mk.flushEvents(), false);
  }
  // Backoff ceilings of 1, 2 and 4 s: four tries in 10 s (the old client made ~200)
  assert.equal(server.events().length, 4);
  const stats = mk.queueStats();
  assert.equal(stats.queued, 50);
  assert.equal(stats.dropped, 0);
  assert.ok(stats.backoffRemainingMs > 0);
});

Deno.test("network errors and timeouts back off too, and the queue is kept", async () => {
  let now = 0;
  let fail = true;
  const base = scripted();
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (fail && String(input).endsWith("/event")) {
      return Promise.reject(new TypeError("connection reset"));
    }
    return base.fetch(input, init);
  };
  const mk = client(fetch, { now: () => now, random: () => 0.5 });
  mk.queueEvent("a", 2);
  assert.equal(await mk.flushEvents(), false);
  assert.equal(mk.queueStats().backoffRemainingMs, 500);
  assert.equal(await mk.flushEvents(), false);
  now += 500;
  fail = false;
  assert.equal(await mk.flushEvents(), true);
  assert.equal(mk.queueStats().sent, 2);
});

for (
  const [name, answer] of [
    ["a proxy's HTML 404 page", html404],
    ["a 400 without mkStats' error code", () => Response.json({ message: "bad" }, { status: 400 })],
    ["a 200 page that is not mkStats' JSON", () => new Response("<html>Sign in</html>")],
    [
      "mkStats' own 404 for a wrong path",
      () => Response.json({ error: "not_found" }, { status: 404 }),
    ],
  ] as const
) {
  Deno.test(`${name} keeps all 50 names and 150 counts queued and backs off`, async () => {
    const now = 0;
    const server = scripted((call) => call.path === "/event" ? answer() : undefined);
    const mk = client(server.fetch, { now: () => now, random: () => 0.5 });
    queueFifty(mk);
    assert.equal(await mk.flushEvents(), false);
    const stats = mk.queueStats();
    assert.equal(stats.queued, 50);
    assert.equal(stats.dropped, 0);
    assert.equal(stats.sent, 0);
    assert.equal(stats.backoffRemainingMs, 500);
    assert.equal(server.events().length, 1, "the flush stops at the first failure");
  });
}

Deno.test("a handshake answered 403 keeps the queue and backs off", async () => {
  let now = 0;
  let refuse = true;
  const server = scripted((call) =>
    call.path === "/handshake" && refuse
      ? Response.json({ error: "invalid_pow", reason: "forged" }, { status: 403 })
      : undefined
  );
  const mk = client(server.fetch, { now: () => now, random: () => 0.5 });
  queueFifty(mk);
  assert.equal(await mk.flushEvents(), false);
  assert.equal(mk.queueStats().queued, 50);
  assert.equal(mk.queueStats().dropped, 0);
  assert.equal(mk.queueStats().backoffRemainingMs, 500);
  assert.deepEqual(await mk.sendPing(), {}, "direct calls wait for the same backoff");
  now += 500;
  refuse = false;
  assert.equal(await mk.flushEvents(), true);
  assert.equal(mk.queueStats().sent, 150);
});

Deno.test("a ping answered 503 is thrown and starts the backoff that later calls respect", async () => {
  let now = 0;
  let down = true;
  const server = scripted((call) =>
    call.path === "/data" && down ? new Response("busy", { status: 503 }) : undefined
  );
  const mk = client(server.fetch, { now: () => now, random: () => 0.5 });
  const error = await mk.sendPing().catch((e) => e);
  assert.ok(error instanceof HttpError && error.status === 503);
  const sent = server.calls.length;
  assert.deepEqual(await mk.sendPing(), {});
  assert.equal(server.calls.length, sent, "nothing is sent while backing off");
  now += 500;
  down = false;
  assert.deepEqual(await mk.sendPing(), { ok: true });
  assert.equal(mk.queueStats().backoffRemainingMs, 0);
});

Deno.test("every ping and event carries an Idempotency-Key, and a retry reuses it", async () => {
  let now = 0;
  let failures = 1;
  const server = scripted((call) =>
    call.path === "/event" && failures-- > 0 ? new Response("busy", { status: 502 }) : undefined
  );
  const mk = client(server.fetch, { now: () => now, random: () => 0 });
  await mk.sendPing();
  mk.queueEvent("a");
  assert.equal(await mk.flushEvents(), false);
  now += 1;
  mk.queueEvent("b");
  assert.equal(await mk.flushEvents(), true);
  await mk.trackEvent("c");
  const keys = server.calls.filter((c) => c.path !== "/handshake").map((c) => c.key);
  assert.ok(keys.every((key) => key !== null && /^[0-9a-f-]{36}$/.test(key)), String(keys));
  const [ping, a1, a2, b, c] = keys;
  assert.equal(a1, a2, "the retried event keeps its key");
  assert.equal(new Set([ping, a1, b, c]).size, 4, "different records have different keys");
  assert.equal(server.calls.find((x) => x.path === "/handshake")?.key, null);
});

Deno.test("a 409 retry after the ping and a 401 retry after the re-handshake reuse the event's key", async () => {
  let pinged = false;
  let revoked = true;
  const server = scripted((call) => {
    if (call.path === "/data") pinged = true;
    if (call.path === "/event" && revoked) {
      revoked = false;
      return Response.json({ error: "invalid_install_token" }, { status: 401 });
    }
    if (call.path === "/event" && !pinged) {
      return Response.json({ error: "metric_not_initialized" }, { status: 409 });
    }
    return undefined;
  });
  await client(server.fetch).trackEvent("first");
  const keys = server.events().map((c) => c.key);
  assert.equal(keys.length, 3);
  assert.equal(new Set(keys).size, 1);
});

Deno.test("counts queued while a request is pending go to a new item, so nothing is counted twice", async () => {
  let now = 0;
  let down = true;
  const server = scripted((call) =>
    call.path === "/event" && down ? new Response("down", { status: 500 }) : undefined
  );
  const mk = client(server.fetch, { now: () => now, random: () => 0 });
  mk.queueEvent("clicks", 2);
  assert.equal(await mk.flushEvents(), false);
  mk.queueEvent("clicks", 5);
  assert.equal(mk.queueStats().queued, 2, "the pending item is frozen");
  down = false;
  now += 1;
  assert.equal(await mk.flushEvents(), true);
  assert.deepEqual(server.events().map((c) => [c.body.count, c.key]), [
    [2, server.events()[0].key],
    [2, server.events()[0].key],
    [5, server.events()[2].key],
  ]);
  assert.notEqual(server.events()[2].key, server.events()[0].key);
  assert.equal(mk.queueStats().sent, 7);
});

Deno.test("an aggregated count above the server's limit is split into requests it accepts", async () => {
  const server = scripted((call) =>
    call.path === "/event" && Number(call.body.count) > MAX_EVENT_COUNT
      ? Response.json({ error: "invalid_request", field: "count" }, { status: 400 })
      : undefined
  );
  const mk = client(server.fetch);
  mk.queueEvent("scrolls", 1_500_000);
  mk.queueEvent("scrolls", 1_000_001);
  assert.equal(await mk.flushEvents(), true);
  const events = server.events();
  assert.deepEqual(events.map((c) => c.body.count), [1_000_000, 1_000_000, 500_001]);
  assert.equal(new Set(events.map((c) => c.key)).size, 3);
  const stats = mk.queueStats();
  assert.equal(stats.sent, 2_500_001);
  assert.equal(stats.dropped, 0);
});

Deno.test("sendEvent() with a count above the limit sends it in parts", async () => {
  const server = scripted();
  await client(server.fetch).sendEvent(undefined, "bulk", 2_000_001);
  assert.deepEqual(server.events().map((c) => c.body.count), [1_000_000, 1_000_000, 1]);
});

Deno.test("a request formed before a restart is sent again with the same key", async () => {
  const storage = new MemoryStorage();
  const down = scripted((call) =>
    call.path === "/event" ? new Response("down", { status: 503 }) : undefined
  );
  const first = client(down.fetch, { storage });
  first.queueEvent("saved", 4);
  assert.equal(await first.flushEvents(), false);
  const up = scripted();
  const restarted = client(up.fetch, { storage });
  restarted.queueEvent("saved", 1);
  assert.equal(await restarted.flushEvents(), true);
  assert.deepEqual(up.events().map((c) => c.body.count), [4, 1]);
  assert.equal(up.events()[0].key, down.events()[0].key);
});

Deno.test("mkStats' own refusal drops only the refused event and counts it", async () => {
  const server = scripted((call) =>
    call.body.event === "huge"
      ? Response.json({ error: "payload_too_large" }, { status: 413 })
      : undefined
  );
  const mk = client(server.fetch);
  mk.queueEvent("huge");
  mk.queueEvent("fine");
  assert.equal(await mk.flushEvents(), true);
  assert.deepEqual(mk.queueStats().droppedByReason, { rejected: 1 });
  assert.equal(mk.queueStats().sent, 1);
});

Deno.test("a storage whose reads reject does not stop the client from delivering", async () => {
  const broken = {
    get: () => Promise.reject(new Error("disk gone")),
    set: () => Promise.reject(new Error("disk gone")),
    delete: () => Promise.reject(new Error("disk gone")),
  };
  const server = scripted();
  const mk = new MkStatsClient({
    pluginId: "p",
    pluginVersion: "1",
    endpoint: "http://mkstats.test/api",
    storage: broken,
    fetch: server.fetch,
  });
  mk.queueEvent("still_counted");
  await mk.flushEvents();
  assert.equal(server.events().length, 1);
});

Deno.test("trackEvent() answered 503 queues the event under the key it was sent with, and the flush resends that key", async () => {
  let now = 0;
  let down = true;
  const server = scripted((call) =>
    down && call.path === "/event" ? new Response("unavailable", { status: 503 }) : undefined
  );
  const mk = client(server.fetch, { now: () => now, random: () => 0 });
  assert.deepEqual(await mk.trackEvent("export_done", 3), {});
  assert.equal(mk.queueStats().queued, 1);
  const firstKey = server.events()[0].key;
  assert.ok(firstKey);

  down = false;
  now += 300_000;
  assert.equal(await mk.flushEvents(), true);
  const resent = server.events().at(-1)!;
  assert.equal(resent.key, firstKey);
  assert.equal(resent.body.count, 3);
  assert.equal(server.events().length, 2);
});

Deno.test("trackEvent() while backing off queues the event instead of losing it", async () => {
  let now = 0;
  let down = true;
  const server = scripted((call) =>
    down && call.path === "/event" ? new Response("unavailable", { status: 503 }) : undefined
  );
  const mk = client(server.fetch, { now: () => now, random: () => 0.999 });
  await mk.trackEvent("first");
  const sent = server.events().length;
  assert.deepEqual(await mk.trackEvent("second", 2), {});
  assert.equal(server.events().length, sent, "nothing is sent while backing off");
  assert.equal(mk.queueStats().queued, 2);

  down = false;
  now += 300_000;
  assert.equal(await mk.flushEvents(), true);
  const counted = server.events().slice(sent).map((c) => [c.body.event, c.body.count]);
  assert.deepEqual(counted, [["first", 1], ["second", 2]]);
});

Deno.test("trackEvent() refused by mkStats itself throws and queues nothing", async () => {
  const server = scripted((call) =>
    call.path === "/event"
      ? Response.json({ error: "invalid_request", field: "event" }, { status: 400 })
      : undefined
  );
  const mk = client(server.fetch);
  await assert.rejects(() => mk.trackEvent("refused"), HttpError);
  assert.equal(mk.queueStats().queued, 0);
});
