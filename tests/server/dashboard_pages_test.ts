/**
 * Each page of the `/dashboard` shows the figures the store (and the live
 * broker and relay) hold after ingest through the real routes: mkStats
 * plugins listed most active first with their activity per version, migas
 * usage per project version with flagged versions highlighted, the Emitter
 * broker's channels with live subscribers, the Spot blob totals, and the
 * login limiter and failed logins in `/metrics`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hex } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  ADMIN,
  figure,
  HONCH_KEY,
  honchContext,
  login,
  page,
  postLogin,
  PROJECT,
  rows,
  start,
} from "./_dashboard_fixtures.ts";
import { COMMON, event, expectJson, handshake, ping } from "./_mkstats_routes_fixtures.ts";
import { roundTrip, websocketPeer } from "./emitter/_mqtt_peer.ts";

Deno.test("each service page shows what the store holds after ingest through the real routes", async () => {
  const { server, store, clock } = start();
  const now = clock.time;
  // mkStats: two installs, a ping each, events on two versions
  const first = await handshake(server);
  const second = await handshake(server, { ...COMMON, user_hash: "c".repeat(64) });
  await expectJson(await ping(server, first), 200);
  await expectJson(await ping(server, second, { user_hash: "c".repeat(64) }), 200);
  for (let i = 0; i < 3; i++) await expectJson(await event(server, first), 200);
  await expectJson(
    await event(server, second, { user_hash: "c".repeat(64), version: "1.1.0", event: "opened" }),
    200,
  );
  // A second plugin, less active: one install, one ping, one event
  const other = { ...COMMON, plugin_id: "second_plugin", user_hash: "d".repeat(64) };
  const third = await handshake(server, other);
  await expectJson(
    await ping(server, third, { plugin_id: other.plugin_id, user_hash: other.user_hash }),
    200,
  );
  await expectJson(
    await event(server, third, {
      plugin_id: other.plugin_id,
      user_hash: other.user_hash,
      version: "2.0.0",
    }),
    200,
  );
  // Honch: two sessions, one crash
  const capture = (session: string, events: unknown[]) =>
    server.fetch(
      new Request("http://localhost/capture", {
        method: "POST",
        headers: { "content-type": "application/json", "x-honch-project-key": HONCH_KEY },
        body: JSON.stringify({ context: honchContext("device-1", session), events }),
      }),
    );
  const at = (minutes: number) => now - 3_600_000 + minutes * 60_000;
  await expectJson(
    await capture("s1", [{ event: "boot", timestamp: at(0) }, { event: "tap", timestamp: at(1) }]),
    200,
  );
  await expectJson(
    await capture("s2", [
      { event: "boot", timestamp: at(61) },
      {
        event: "$crash",
        timestamp: at(62),
        properties: { name: "TypeError", message: "disk full" },
      },
    ]),
    200,
  );
  // migas: three breadcrumbs from two users on the flagged version, one on the latest
  for (
    const [user, version] of [["u1", "1.0.1"], ["u1", "1.0.1"], ["u2", "1.0.1"], ["u3", "2.0.0"]]
  ) {
    const response = await server.fetch(
      new Request("http://localhost/api/breadcrumb?wait=true", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          project: PROJECT,
          project_version: version,
          language: "javascript",
          language_version: "22.0.0",
          ctx: { user_id: user, platform: "linux", container: "unknown", is_ci: false },
          proc: { status: "C" },
        }),
      }),
    );
    assert.equal(response.status, 200, await response.text());
  }
  const cookie = await login(server);

  const stats = await store.getStats(COMMON.plugin_id);
  const mkstats = await page(server, `/dashboard/mkstats?plugin=${COMMON.plugin_id}`, cookie);
  assert.equal(figure(mkstats, "Installs"), String(stats.installs));
  assert.equal(stats.installs, 2);
  assert.equal(figure(mkstats, "Daily actives today"), String(stats.daily_actives.at(-1)?.count));
  assert.equal(figure(mkstats, "Events"), "4");
  assert.deepEqual(
    rows(mkstats, "mkstats-events"),
    stats.events.map((entry) => [entry.event, entry.version, String(entry.count)]),
  );
  assert.deepEqual(rows(mkstats, "mkstats-daily-actives"), [["2026-11-25", "2"]]);
  const window = { firstDay: "2026-10-27", lastDay: "2026-11-25", limit: 1000 };
  const perVersion = async (pluginId: string) => {
    const totals = new Map<string, [number, number]>();
    for (const row of await store.getMkStatsActivity(pluginId, window)) {
      const [actives, events] = totals.get(row.version) ?? [0, 0];
      totals.set(row.version, [actives + row.actives, events + row.events]);
    }
    return [...totals].sort(([a], [b]) => a < b ? -1 : 1)
      .map(([version, [actives, events]]) => [version, String(actives), String(events)]);
  };
  assert.deepEqual(rows(mkstats, "mkstats-versions"), await perVersion(COMMON.plugin_id));
  assert.deepEqual(rows(mkstats, "mkstats-versions"), [["1.0.0", "2", "3"], ["1.1.0", "0", "1"]]);

  // Without a plugin id: every active plugin, most active first, each with its versions
  const plugins = await store.listMkStatsPlugins({ ...window, limit: 20 });
  const listed = await page(server, "/dashboard/mkstats", cookie);
  assert.equal(figure(listed, "Plugins active, 30 days"), String(plugins.length));
  assert.deepEqual(
    rows(listed, "mkstats-plugins"),
    plugins.map((plugin) => [plugin.pluginId, String(plugin.actives), String(plugin.events)]),
  );
  assert.deepEqual(rows(listed, "mkstats-plugins"), [
    [COMMON.plugin_id, "2", "4"],
    ["second_plugin", "1", "1"],
  ]);
  for (const plugin of plugins) {
    assert.deepEqual(
      rows(listed, `mkstats-versions-${plugin.pluginId}`),
      await perVersion(plugin.pluginId),
    );
  }
  assert.match(listed, /<title>2026-11-25: 2<\/title>/);

  const keyHash = hex.encode(sha256(new TextEncoder().encode(HONCH_KEY)));
  const events = await store.listHonchEvents(keyHash, 1000);
  const honch = await page(server, "/dashboard/honch", cookie);
  assert.equal(figure(honch, "Events"), String(events.length));
  assert.equal(events.length, 4);
  assert.equal(figure(honch, "Sessions"), "2");
  assert.equal(figure(honch, "Crashes"), "1");
  assert.equal(figure(honch, "Devices"), "1");
  assert.deepEqual(rows(honch, `honch-crashes-${keyHash}`), [
    ["2026-11-25 12:02:00 UTC", "device-1", "TypeError", "disk full", ""],
  ]);
  // By hour: two events at 11:00, two at 12:00
  assert.match(honch, /<title>2026-11-25 11:00: 2<\/title>/);
  assert.match(honch, /<title>2026-11-25 12:00: 2<\/title>/);

  const migas = await page(server, "/dashboard/migas", cookie);
  const monthAgo = now - 29 * 86_400_000;
  const hits = await store.countMigasUsage({
    project: PROJECT,
    start: monthAgo,
    end: now,
    unique: false,
  });
  const users = await store.countMigasUsage({
    project: PROJECT,
    start: monthAgo,
    end: now,
    unique: true,
  });
  assert.equal(hits, 4);
  assert.equal(figure(migas, "Breadcrumbs, 30 days"), String(hits));
  assert.equal(figure(migas, "Users, 30 days"), String(users));
  assert.equal(figure(migas, "Latest version"), "2.0.0");
  assert.equal(figure(migas, "Flagged versions"), "1");
  assert.match(
    migas,
    /<tr class="flagged"><td>1\.0\.1<\/td><td><span class="badge">flagged<\/span>/,
  );
  assert.match(migas, /<title>2026-11-25: 4<\/title>/);
  const usage = await store.countMigasUsageByVersion({
    project: PROJECT,
    start: monthAgo,
    end: now,
    limit: 50,
  });
  assert.deepEqual(
    rows(migas, `migas-usage-${PROJECT}`),
    usage.map((entry) => [
      entry.version,
      String(entry.breadcrumbs),
      String(entry.users),
      entry.version === "1.0.1" ? "flagged" : entry.version === "2.0.0" ? "latest" : "",
    ]),
  );
  assert.deepEqual(rows(migas, `migas-usage-${PROJECT}`), [
    ["1.0.1", "3", "2", "flagged"],
    ["2.0.0", "1", "1", "latest"],
  ]);
  // The flagged version's usage row is highlighted, the latest one's is not
  assert.match(
    migas,
    /<tr class="flagged"><td>1\.0\.1<\/td><td class="num">3<\/td><td class="num">2<\/td><td><span class="badge">flagged<\/span>/,
  );
  assert.match(migas, /<tr><td>2\.0\.0<\/td><td class="num">1<\/td>/);

  await server.close();
});

Deno.test("the Emitter and Spot pages show the live broker and relay and the stored messages", async () => {
  const { server, store } = start({ now: Date.now });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const base = `http://127.0.0.1:${http.addr.port}`;
  try {
    const cookie = await login(server);
    const idle = await page(server, "/dashboard/emitter", cookie);
    assert.equal(figure(idle, "Connections"), "0");
    assert.match(idle, /The broker has not started/);

    // Read, write and store: the message published with a ttl is kept
    const keygen = await server.fetch(
      new Request("http://localhost/keygen", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: server.emitter.secret, channel: "dash/", type: "rws", ttl: 0 }),
      }),
    );
    const key = (await expectJson(keygen, 200)).key as string;
    const mqtt = await websocketPeer(`${base.replace("http", "ws")}/mqtt`, ["mqtt"]);
    await roundTrip(mqtt, key, "dash/", "hello");
    await mqtt.send({
      type: "publish",
      topic: `${key}/dash/?ttl=60`,
      payload: new TextEncoder().encode("kept"),
      qos: 0,
      retain: false,
      dup: false,
    });
    assert.equal((await mqtt.next()).type, "publish");
    const spot = new WebSocket(`${base.replace("http", "ws")}/_websocket`);
    await new Promise((resolve, reject) => {
      spot.onopen = resolve;
      spot.onerror = reject;
    });
    const spotClosed = new Promise((resolve) => spot.onclose = resolve);

    const emitter = await page(server, "/dashboard/emitter", cookie);
    const stats = server.emitter.stats();
    const usage = await store.emitterContractUsage(server.emitter.license.contract, Date.now());
    assert.equal(figure(emitter, "Connections"), String(stats.connections));
    assert.equal(stats.connections, 1);
    assert.equal(figure(emitter, "Subscriptions"), String(stats.subscriptions));
    assert.equal(figure(emitter, "Messages in"), String(stats.messagesIn));
    assert.equal(stats.messagesIn, 2);
    assert.equal(figure(emitter, "Messages out"), String(stats.messagesOut));
    assert.equal(figure(emitter, "Stored messages"), String(usage.messages));
    assert.equal(usage.messages, 1);
    assert.equal(figure(emitter, "Stored bytes"), String(usage.bytes));
    const live = server.emitter.liveChannels(20);
    assert.equal(figure(emitter, "Channels with live subscribers"), String(live.channels));
    assert.equal(live.channels, 1);
    assert.deepEqual(
      rows(emitter, "emitter-live-channels"),
      live.top.map((entry) => [entry.channel, String(entry.subscribers)]),
    );
    assert.deepEqual(rows(emitter, "emitter-live-channels"), [["dash/", "1"]]);
    assert.equal(figure(emitter, "Channels with stored messages"), "1");
    assert.equal(rows(emitter, "emitter-channels")[0][0], "dash/");

    // Two blobs of two owners, as the relay writes them
    for (const [owner, length] of [["k.a", 3], ["k.b", 4]] as const) {
      const value = new Uint8Array(length);
      const write = { owner, key: "kv", value, now: 1, maxOwnerBytes: 100, maxOwnerBlobs: 5 };
      assert.equal(await store.putSpotBlob(write), true);
    }
    const spotPage = await page(server, "/dashboard/spot", cookie);
    assert.equal(figure(spotPage, "Peers online"), String(server.spot.connectionCount));
    assert.equal(server.spot.connectionCount, 1);
    const totals = await store.spotBlobTotals();
    assert.equal(figure(spotPage, "Blobs stored"), String(totals.blobs));
    assert.equal(figure(spotPage, "Blob bytes"), String(totals.bytes));
    assert.deepEqual(totals, { blobs: 2, bytes: 7 });
    spot.close();
    await spotClosed;
    await mqtt[Symbol.asyncDispose]();
  } finally {
    await http.shutdown();
    await server.close();
  }
});

Deno.test("failed logins and the login limiter's keys show in /metrics", async () => {
  const { server } = start();
  const metrics = async (): Promise<string> => {
    const response = await server.fetch(
      new Request("http://localhost/metrics", { headers: { authorization: `Bearer ${ADMIN}` } }),
    );
    assert.equal(response.status, 200);
    return await response.text();
  };
  const gauge = (text: string): number =>
    Number(/^edgewire_rate_limit_keys (\d+)$/m.exec(text)?.[1]);
  // The address that asks for /metrics is one key; the login limiter holds none yet
  const before = gauge(await metrics());
  assert.equal(before, 1);
  for (let i = 0; i < 2; i++) {
    const response = await postLogin(server, "not-the-key");
    assert.equal(response.status, 401);
    await response.body?.cancel();
  }
  const after = await metrics();
  assert.equal(gauge(after), before + 1);
  assert.match(after, /^edgewire_http_rejections_total\{reason="dashboard_login_failed"\} 2$/m);
  assert.match(await login(server), /^edgewire_dashboard=/);
  assert.match(
    await metrics(),
    /^edgewire_http_rejections_total\{reason="dashboard_login_failed"\} 2$/m,
  );
  await server.close();
});
