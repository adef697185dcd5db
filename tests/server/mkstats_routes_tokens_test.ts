/**
 * The mkStats handshake and install tokens on the reference server:
 * challenges, issued tokens, the /api alias, refused tokens and the first
 * ping before events.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  COMMON,
  event,
  expectJson,
  handshake,
  makeServer,
  ping,
  post,
} from "./_mkstats_routes_fixtures.ts";

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
