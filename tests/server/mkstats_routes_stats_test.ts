/**
 * The mkStats admin stats route: it needs the admin key and returns
 * installs, daily actives and events.
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
