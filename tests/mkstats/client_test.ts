import assert from "node:assert/strict";
import { HttpError, InvalidArgumentError } from "../../src/core/errors.ts";
import { MemoryStorage } from "../../src/core/storage.ts";
import { MkStatsClient } from "../../src/mkstats/client.ts";
import { client } from "./_client.ts";
import { MkStatsProtocolError } from "../../src/mkstats/errors.ts";
import { generateUserHash } from "../../src/mkstats/identity.ts";

type Route = (body: Record<string, unknown>) => Response;

/** A scripted mkStats server: each path answers from its route, every request is recorded. */
function scripted(routes: Record<string, Route>) {
  const calls: { path: string; body: Record<string, unknown> }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname.replace("/api/v1", "");
    const body = await request.json();
    calls.push({ path, body });
    const route = routes[path];
    return route ? route(body) : Response.json({ error: "not_found" }, { status: 404 });
  };
  return { fetch, calls, count: (path: string) => calls.filter((c) => c.path === path).length };
}

const ok = () => Response.json({ ok: true });
const token = (value = "tok-1") => () => Response.json({ install_token: value });

Deno.test("MkStatsClient refuses an empty pluginId with a message naming it", () => {
  assert.throws(
    () => new MkStatsClient({ pluginId: "", pluginVersion: "1" }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && error.argument === "pluginId" &&
      error.message ===
        `Cannot create MkStatsClient as 'pluginId' must be a non-empty string: current value is ""`,
  );
  assert.throws(
    () => new MkStatsClient({ pluginId: "p", pluginVersion: "1", userHash: "nothex" }),
    /'userHash' must be 64 lowercase hex characters/,
  );
  assert.throws(
    () => new MkStatsClient({ pluginId: "p", pluginVersion: "1", timeoutMs: 0 }),
    /'timeoutMs'/,
  );
});

Deno.test("every request carries the identity fields of the protocol", async () => {
  const server = scripted({ "/handshake": token(), "/data": ok });
  await client(server.fetch, { clientName: "exteraGram", clientVersion: "12.3.1" }).sendPing(
    undefined,
    1700000000,
  );
  assert.deepEqual(server.calls[1].body, {
    plugin_id: "my_plugin",
    version: "1.0.0",
    client_name: "exteraGram",
    client_version: "12.3.1",
    user_hash: generateUserHash("stable-device-id", "my_plugin"),
    device_fingerprint: "e4018239e34778d9808a130da142bd8a60a537b2bc240997e59d0ce07701a56d",
    install_token: "tok-1",
    timestamp: 1700000000,
  });
});

Deno.test("concurrent trackEvent() calls share one handshake", async () => {
  const server = scripted({ "/handshake": token(), "/event": ok });
  const mk = client(server.fetch);
  await Promise.all([mk.trackEvent("a"), mk.trackEvent("b"), mk.trackEvent("c")]);
  assert.equal(server.count("/handshake"), 1);
  assert.equal(server.count("/event"), 3);
});

Deno.test("a second 401 after the re-handshake is thrown, never retried in a loop", async () => {
  const server = scripted({
    "/handshake": token(),
    "/data": () => Response.json({ error: "invalid_install_token" }, { status: 401 }),
  });
  const error = await client(server.fetch).sendPing().catch((e) => e);
  assert.ok(error instanceof HttpError);
  assert.equal(error.status, 401);
  assert.equal(server.count("/handshake"), 2);
  assert.equal(server.count("/data"), 2);
});

Deno.test("a handshake answer with neither token nor challenge is a protocol error", async () => {
  const server = scripted({ "/handshake": () => Response.json({ hello: "world" }) });
  await assert.rejects(client(server.fetch).handshake(), MkStatsProtocolError);
});

Deno.test("queueEvent() aggregates counts per normalised name", async () => {
  const server = scripted({ "/handshake": token(), "/event": ok });
  const mk = client(server.fetch);
  mk.queueEvent("menu opened");
  mk.queueEvent("menu_opened", 2);
  mk.queueEvent("other");
  assert.equal(mk.queueStats().queued, 2);
  assert.equal(await mk.flushEvents(), true);
  const events = server.calls.filter((c) => c.path === "/event").map((
    c,
  ) => [c.body.event, c.body.count]);
  assert.deepEqual(events, [["menu_opened", 3], ["other", 1]]);
  assert.equal(mk.queueStats().sent, 4);
});

Deno.test("flushEvents() drops an event the server rejects outright and counts it", async () => {
  const server = scripted({
    "/handshake": token(),
    "/event": (body) =>
      body.event === "bad" ? Response.json({ error: "invalid_request" }, { status: 400 }) : ok(),
  });
  const mk = client(server.fetch);
  mk.queueEvent("bad");
  mk.queueEvent("good");
  assert.equal(await mk.flushEvents(), true);
  const stats = mk.queueStats();
  assert.equal(stats.dropped, 1);
  assert.equal(stats.droppedByReason.rejected, 1);
  assert.equal(stats.sent, 1);
});

Deno.test("a 429 without Retry-After backs off exponentially and sends nothing meanwhile", async () => {
  let now = 1_000_000;
  let limited = true;
  const server = scripted({
    "/handshake": token(),
    "/data": () => limited ? Response.json({ error: "rate_limited" }, { status: 429 }) : ok(),
  });
  const mk = client(server.fetch, {
    now: () => now,
    random: () => 0.5,
    backoff: { initialMs: 1000 },
  });
  assert.deepEqual(await mk.sendPing(), {});
  assert.equal(mk.queueStats().backoffRemainingMs, 500);
  const before = server.calls.length;
  assert.deepEqual(await mk.sendPing(), {});
  assert.equal(server.calls.length, before, "nothing is sent while backing off");
  now += 500;
  assert.deepEqual(await mk.sendPing(), {});
  assert.equal(mk.queueStats().backoffRemainingMs, 1000, "the second 429 doubles the ceiling");
  now += 1000;
  limited = false;
  assert.deepEqual(await mk.sendPing(), { ok: true });
  assert.equal(mk.queueStats().backoffRemainingMs, 0);
});

Deno.test("the generated device id is kept in storage so the user hash is stable", async () => {
  const storage = new MemoryStorage();
  const hashes: unknown[] = [];
  const server = scripted({
    "/handshake": (body) => {
      hashes.push(body.user_hash);
      return Response.json({ install_token: "t" });
    },
  });
  const options = {
    pluginId: "p",
    pluginVersion: "1",
    endpoint: "http://mkstats.test/api",
    storage,
  };
  await new MkStatsClient({ ...options, fetch: server.fetch }).handshake();
  await new MkStatsClient({ ...options, fetch: server.fetch }).handshake();
  assert.equal(hashes.length, 2);
  assert.equal(hashes[0], hashes[1]);
  assert.match(String(hashes[0]), /^[0-9a-f]{64}$/);
});

Deno.test("heartbeat() refuses a non-positive interval with the documented message", async () => {
  const mk = client(scripted({}).fetch);
  await assert.rejects(
    mk.heartbeat({ intervalSeconds: 0 }),
    (error: unknown) =>
      error instanceof InvalidArgumentError &&
      error.message ===
        "Cannot start heartbeat as 'intervalSeconds' must be a positive finite number: current value is 0",
  );
  await assert.rejects(
    mk.heartbeat({ iterations: 1.5 }),
    /'iterations' must be an integer of at least 1/,
  );
});

Deno.test("heartbeat() reports a failing iteration and carries on", async () => {
  let fail = true;
  const server = scripted({
    "/handshake": token(),
    "/data": () => {
      const answer = fail ? Response.json({ error: "boom" }, { status: 500 }) : ok();
      fail = false;
      return answer;
    },
  });
  const seen: unknown[] = [];
  // random 0 draws a zero backoff after the 500, so the next iteration may send at once
  const report = await client(server.fetch, { random: () => 0 }).heartbeat({
    intervalSeconds: 0.001,
    iterations: 2,
    onError: (error) => seen.push(error),
  });
  assert.deepEqual(report, { iterations: 2, pings: 1, errors: 1, stopped: "completed" });
  assert.ok(seen[0] instanceof HttpError);
});

Deno.test("the endpoint option is normalised, exposed as client.endpoint, and never echoed when refused", () => {
  const { fetch } = scripted({});
  assert.equal(client(fetch).endpoint, "http://mkstats.test/api/v1");
  assert.throws(
    () => client(fetch, { endpoint: "ftp://user:s3cret@mkstats.test/api" }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.argument, "endpoint");
      assert.match(error.message, /'endpoint' must be an absolute http or https URL/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    },
  );
  assert.throws(() => client(fetch, { backoff: { maxMs: -1 } }), { argument: "backoff.maxMs" });
  assert.throws(() => client(fetch, { maxQueuedEvents: 1.5 }), { argument: "maxQueuedEvents" });
  assert.throws(() => client(fetch, { pluginVersion: "   " }), { argument: "pluginVersion" });
});
