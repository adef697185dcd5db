/**
 * The dashboard in a real Chromium, driven by `playwright-core` with
 * Debian's Chromium (`/usr/bin/chromium`, or `EDGEWIRE_CHROMIUM`): the
 * reference server runs on 127.0.0.1 port 0, every client of this
 * repository (mkStats, Honch with a crash, migas, Emitter, Spot) sends to it
 * for real, then the test logs in through the form, opens each service's
 * page (mkStats' plugin list and activity per version, migas usage per
 * version with the flagged one highlighted, the Emitter channels with live
 * subscribers, the Spot blob totals), checks that the figures shown are what
 * the store and the live broker and relay hold, that no console error or Content Security Policy violation
 * happened, and saves a screenshot of each page to `.artifacts/dashboard/`.
 * Without Chromium the test is ignored, or failed when
 * EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hex } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
// Named inline, as the other Chromium tests do, so a fresh clone does not install the driver
// deno-lint-ignore no-import-prefix
import type { Page } from "npm:playwright-core@^1.65";
import { createServer, MemoryStore, type PluginVersionDay } from "../../src/server/mod.ts";
import { EmitterClient } from "../../src/emitter/mod.ts";
import { HonchClient } from "../../src/honch/mod.ts";
import { SpotClient } from "../../src/spot/mod.ts";
import { MemoryStorage } from "../../src/core/storage.ts";
import { exerciseClients, SMOKE } from "../runtimes/_all_clients.ts";
import { exerciseEmitter } from "../runtimes/_emitter_exercise.ts";
import { exerciseSpot } from "../runtimes/_spot_exercise.ts";
import { CHROMIUM, launchChromium } from "../runtimes/_client_runs.ts";
import { ignoredUnlessRequired, REPOSITORY_ROOT } from "../_helpers/runtimes.ts";

const ADMIN = "dashboard-admin-key-for-the-browser-test";
const ARTIFACTS = `${REPOSITORY_ROOT}.artifacts/dashboard`;
const FLAGGED = "0.9.0";
const VERSION = CHROMIUM.version?.split(" ").slice(0, 2).join(" ");

/** What the page reported that it must not: console errors and warnings, and CSP violations. */
interface Trouble {
  logged: string[];
}

async function watch(page: Page): Promise<Trouble> {
  const trouble: Trouble = { logged: [] };
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      trouble.logged.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => trouble.logged.push(`pageerror: ${error.message}`));
  // Playwright's own script, outside the page's policy: it notes every violation the page hits
  await page.addInitScript(() => {
    const seen: string[] = [];
    (globalThis as unknown as { __violations: string[] }).__violations = seen;
    globalThis.addEventListener("securitypolicyviolation", (event) => {
      const violation = event as unknown as { violatedDirective: string; blockedURI: string };
      seen.push(`${violation.violatedDirective} ${violation.blockedURI}`);
    });
  });
  return trouble;
}

async function violations(page: Page): Promise<string[]> {
  return await page.evaluate(() =>
    (globalThis as unknown as { __violations?: string[] }).__violations ?? ["no listener"]
  );
}

async function figure(page: Page, label: string): Promise<string> {
  const text = await page.textContent(`[data-figure="${label}"]`);
  assert.notEqual(text, null, `No figure '${label}' on ${page.url()}`);
  return text!.trim();
}

/** The text of each cell of a table's body rows. */
async function cells(page: Page, label: string): Promise<(string | null)[][]> {
  return await page.$$eval(
    `[data-table="${label}"] tbody tr`,
    (rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent)),
  );
}

/** Daily actives and events summed per version, by version, as the page's tables show them. */
function perVersion(rows: readonly PluginVersionDay[]): string[][] {
  const totals = new Map<string, [number, number]>();
  for (const row of rows) {
    const [actives, events] = totals.get(row.version) ?? [0, 0];
    totals.set(row.version, [actives + row.actives, events + row.events]);
  }
  return [...totals].sort(([a], [b]) => a < b ? -1 : 1)
    .map(([version, [actives, events]]) => [version, String(actives), String(events)]);
}

async function open(page: Page, base: string, path: string, name: string): Promise<void> {
  const response = await page.goto(`${base}${path}`);
  assert.equal(response?.status(), 200, `${path} answered ${response?.status()}`);
  assert.match(
    response?.headers()["content-security-policy"] ?? "",
    /^default-src 'none'; style-src 'self'/,
  );
  assert.deepEqual(await violations(page), [], `CSP violations on ${path}`);
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

Deno.test({
  name: `the dashboard shows in ${
    VERSION ?? "Chromium"
  } what every client sent, behind its login form and a strict CSP`,
  ignore: ignoredUnlessRequired(CHROMIUM),
  async fn() {
    const store = new MemoryStore();
    const server = createServer({
      store,
      adminKey: ADMIN,
      difficulty: 2,
      honch: { projectKeys: [SMOKE.honchProjectKey] },
      migas: {
        projects: [{
          project: SMOKE.migasProject,
          latestVersion: SMOKE.migasLatest,
          badVersions: [FLAGGED],
        }],
      },
      log: () => {},
    });
    const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
    const base = `http://127.0.0.1:${http.addr.port}`;
    const ws = base.replace("http:", "ws:");
    let emitterPeer: EmitterClient | undefined;
    let spotPeer: SpotClient | undefined;
    try {
      // Every client of the package, for real
      const clients = await exerciseClients(base, "dashboard");
      assert.deepEqual(clients.honch, { sent: 2, remaining: 0, dropped: 0, error: null });
      const crashing = new HonchClient({
        apiKey: SMOKE.honchProjectKey,
        deviceId: "dashboard-crash",
        deviceModel: "browser-test",
        firmwareVersion: "1.0.0",
        endpoint: base,
        storage: new MemoryStorage(),
      });
      crashing.sessionStart();
      await assert.rejects(
        crashing.run(() => {
          throw new TypeError("<script>disk full</script>");
        }, { deadlineMs: 10_000 }),
        TypeError,
      );
      await crashing.shutdown();
      const emitter = await exerciseEmitter(`${ws}/`, server.emitter.secret!, "dashboard");
      assert.deepEqual(emitter.errors, []);
      const spot = await exerciseSpot(`${ws}/_websocket`, "dashboard");
      assert.deepEqual(spot.errors, []);
      // Peers that stay online while the pages are looked at
      emitterPeer = new EmitterClient({ endpoint: `${ws}/`, timeoutMs: 10_000 });
      await emitterPeer.connect();
      const own = await emitterPeer.keygen({
        key: server.emitter.secret!,
        channel: "dashboard/",
        type: "rws",
        ttl: 600,
      });
      await emitterPeer.subscribe({ key: own.key, channel: "dashboard/" });
      spotPeer = new SpotClient({ url: `${ws}/_websocket`, timeoutMs: 10_000 });
      await spotPeer.waitOnline();
      // The exercises' own connections are gone once the broker and relay notice
      for (
        let i = 0;
        i < 200 && (server.emitter.stats().connections > 1 || server.spot.connectionCount > 1);
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }

      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await using browser = await launchChromium({ width: 1100, height: 900 });
      const page = await browser.context.newPage();
      const trouble = await watch(page);

      // The login form, a wrong key, then the right one
      await open(page, base, "/dashboard", "login");
      await page.fill("#key", "not-the-admin-key");
      await Promise.all([page.waitForURL(`${base}/dashboard/login`), page.click("button")]);
      assert.match((await page.textContent(".error")) ?? "", /not the admin key/);
      // Chromium logs the wrong key's 401 answer as a failed load: expected, and the only one
      const refused = trouble.logged.filter((line) => line.includes("status of 401"));
      assert.equal(refused.length, 1, trouble.logged.join("\n"));
      trouble.logged = trouble.logged.filter((line) => !refused.includes(line));
      await page.fill("#key", ADMIN);
      await Promise.all([page.waitForURL(`${base}/dashboard`), page.click("button")]);
      const [cookie] = await browser.context.cookies(`${base}/dashboard`);
      assert.equal(cookie?.name, "edgewire_dashboard");
      assert.deepEqual(
        [cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path],
        [true, true, "Strict", "/dashboard"],
      );
      assert.ok(!cookie.value.includes(ADMIN));
      await open(page, base, "/dashboard", "overview");
      assert.equal(await page.textContent("h1"), "Overview");

      // mkStats: the plugins listed without an id, each with its activity per version
      await open(page, base, "/dashboard/mkstats", "mkstats-plugins");
      const today = new Date().toISOString().slice(0, 10);
      const window = {
        firstDay: new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10),
        lastDay: today,
      };
      const plugins = await store.listMkStatsPlugins({ ...window, limit: 20 });
      assert.equal(plugins.length, 1);
      assert.equal(await figure(page, "Plugins active, 30 days"), String(plugins.length));
      assert.deepEqual(
        await cells(page, "mkstats-plugins"),
        plugins.map((plugin) => [plugin.pluginId, String(plugin.actives), String(plugin.events)]),
      );
      const activity = await store.getMkStatsActivity(SMOKE.pluginId, { ...window, limit: 1000 });
      assert.ok(activity.length > 0);
      const versionRows = perVersion(activity);
      assert.deepEqual(await cells(page, `mkstats-versions-${SMOKE.pluginId}`), versionRows);
      // Then one plugin, through the form
      await page.fill("#plugin", SMOKE.pluginId);
      await Promise.all([page.waitForURL(/plugin=/), page.click("main button")]);
      await open(page, base, `/dashboard/mkstats?plugin=${SMOKE.pluginId}`, "mkstats");
      const stats = await store.getStats(SMOKE.pluginId);
      assert.equal(stats.installs, 1);
      assert.equal(await figure(page, "Installs"), String(stats.installs));
      assert.equal(
        await figure(page, "Events"),
        String(stats.events.reduce((sum, entry) => sum + entry.count, 0)),
      );
      assert.equal(
        await figure(page, "Daily actives today"),
        String(stats.daily_actives.at(-1)?.count),
      );
      const eventRows = await page.$$eval(
        '[data-table="mkstats-events"] tbody tr',
        (rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent)),
      );
      assert.deepEqual(
        eventRows,
        stats.events.map((entry) => [entry.event, entry.version, String(entry.count)]),
      );
      assert.deepEqual(await cells(page, "mkstats-versions"), versionRows);

      // Honch
      await open(page, base, "/dashboard/honch", "honch");
      const keyHash = hex.encode(sha256(new TextEncoder().encode(SMOKE.honchProjectKey)));
      const events = await store.listHonchEvents(keyHash, 1000);
      const crashes = events.filter((event) => event.event === "$crash");
      assert.equal(crashes.length, 1);
      assert.equal(await figure(page, "Events"), String(events.length));
      assert.equal(await figure(page, "Crashes"), String(crashes.length));
      const sessions = new Set(
        events.map((event) => event.properties.$session_id).filter((id) => typeof id === "string"),
      );
      assert.equal(await figure(page, "Sessions"), String(sessions.size));
      const crashRow = await page.textContent(`[data-table="honch-crashes-${keyHash}"] tbody tr`);
      // Shown as text: the crash message's markup is not the page's
      assert.match(crashRow ?? "", /TypeError<script>disk full<\/script>/);
      assert.equal(await page.$$eval("main script", (found) => found.length), 0);

      // migas: one more breadcrumb, on the flagged version
      const breadcrumb = await fetch(`${base}/api/breadcrumb?wait=true`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          project: SMOKE.migasProject,
          project_version: FLAGGED,
          language: "javascript",
          language_version: "22.0.0",
          ctx: { user_id: "flagged-user", platform: "linux", container: "unknown", is_ci: false },
          proc: { status: "C" },
        }),
      });
      assert.equal(breadcrumb.status, 200, await breadcrumb.text());
      await open(page, base, "/dashboard/migas", "migas");
      const now = Date.now();
      const range = { project: SMOKE.migasProject, start: now - 29 * 86_400_000, end: now };
      const hits = await store.countMigasUsage({ ...range, unique: false });
      assert.equal(hits, 2);
      assert.equal(await figure(page, "Breadcrumbs, 30 days"), String(hits));
      assert.equal(
        await figure(page, "Users, 30 days"),
        String(await store.countMigasUsage({ ...range, unique: true })),
      );
      assert.equal(await figure(page, "Latest version"), SMOKE.migasLatest);
      assert.equal(await page.textContent("tr.flagged td"), FLAGGED);
      const usage = await store.countMigasUsageByVersion({ ...range, limit: 50 });
      assert.deepEqual(usage.map((entry) => entry.version).sort(), [FLAGGED, SMOKE.migasVersion]);
      const usageTable = `migas-usage-${SMOKE.migasProject}`;
      assert.deepEqual(
        await cells(page, usageTable),
        usage.map((entry) => [
          entry.version,
          String(entry.breadcrumbs),
          String(entry.users),
          entry.version === FLAGGED
            ? "flagged"
            : entry.version === SMOKE.migasLatest
            ? "latest"
            : "",
        ]),
      );
      // Highlighted: the flagged version's usage row, and only it
      assert.deepEqual(
        await page.$$eval(
          `[data-table="${usageTable}"] tbody tr.flagged`,
          (found) => found.map((row) => row.firstElementChild?.textContent),
        ),
        [FLAGGED],
      );

      // Emitter: a first view, a message, then the view shot, with a rate between the two
      await page.goto(`${base}/dashboard/emitter`);
      const before = server.emitter.stats().messagesOut;
      await emitterPeer.publish({ key: own.key, channel: "dashboard/", message: "tick" });
      for (let i = 0; i < 200 && server.emitter.stats().messagesOut === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await open(page, base, "/dashboard/emitter", "emitter");
      assert.equal(await page.$$eval("figure.chart svg", (found) => found.length), 2);
      const live = server.emitter.stats();
      assert.equal(live.connections, 1);
      assert.equal(await figure(page, "Connections"), String(live.connections));
      assert.equal(await figure(page, "Subscriptions"), String(live.subscriptions));
      assert.equal(await figure(page, "Messages in"), String(live.messagesIn));
      assert.equal(await figure(page, "Messages out"), String(live.messagesOut));
      const stored = await store.emitterContractUsage(server.emitter.license.contract, Date.now());
      assert.equal(stored.messages, 1);
      assert.equal(await figure(page, "Stored messages"), String(stored.messages));
      assert.equal(await figure(page, "Stored bytes"), String(stored.bytes));
      const channels = server.emitter.liveChannels(20);
      assert.equal(channels.channels, 1);
      assert.equal(await figure(page, "Channels with live subscribers"), String(channels.channels));
      assert.deepEqual(
        await cells(page, "emitter-live-channels"),
        channels.top.map((entry) => [entry.channel, String(entry.subscribers)]),
      );
      assert.deepEqual(await cells(page, "emitter-live-channels"), [["dashboard/", "1"]]);
      assert.equal(
        await page.textContent('[data-table="emitter-channels"] tbody td'),
        emitter.channel,
      );

      // Spot
      await open(page, base, "/dashboard/spot", "spot");
      assert.equal(server.spot.connectionCount, 1);
      assert.equal(await figure(page, "Peers online"), String(server.spot.connectionCount));
      assert.equal(await figure(page, "ID cards known"), String(server.spot.idCardCount));
      const totals = await store.spotBlobTotals();
      assert.equal(totals.blobs, 1);
      assert.ok(totals.bytes > 0);
      assert.equal(await figure(page, "Blobs stored"), String(totals.blobs));
      assert.equal(await figure(page, "Blob bytes"), String(totals.bytes));

      // Logging out ends the session
      await Promise.all([page.waitForURL(`${base}/dashboard`), page.click("header button")]);
      assert.equal(await page.textContent("h1"), "Edgewire dashboard");
      assert.deepEqual(await browser.context.cookies(`${base}/dashboard`), []);
      assert.deepEqual(await violations(page), []);
      assert.deepEqual(trouble.logged, []);
    } finally {
      await emitterPeer?.disconnect();
      spotPeer?.close();
      await server.close();
      await http.shutdown();
    }
  },
});
