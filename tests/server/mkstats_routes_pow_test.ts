/**
 * The proof-of-work checks of the mkStats handshake: replayed, forged,
 * expired and malformed challenges are refused with 403.
 *
 * @module
 */

import assert from "node:assert/strict";
import { COMMON, expectJson, makeServer, post, solve } from "./_mkstats_routes_fixtures.ts";

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
