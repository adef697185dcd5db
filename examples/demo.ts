/**
 * The newcomer's tour, `deno task demo`: starts the reference server on an
 * embedded SQLite file in a temporary directory, runs every client module
 * against it (mkStats with a proof-of-work handshake, Honch events and a
 * caught crash, migas breadcrumbs and version checks, Emitter keys, a publish
 * reaching two subscribers and the history, two Spot keys exchanging an
 * encrypted query through the relay and an encrypted blob), prints what the
 * server recorded for each, then stops and removes the directory. It takes a
 * few seconds and writes nothing anywhere else.
 *
 * @module
 */

import { MemoryStorage } from "../src/core/storage.ts";
import { EmitterClient } from "../src/emitter/mod.ts";
import { HonchClient } from "../src/honch/mod.ts";
import { createMigas, formatUpdateNotice } from "../src/migas/mod.ts";
import { MkStatsClient } from "../src/mkstats/mod.ts";
import { createServer } from "../src/server/mod.ts";
import { SqliteStore } from "../src/server/sqlite/mod.ts";
import { SpotClient } from "../src/spot/mod.ts";

const ADMIN_KEY = crypto.randomUUID();
const HONCH_KEY = "phc_demo_project";
const TOOL = "edgewire/demo-tool";

const dir = await Deno.makeTempDir({ prefix: "edgewire-demo-" });
const store = new SqliteStore(`${dir}/edgewire.db`);
const server = createServer({
  store,
  adminKey: ADMIN_KEY,
  difficulty: 4,
  honch: { projectKeys: [HONCH_KEY] },
  // What `EDGEWIRE_MIGAS_PROJECTS` and `EDGEWIRE_MIGAS_BAD_VERSIONS` set for `deno task serve`
  migas: { projects: [{ project: TOOL, latestVersion: "1.2.0", badVersions: ["1.0.0"] }] },
});
const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
const base = `http://127.0.0.1:${http.addr.port}`;

const heading = (text: string) => console.log(`\n${text}`);
const step = (label: string, detail: unknown = "") =>
  console.log(
    `  • ${label.padEnd(36)} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`,
  );
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
const admin = async (path: string) => {
  const response = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
  return await response.json();
};

try {
  console.log(`Reference server on ${base} (SQLite in ${dir}, removed at the end)`);

  heading("mkStats: plugin analytics behind a proof-of-work handshake");
  const mkstats = new MkStatsClient({
    pluginId: "demo_plugin",
    pluginVersion: "1.0.0",
    endpoint: `${base}/api`,
    storage: new MemoryStorage(),
  });
  const started = performance.now();
  const token = await mkstats.handshake();
  step(
    "handshake (proof-of-work solved)",
    `token of ${token.length} chars in ${(performance.now() - started).toFixed(0)} ms`,
  );
  step("sendPing()", await mkstats.sendPing());
  step("trackEvent('feature clicked', 2)", await mkstats.trackEvent("feature clicked", 2));
  mkstats.queueEvent("menu_opened");
  mkstats.queueEvent("export_done", 3);
  step("queueEvent ×2, flushEvents()", `drained: ${await mkstats.flushEvents()}`);
  step(
    "heartbeat (2 × 0.2 s)",
    await mkstats.heartbeat({ intervalSeconds: 0.2, iterations: 2 }),
  );

  heading("Honch: product events and crash reports, in compact wire-v2 frames");
  const honch = new HonchClient({
    apiKey: HONCH_KEY,
    deviceId: "demo-device",
    deviceModel: "demo-board",
    firmwareVersion: "1.0.0",
    endpoint: base,
    storage: new MemoryStorage(),
  });
  honch.track("app_opened");
  honch.track("export_clicked", { format: "csv", rows: 42 });
  const flushed = await honch.flush();
  step("track ×2, flush()", `sent ${flushed.sent}, ${flushed.remaining} left`);
  try {
    await honch.run(() => {
      throw new RangeError("Disk is full");
    });
  } catch (error) {
    step("run(() => throws RangeError)", `caught ${error}, $crash uploaded`);
  }
  await honch.shutdown();

  heading("migas: usage breadcrumbs and version checks");
  const migas = createMigas({
    endpoint: base,
    storage: new MemoryStorage(),
    checkIntervalMs: 0,
    // This server is local and in-process: no CI detection or opt-out variables apply to it
    env: () => undefined,
    lifecycle: {},
  });
  const run = migas.track(TOOL, "1.1.0");
  step(`track('${TOOL}', '1.1.0')`, await run.started);
  step("finish()", await run.finish());
  for (const version of ["1.1.0", "1.0.0", "1.2.0"]) {
    const notice = formatUpdateNotice(await migas.checkProject(TOOL, version));
    step(`checkProject(…, '${version}')`, notice === "" ? "(up to date: no notice)" : notice);
  }

  heading("Emitter: realtime pub/sub over MQTT on a WebSocket, served by the same server");
  const endpoint = `ws://127.0.0.1:${http.addr.port}/`;
  const [publisher, listener] = [new EmitterClient({ endpoint }), new EmitterClient({ endpoint })];
  await Promise.all([publisher.connect(), listener.connect()]);
  const secret = server.emitter.secret!; // the master key of the license generated for this run
  const { key } = await publisher.keygen({ key: secret, channel: "demo/", type: "rwsl", ttl: 0 });
  step("keygen('demo/', type 'rwsl')", `a ${key.length}-char channel key`);
  const room = await listener.subscribe({ key, channel: "demo/" });
  const [heard] = await Promise.all([
    room[Symbol.asyncIterator]().next(),
    publisher.publish({ key, channel: "demo/", message: "hello, subscriber", ttl: 60, qos: 1 }),
  ]);
  step(
    "publish → other client's subscribe()",
    `${heard.value?.channel} "${heard.value?.asString()}"`,
  );
  const kept = await publisher.history({ key, channel: "demo/", last: 5 });
  step("history({ last: 5 })", kept.map((message) => message.asString()));
  await Promise.all([publisher.disconnect(), listener.disconnect()]);

  heading("Spot: end-to-end encrypted queries between keys, through the same server's relay");
  const url = `ws://127.0.0.1:${http.addr.port}/_websocket`;
  const [alice, bob] = [new SpotClient({ url }), new SpotClient({ url })];
  bob.setHandler("greet", (message) => {
    const name = new TextDecoder().decode(message.body);
    return `hello ${name}, from bob (${message.encrypted ? "it came encrypted" : "in clear"})`;
  });
  await Promise.all([alice.waitOnline(), bob.waitOnline()]);
  step("two keys, two IDCards, handshakes", `alice ${alice.address}`);
  const answer = await alice.query(`${bob.address}/greet`, "alice");
  step("alice.query('<bob>/greet', 'alice')", `"${new TextDecoder().decode(answer)}"`);
  await alice.storeBlob("notes", "only alice can read this");
  const note = new TextDecoder().decode(await alice.fetchBlob("notes"));
  step("storeBlob, fetchBlob('notes')", `"${note}"`);
  alice.close();
  bob.close();

  heading("What the server recorded");
  const stats = await admin("/api/v1/stats/demo_plugin") as {
    installs: number;
    daily_actives: { day: string; count: number }[];
    events: { event: string; version: string; count: number }[];
  };
  console.log(
    `  mkStats  GET /api/v1/stats/demo_plugin: ${count(stats.installs, "install")}, ` +
      stats.daily_actives.map(({ day, count }) => `${count} active on ${day}`).join(", "),
  );
  for (const { event, version, count } of stats.events) {
    console.log(`           ${event} v${version} ×${count}`);
  }
  const { events } = await admin(`/api/honch/events?project_key=${HONCH_KEY}&limit=100`) as {
    events: { event: string; properties: Record<string, unknown> }[];
  };
  console.log(`  Honch    GET /api/honch/events: ${count(events.length, "event")}`);
  for (const { event, properties } of events) {
    const detail = event === "$crash"
      ? `${properties.name}: ${properties.message}`
      : event === "export_clicked"
      ? `format ${properties.format}, rows ${properties.rows}`
      : "";
    console.log(`           ${event}${detail === "" ? "" : ` (${detail})`}`);
  }
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const usage = await fetch(`${base}/api/usage/${TOOL}?start=2020-01-01&end=${tomorrow}`);
  const unique = await fetch(
    `${base}/api/usage/${TOOL}?start=2020-01-01&end=${tomorrow}&unique=true`,
  );
  console.log(
    `  migas    GET /api/usage/${TOOL}: ${count((await usage.json()).hits, "breadcrumb")} from ` +
      count((await unique.json()).hits, "user"),
  );
  const { messagesIn, messagesOut } = server.emitter.stats();
  console.log(
    `  Emitter  server.emitter.stats(): ${count(messagesIn, "PUBLISH packet")} in ` +
      `(keygen and history are requests too), ${count(messagesOut, "delivery")} out`,
  );
  const blob = await store.getSpotBlob(alice.address, "notes");
  const readable = new TextDecoder().decode(blob).includes(note);
  console.log(
    `  Spot     server.spot: ${count(server.spot.idCardCount, "IDCard")} seen; alice's blob ` +
      `"notes" is ${blob?.length} bytes of bottle (${readable ? "readable!" : "sealed"})`,
  );
} finally {
  await http.shutdown();
  await server.close();
  await Deno.remove(dir, { recursive: true });
  console.log("\nServer stopped, temporary store removed.");
}
