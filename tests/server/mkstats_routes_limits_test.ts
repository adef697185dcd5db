/**
 * The rate limits of the mkStats routes: per address and per install token.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  COMMON,
  expectJson,
  handshake,
  makeServer,
  ping,
  post,
} from "./_mkstats_routes_fixtures.ts";

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
