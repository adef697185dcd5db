import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { solve } from "./_mkstats_routes_fixtures.ts";

const COMMON = {
  plugin_id: "demo",
  version: "1.0.0",
  client_name: "exteraGram",
  client_version: "12.3.1",
  user_hash: "a".repeat(64),
  device_fingerprint: "b".repeat(64),
};

function post(server: EdgewireServer, path: string, body: unknown, env?: unknown) {
  return server.fetch(
    new Request(`http://x${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    env,
  );
}

async function handshake(server: EdgewireServer): Promise<string> {
  const first = await (await post(server, "/api/v1/handshake", COMMON)).json();
  const nonce = solve(first.pow_challenge, first.pow_difficulty);
  const second = await post(server, "/api/v1/handshake", {
    ...COMMON,
    pow_challenge: first.pow_challenge,
    pow_nonce: nonce,
  });
  assert.equal(second.status, 200);
  return (await second.json()).install_token;
}

async function removeDb(path: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
}

Deno.test("healthz answers ok and unknown paths answer a JSON 404", async () => {
  const server = createServer();
  const health = await server.fetch(new Request("http://x/healthz"));
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { ok: true });
  const missing = await server.fetch(new Request("http://x/api/v1/nothing"));
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "not_found" });
  const wrongMethod = await server.fetch(new Request("http://x/api/v1/handshake"));
  assert.equal(wrongMethod.status, 404);
  await server.close();
});

Deno.test("the generated secret persists, so a second server accepts the first one's work", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    const first = createServer({ store: new SqliteStore(path), difficulty: 1 });
    const token = await handshake(first);
    const pending = await (await post(first, "/api/v1/handshake", COMMON)).json();
    await first.close();

    const second = createServer({ store: new SqliteStore(path), difficulty: 1 });
    const ping = await post(second, "/api/v1/data", {
      ...COMMON,
      install_token: token,
      timestamp: 1,
    });
    assert.equal(ping.status, 200);
    // A challenge signed before the restart still verifies after it.
    const solved = await post(second, "/api/v1/handshake", {
      ...COMMON,
      pow_challenge: pending.pow_challenge,
      pow_nonce: solve(pending.pow_challenge, 1),
    });
    assert.equal(solved.status, 200);
    await second.close();
  } finally {
    await removeDb(path);
  }
});

Deno.test("replay protection survives a restart over the same file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".db" });
  try {
    const first = createServer({ store: new SqliteStore(path), difficulty: 1 });
    const issued = await (await post(first, "/api/v1/handshake", COMMON)).json();
    const solved = {
      ...COMMON,
      pow_challenge: issued.pow_challenge,
      pow_nonce: solve(issued.pow_challenge, 1),
    };
    assert.equal((await post(first, "/api/v1/handshake", solved)).status, 200);
    await first.close();
    const second = createServer({ store: new SqliteStore(path), difficulty: 1 });
    const replay = await post(second, "/api/v1/handshake", solved);
    assert.equal(replay.status, 403);
    assert.deepEqual(await replay.json(), { error: "invalid_pow", reason: "replayed" });
    await second.close();
  } finally {
    await removeDb(path);
  }
});

Deno.test("close is idempotent, closes a given store, and later requests get 503", async () => {
  const store = new SqliteStore(":memory:");
  const server = createServer({ store });
  assert.equal((await server.fetch(new Request("http://x/healthz"))).status, 200);
  await (await post(server, "/api/v1/handshake", COMMON)).body?.cancel();
  await Promise.all([server.close(), server.close()]);
  await server.close();
  await assert.rejects(store.getMeta("x"), /closed/);
  const after = await server.fetch(new Request("http://x/healthz"));
  assert.equal(after.status, 503);
  assert.deepEqual(await after.json(), { error: "server_closed" });
  // A server that never opened its store closes cleanly too.
  await createServer().close();
});

Deno.test("a failing store answers 500 internal without details", async () => {
  const store = new SqliteStore(":memory:");
  const server = createServer({ store, difficulty: 1 });
  const token = await handshake(server);
  await store.close(); // the server does not know: every store call now throws
  const response = await post(server, "/api/v1/data", {
    ...COMMON,
    install_token: token,
    timestamp: 1,
  });
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { error: "internal" });
  await server.close();
});

Deno.test("the default client address is the hostname Deno.serve passes as env", async () => {
  const server = createServer({ rateLimit: { address: { capacity: 1 } } });
  const info = (hostname: string) => ({ remoteAddr: { transport: "tcp", hostname, port: 1 } });
  assert.equal((await post(server, "/api/v1/handshake", COMMON, info("192.0.2.1"))).status, 200);
  assert.equal((await post(server, "/api/v1/handshake", COMMON, info("192.0.2.1"))).status, 429);
  assert.equal((await post(server, "/api/v1/handshake", COMMON, info("192.0.2.2"))).status, 200);
  // X-Forwarded-For is not trusted by default: these all share the "unknown" bucket.
  const forwarded = (ip: string) =>
    server.fetch(
      new Request("http://x/api/v1/handshake", {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": ip },
        body: JSON.stringify(COMMON),
      }),
    );
  assert.equal((await forwarded("198.51.100.1")).status, 200);
  assert.equal((await forwarded("198.51.100.2")).status, 429);
  await server.close();
});

Deno.test("the server works over a real socket with Deno.serve", async () => {
  const server = createServer();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  try {
    const response = await fetch(`http://127.0.0.1:${http.addr.port}/healthz`);
    assert.deepEqual(await response.json(), { ok: true });
  } finally {
    await http.shutdown();
    await server.close();
  }
});

Deno.test("invalid options are refused once, naming the option and never echoing secrets", () => {
  const cases: [ServerOptions, string, string][] = [
    [
      { difficulty: 20 },
      "difficulty",
      "Cannot create server as 'difficulty' must be an integer from 1 to 16: current value is 20",
    ],
    [{ difficulty: 1.5 }, "difficulty", ""],
    [{ challengeTtlMs: 0 }, "challengeTtlMs", ""],
    [{ installTokenTtlMs: -1 }, "installTokenTtlMs", ""],
    [{ bodyLimitBytes: 0 }, "bodyLimitBytes", ""],
    [
      { secret: "short-secret-value" },
      "secret",
      "Cannot create server as 'secret' must be at least 32 characters: current value is a string of 18 characters",
    ],
    [{ adminKey: "" }, "adminKey", ""],
    [{ adminKey: "has space" }, "adminKey", ""],
    [{ store: "" as never }, "store", ""],
    [
      { store: "edgewire.db" as never },
      "store",
      "Cannot create server as 'store' must be a ServerStore (for a SQLite file, `new SqliteStore(path)` from '@edgewire/sdk/server/sqlite'): current value is a string of 11 characters",
    ],
    [{ store: {} as never }, "store", ""],
    [{ now: 1 as never }, "now", ""],
    [{ clientAddress: "x" as never }, "clientAddress", ""],
    [{ rateLimit: { install: { capacity: 0 } } }, "rateLimit.install.capacity", ""],
    [{ rateLimit: { address: { refillPerSecond: -1 } } }, "rateLimit.address.refillPerSecond", ""],
  ];
  for (const [options, argument, message] of cases) {
    assert.throws(
      () => createServer(options),
      (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.equal(error.argument, argument);
        if (message !== "") assert.equal(error.message, message);
        assert.ok(!error.message.includes("short-secret-value"));
        assert.ok(!error.message.includes("has space"));
        return true;
      },
    );
  }
});
