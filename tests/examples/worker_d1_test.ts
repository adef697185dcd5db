/**
 * Runs the example Worker (`examples/worker/worker.ts`) in workerd through
 * Miniflare with the compatibility settings and D1 binding its
 * `wrangler.jsonc` declares, and drives the repository's mkStats, Honch and
 * migas clients against it from Deno: a proof-of-work handshake, a ping and
 * an event, a Honch capture, a waited migas breadcrumb and a version check.
 * What they recorded is read back through the admin routes and straight from
 * the D1 database. Ignored when Miniflare cannot load, failed when
 * EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { exerciseClients, SMOKE } from "../runtimes/_all_clients.ts";
import { ADMIN_KEY, verifyRecorded } from "../runtimes/_reference.ts";
import { serveWorker, WORKERD_TEST } from "../_helpers/workerd.ts";

const EXAMPLE = new URL("../../examples/worker/", import.meta.url);

interface WranglerConfig {
  main: string;
  compatibility_date: string;
  compatibility_flags: string[];
  d1_databases: { binding: string }[];
  vars: Record<string, string>;
}

/** The example's wrangler.jsonc; its comments take whole lines, so dropping them leaves JSON. */
async function wranglerConfig(): Promise<WranglerConfig> {
  const text = await Deno.readTextFile(new URL("wrangler.jsonc", EXAMPLE));
  const json = text.split("\n").filter((line) => !line.trim().startsWith("//")).join("\n");
  return JSON.parse(json);
}

async function count(db: D1Like, table: string): Promise<number> {
  return Number((await db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first())?.n);
}

type D1Like = Awaited<ReturnType<Awaited<ReturnType<typeof serveWorker>>["d1"]>>;

Deno.test({
  name: "the example Worker serves mkStats, Honch and migas clients from its D1 database",
  ...WORKERD_TEST,
  async fn() {
    const config = await wranglerConfig();
    assert.equal(config.main, "worker.ts");
    assert.deepEqual(config.d1_databases.map((database) => database.binding), ["DB"]);
    await using worker = await serveWorker(new URL(config.main, EXAMPLE), {
      ...config.vars,
      ADMIN_KEY,
      HONCH_PROJECT_KEYS: SMOKE.honchProjectKey,
    }, {
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags,
      d1Databases: ["DB"],
    });
    assert.ok(!worker.script.includes("node:sqlite"), "the bundle names node:sqlite");
    const base = worker.url.origin;
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });

    // The project the migas client checks, registered by its admin
    const registered = await call("/api/admin/register", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ project: SMOKE.migasProject, latest_version: SMOKE.migasLatest }),
    });
    assert.equal(registered.status, 200, await registered.clone().text());
    await registered.body?.cancel();

    const report = await exerciseClients(base, "workerd_d1");
    await verifyRecorded(base, report);

    // Everything went to D1: the database the Worker's binding writes holds it
    const db = await worker.d1("DB");
    assert.equal(await count(db, "installs"), 1);
    assert.equal(await count(db, "daily_actives"), 1);
    const { results: events = [] } = await db.prepare("SELECT event FROM honch_events ORDER BY id")
      .all();
    // The client's boot, the run's own event, and the shutdown its close() sent
    assert.deepEqual(events.map((row) => row.event), [
      "$device_boot",
      "ran_on_workerd_d1",
      "$device_shutdown",
    ]);
    assert.equal(await count(db, "migas_breadcrumbs"), 1);
    assert.equal(await count(db, "migas_projects"), 1);
    assert.deepEqual(await db.prepare("SELECT version FROM edgewire_migrations").first(), {
      version: 1,
    });

    // A retried breadcrumb with its Idempotency-Key is answered as the first and stored once
    const crumb = { project: SMOKE.migasProject, project_version: "1.0.0", language: "python" };
    const send = () =>
      call("/api/breadcrumb?wait=true", {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": "worker-crumb-1" },
        body: JSON.stringify(crumb),
      });
    const first = await send();
    assert.equal(first.status, 200, await first.clone().text());
    assert.equal(first.headers.get("idempotent-replayed"), null);
    const answer = await first.text();
    const again = await send();
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.equal(await again.text(), answer);
    assert.equal(await count(db, "migas_breadcrumbs"), 2);

    // The realtime services are not served by a stateless Worker
    const upgrade = await call("/", { headers: { upgrade: "websocket" } });
    assert.equal(upgrade.status, 501);
    assert.deepEqual(await upgrade.json(), { error: "realtime_unavailable" });
  },
});
