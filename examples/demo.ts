/**
 * The newcomer's tour: starts the reference server on the embedded SQLite
 * store, runs the mkStats client through a plugin's whole life against it
 * (handshake with proof-of-work, ping, events, queued events and a flush, a
 * heartbeat of two iterations), prints what happened, and stops cleanly.
 *
 * Run it with `deno task demo`.
 *
 * @module
 */

import { MkStatsClient } from "../src/mkstats/mod.ts";
import { MemoryStorage } from "../src/core/storage.ts";
import { createServer } from "../src/server/mod.ts";

const adminKey = crypto.randomUUID();
const dir = await Deno.makeTempDir({ prefix: "edgewire-demo-" });
const server = createServer({ store: `${dir}/edgewire.db`, adminKey, difficulty: 4 });
const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
const base = `http://127.0.0.1:${http.addr.port}`;
const step = (label: string, detail: unknown = "") =>
  console.log(
    `• ${label.padEnd(34)} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`,
  );

try {
  console.log(`Reference server on ${base} (SQLite at ${dir}/edgewire.db)\n`);
  const storage = new MemoryStorage();
  const client = new MkStatsClient({
    pluginId: "demo_plugin",
    pluginVersion: "1.0.0",
    apiUrl: `${base}/api`,
    storage,
  });

  const started = performance.now();
  const token = await client.handshake();
  step(
    "handshake (proof-of-work solved)",
    `token of ${token.length} chars in ${(performance.now() - started).toFixed(0)} ms`,
  );
  step("ping", await client.sendPing());
  step("trackEvent('feature clicked', 2)", await client.trackEvent("feature clicked", 2));

  client.queueEvent("menu_opened");
  client.queueEvent("menu_opened");
  client.queueEvent("export_done", 3);
  step("queueEvent ×3", `${client.queueStats().queued} names queued`);
  step("flushEvents()", `drained: ${await client.flushEvents()}`);

  client.queueEvent("during_heartbeat");
  const report = await client.heartbeat({ intervalSeconds: 0.2, iterations: 2 });
  step("heartbeat (2 iterations, 0.2 s)", report);

  const restarted = new MkStatsClient({
    pluginId: "demo_plugin",
    pluginVersion: "1.0.0",
    apiUrl: `${base}/api`,
    storage,
  });
  step("restarted client pings", {
    reusedToken: (await restarted.installToken()) === token,
    ...await restarted.sendPing(),
  });
  step("queue after all that", client.queueStats());

  const stats = await fetch(`${base}/api/v1/stats/demo_plugin`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  const recorded = await stats.json() as {
    installs: number;
    daily_actives: { day: string; count: number }[];
    events: { event: string; version: string; count: number }[];
  };
  console.log("\nWhat the server recorded (GET /api/v1/stats/demo_plugin):");
  console.log(`  installs: ${recorded.installs}`);
  for (const { day, count } of recorded.daily_actives) {
    console.log(`  daily actives on ${day}: ${count}`);
  }
  for (const { event, version, count } of recorded.events) {
    console.log(`  ${event.padEnd(20)} v${version}  ×${count}`);
  }
} finally {
  await http.shutdown();
  await server.close();
  await Deno.remove(dir, { recursive: true });
  console.log("\nServer stopped, store removed.");
}
