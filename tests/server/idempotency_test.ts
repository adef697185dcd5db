import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { COMMON, solve } from "./_mkstats_routes_fixtures.ts";

const ADMIN = "admin-key-for-tests-only";

function start(options: ServerOptions = {}) {
  const clock = { time: Date.UTC(2025, 0, 15, 12) };
  const server = createServer({
    secret: "s".repeat(32),
    difficulty: 1,
    adminKey: ADMIN,
    now: () => clock.time,
    migas: { projects: [{ project: "acme/tool", latestVersion: "2.0.0" }] },
    ...options,
  });
  return { server, clock };
}

function post(server: EdgewireServer, path: string, body: unknown, key?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key !== undefined) headers["idempotency-key"] = key;
  return server.fetch(
    new Request(`http://x${path}`, { method: "POST", headers, body: JSON.stringify(body) }),
  );
}

async function token(server: EdgewireServer, fields = COMMON): Promise<string> {
  const first = await (await post(server, "/api/v1/handshake", fields)).json();
  const nonce = solve(first.pow_challenge, first.pow_difficulty);
  const second = await (await post(server, "/api/v1/handshake", {
    ...fields,
    pow_challenge: first.pow_challenge,
    pow_nonce: nonce,
  })).json();
  return second.install_token;
}

async function eventTotal(server: EdgewireServer, event: string): Promise<number> {
  const response = await server.fetch(
    new Request(`http://x/api/v1/stats/${COMMON.plugin_id}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    }),
  );
  const stats = await response.json();
  return (stats.events as { event: string; count: number }[])
    .filter((row) => row.event === event)
    .reduce((sum, row) => sum + row.count, 0);
}

async function usage(server: EdgewireServer): Promise<number> {
  const response = await server.fetch(
    new Request("http://x/api/usage/acme/tool?start=2025-01-01"),
  );
  return (await response.json()).hits;
}

Deno.test("a repeated mkStats event key is answered as the first time and counted once", async () => {
  const { server, clock } = start();
  try {
    const installToken = await token(server);
    const base = { ...COMMON, install_token: installToken, timestamp: 1 };
    assert.equal((await post(server, "/api/v1/data", base, "ping-1")).status, 200);
    const event = { ...base, event: "opened", count: 3 };
    const first = await post(server, "/api/v1/event", event, "event-1");
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("idempotent-replayed"), null);
    assert.deepEqual(await first.json(), { ok: true });
    // The retry refreshes its timestamp and comes by the other base: still the same request.
    clock.time += 5000;
    const again = await post(server, "/api/event", { ...event, timestamp: 6 }, "event-1");
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.deepEqual(await again.json(), { ok: true });
    assert.equal(await eventTotal(server, "opened"), 3);
    // Another key is another event.
    assert.equal((await post(server, "/api/v1/event", event, "event-2")).status, 200);
    assert.equal(await eventTotal(server, "opened"), 6);
  } finally {
    await server.close();
  }
});

Deno.test("an mkStats key reused with another event is refused 422 and records nothing", async () => {
  const { server } = start();
  try {
    const installToken = await token(server);
    const base = { ...COMMON, install_token: installToken, timestamp: 1 };
    await post(server, "/api/v1/data", base);
    assert.equal(
      (await post(server, "/api/v1/event", { ...base, event: "opened" }, "k")).status,
      200,
    );
    const reused = await post(server, "/api/v1/event", { ...base, event: "closed" }, "k");
    assert.equal(reused.status, 422);
    assert.equal((await reused.json()).error, "idempotency_key_reused");
    const recounted = await post(
      server,
      "/api/v1/event",
      { ...base, event: "opened", count: 2 },
      "k",
    );
    assert.equal(recounted.status, 422);
    await recounted.body?.cancel();
    assert.equal(await eventTotal(server, "closed"), 0);
    assert.equal(await eventTotal(server, "opened"), 1);
  } finally {
    await server.close();
  }
});

Deno.test("an mkStats event refused before it was pinged leaves its key free for the retry", async () => {
  const { server } = start();
  try {
    const installToken = await token(server);
    const base = { ...COMMON, install_token: installToken, timestamp: 1 };
    const event = { ...base, event: "opened" };
    const early = await post(server, "/api/v1/event", event, "k");
    assert.equal(early.status, 409);
    assert.equal((await early.json()).error, "metric_not_initialized");
    await (await post(server, "/api/v1/data", base)).body?.cancel();
    const retried = await post(server, "/api/v1/event", event, "k");
    assert.equal(retried.status, 200);
    assert.equal(retried.headers.get("idempotent-replayed"), null);
    await retried.body?.cancel();
    assert.equal(await eventTotal(server, "opened"), 1);
  } finally {
    await server.close();
  }
});

Deno.test("mkStats keys are scoped per install, so two installs may send the same key", async () => {
  const { server } = start();
  try {
    const other = { ...COMMON, user_hash: "c".repeat(64) };
    for (const fields of [COMMON, other]) {
      const base = { ...fields, install_token: await token(server, fields), timestamp: 1 };
      await (await post(server, "/api/v1/data", base)).body?.cancel();
      const answer = await post(server, "/api/v1/event", { ...base, event: "opened" }, "shared");
      assert.equal(answer.headers.get("idempotent-replayed"), null);
      await answer.body?.cancel();
    }
    assert.equal(await eventTotal(server, "opened"), 2);
  } finally {
    await server.close();
  }
});

Deno.test("a malformed Idempotency-Key is refused as an invalid mkStats request", async () => {
  const { server } = start();
  try {
    const answer = await post(server, "/api/v1/event", {}, "has space");
    assert.equal(answer.status, 400);
    assert.equal((await answer.json()).field, "Idempotency-Key");
  } finally {
    await server.close();
  }
});

Deno.test("a key is remembered for idempotencyWindowMs and records again after it", async () => {
  const { server, clock } = start({ idempotencyWindowMs: 60_000 });
  try {
    const installToken = await token(server);
    const base = { ...COMMON, install_token: installToken, timestamp: 1 };
    await (await post(server, "/api/v1/data", base)).body?.cancel();
    const event = { ...base, event: "opened" };
    for (const step of [0, 59_999, 1]) {
      clock.time += step;
      await (await post(server, "/api/v1/event", event, "k")).body?.cancel();
    }
    assert.equal(await eventTotal(server, "opened"), 2);
  } finally {
    await server.close();
  }
});

Deno.test("at idempotencyMaxKeysPerScope the install's oldest key is forgotten first", async () => {
  const { server } = start({ idempotencyMaxKeysPerScope: 2 });
  try {
    const installToken = await token(server);
    const base = { ...COMMON, install_token: installToken, timestamp: 1 };
    await (await post(server, "/api/v1/data", base)).body?.cancel();
    const event = { ...base, event: "opened" };
    for (const key of ["k1", "k2", "k3", "k3", "k2", "k1"]) {
      await (await post(server, "/api/v1/event", event, key)).body?.cancel();
    }
    // k1 was evicted when k3 arrived, so its retry counted again: 3 keys + 1.
    assert.equal(await eventTotal(server, "opened"), 4);
  } finally {
    await server.close();
  }
});

Deno.test("a repeated migas REST breadcrumb key is answered as the first and stored once", async () => {
  const { server } = start();
  try {
    const crumb = { project: "acme/tool", project_version: "1.0.0", language: "python" };
    const first = await post(server, "/api/breadcrumb", crumb, "crumb-1");
    assert.equal(first.status, 202);
    assert.deepEqual(await first.json(), { success: true, message: "" });
    const again = await post(server, "/api/breadcrumb?wait=true", crumb, "crumb-1");
    assert.equal(again.status, 202);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.equal(again.headers.get("x-backend-server"), "migas@0.9");
    await again.body?.cancel();
    assert.equal(await usage(server), 1);
    const reused = await post(server, "/api/breadcrumb", { ...crumb, language: "go" }, "crumb-1");
    assert.equal(reused.status, 422);
    assert.equal((await reused.json()).detail[0].type, "idempotency_key_reused");
    assert.equal(await usage(server), 1);
  } finally {
    await server.close();
  }
});

Deno.test("a repeated GraphQL add_breadcrumb or add_project key records once", async () => {
  const { server } = start();
  try {
    const crumb =
      'mutation{add_breadcrumb(project:"acme/tool",project_version:"1.0.0",language:"python",language_version:"3.12",ctx:{},proc:{}){success,message}}';
    const project =
      'mutation{add_project(p:{project:"acme/tool",project_version:"1.0.0",language:"python",language_version:"3.12"})}';
    for (const [query, key] of [[crumb, "g1"], [crumb, "g1"], [project, "g2"], [project, "g2"]]) {
      const answer = await post(server, "/graphql", { query }, key);
      assert.equal(answer.status, 200);
      const body = await answer.json();
      assert.equal(body.errors, undefined);
    }
    assert.equal(await usage(server), 2);
    // The same key by another route is another request.
    const reused = await post(server, "/graphql", { query: project }, "g1");
    assert.equal(reused.status, 422);
    assert.equal((await reused.json()).errors[0].extensions.code, "idempotency_key_reused");
    const rest = await post(server, "/api/breadcrumb", {
      project: "acme/tool",
      project_version: "1.0.0",
      language: "python",
      language_version: "3.12",
    }, "g1");
    assert.equal(rest.status, 422);
    await rest.body?.cancel();
    assert.equal(await usage(server), 2);
  } finally {
    await server.close();
  }
});

Deno.test("migas keys are scoped per project", async () => {
  const { server } = start({
    migas: { projects: [{ project: "acme/tool" }, { project: "acme/other" }] },
  });
  try {
    for (const project of ["acme/tool", "acme/other"]) {
      const answer = await post(server, "/api/breadcrumb", { project, project_version: "1" }, "k");
      assert.equal(answer.status, 202);
      assert.equal(answer.headers.get("idempotent-replayed"), null);
      await answer.body?.cancel();
    }
  } finally {
    await server.close();
  }
});

Deno.test("createServer refuses an idempotency window or bound that is not a positive integer", () => {
  for (
    const [field, value] of [
      ["idempotencyWindowMs", 0],
      ["idempotencyWindowMs", 1.5],
      ["idempotencyMaxKeysPerScope", 0],
      ["idempotencyMaxKeys", -1],
    ] as const
  ) {
    assert.throws(
      () => createServer({ [field]: value }),
      (error: unknown) =>
        error instanceof InvalidArgumentError &&
        error.message ===
          `Cannot create server as '${field}' must be an integer of at least 1: current value is ${value}`,
    );
  }
});

Deno.test("a key claimed when the server died is free for its retry once the SQLite store reopens", async () => {
  const directory = await Deno.makeTempDir();
  const path = `${directory}/keys.db`;
  const claim = {
    scope: "mkstats\np\nu",
    key: "k1",
    fingerprint: "f",
    now: 1,
    expiresAt: 100_000,
    leaseExpiresAt: 30_001,
    maxPerScope: 10,
    maxTotal: 100,
  };
  try {
    // The claim commits, then the process dies before the write it guards: no answer is kept.
    const crashed = new SqliteStore(path);
    assert.equal((await crashed.claimIdempotencyKey(claim)).status, "claimed");
    await crashed.close();
    const reopened = new SqliteStore(path);
    // Within the lease, yet the retry records: nothing was recorded under the dead claim.
    assert.equal((await reopened.claimIdempotencyKey({ ...claim, now: 2 })).status, "claimed");
    await reopened.settleIdempotencyKey(claim.scope, claim.key, { status: 200, body: "{}" });
    await reopened.close();
    // An answered key outlives the restart, so its retry is still a replay.
    const again = new SqliteStore(path);
    assert.deepEqual(await again.claimIdempotencyKey({ ...claim, now: 3 }), {
      status: "held",
      fingerprint: "f",
      answer: { status: 200, body: "{}" },
    });
    await again.close();
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
