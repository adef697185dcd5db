/**
 * The {@linkcode ServerStore} contract of the bounded reads the dashboard
 * makes: mkStats activity per plugin, day and version, migas usage per
 * project version, and the Spot blob totals. Every figure is checked
 * against what was written, and against the store's older reads where they
 * overlap.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { MigasBreadcrumbRecord } from "../../src/server/migas/store.ts";
import { claim, type ContractTest, crumb, install, OK_ANSWER } from "./_contract_fixtures.ts";

const DAY = 86_400_000;
const D1 = "2025-03-01";
const D2 = "2025-03-02";
const D3 = "2025-03-03";

function versioned(
  user: string | undefined,
  time: number,
  version: string,
  project = "acme/tool",
): MigasBreadcrumbRecord {
  return { ...crumb(user, time, project), projectVersion: version };
}

/**
 * Registers the contract's tests of the dashboard's reads.
 *
 * @param test Registers one contract test for the store.
 */
export function dashboardReadsContract(test: ContractTest): void {
  test("mkStats activity lists plugins most active first and counts each install's day once", async ({ store }) => {
    await store.recordInstall(install("h", 1));
    const ping = (pluginId: string, userHash: string, day: string, version: string) =>
      store.recordPing({ pluginId, userHash, day, version, now: 5 });
    const count = (pluginId: string, day: string, version: string, n: number) =>
      store.addEventCount({ pluginId, version, event: "e", day, count: n });
    await ping("p", "a", D1, "1");
    // The same install again that day, on a new version: the day counts once, under "1".
    await ping("p", "a", D1, "2");
    await ping("p", "b", D1, "2");
    await ping("p", "a", D2, "2");
    await ping("r", "a", D3, "1");
    await count("p", D1, "1", 3);
    await count("p", D2, "2", 4);
    await count("q", D1, "1", 10);
    await count("a", D2, "9", 6);
    await count("a", D2, "9", 4);
    const window = { firstDay: D1, lastDay: D2, limit: 10 };
    assert.deepEqual(await store.listMkStatsPlugins(window), [
      { pluginId: "p", actives: 3, events: 7 },
      { pluginId: "a", actives: 0, events: 10 },
      { pluginId: "q", actives: 0, events: 10 },
    ]);
    assert.deepEqual(await store.listMkStatsPlugins({ ...window, limit: 1 }), [
      { pluginId: "p", actives: 3, events: 7 },
    ]);
    assert.deepEqual(await store.listMkStatsPlugins({ firstDay: D3, lastDay: D3, limit: 5 }), [
      { pluginId: "r", actives: 1, events: 0 },
    ]);
    assert.deepEqual(
      await store.listMkStatsPlugins({ firstDay: "2026-01-01", lastDay: "2026-12-31", limit: 5 }),
      [],
    );
    const activity = await store.getMkStatsActivity("p", window);
    assert.deepEqual(activity, [
      { day: D2, version: "2", actives: 1, events: 4 },
      { day: D1, version: "1", actives: 1, events: 3 },
      { day: D1, version: "2", actives: 1, events: 0 },
    ]);
    assert.deepEqual(
      await store.getMkStatsActivity("p", { ...window, limit: 2 }),
      activity.slice(0, 2),
    );
    assert.deepEqual(
      await store.getMkStatsActivity("p", { firstDay: D2, lastDay: D3, limit: 9 }),
      activity.slice(0, 1),
    );
    assert.deepEqual(await store.getMkStatsActivity("nobody", window), []);
    // The versions of a day add up to the day's daily actives, and to the event totals.
    const stats = await store.getStats("p");
    for (const { day, count } of stats.daily_actives) {
      const sum = activity.filter((row) => row.day === day).reduce((n, row) => n + row.actives, 0);
      assert.equal(sum, count, `daily actives on ${day}`);
    }
    assert.equal(
      activity.reduce((n, row) => n + row.events, 0),
      stats.events.reduce((n, row) => n + row.count, 0),
    );
  });

  test("migas usage per version counts breadcrumbs and users over whole UTC days", async ({ store }) => {
    const at = (day: number, hour: number) => day * DAY + hour * 3_600_000;
    await store.addMigasBreadcrumb(versioned("u1", at(10, 1), "1.0.0"));
    await store.addMigasBreadcrumb(versioned("u1", at(10, 5), "1.0.0"));
    await store.addMigasBreadcrumb(versioned("u2", at(11, 1), "1.0.0"));
    await store.addMigasBreadcrumb(versioned(undefined, at(11, 2), "2.0.0"));
    await store.addMigasBreadcrumbs([
      versioned("u3", at(11, 3), "2.0.0"),
      versioned("u4", at(12, 3), "2.0.0"),
      versioned("u4", at(12, 4), "2.0.0"),
      versioned("u5", at(12, 5), "0.9.0"),
      versioned("u6", at(20, 5), "0.9.0"),
      versioned("u7", at(10, 5), "1.0.0", "other/tool"),
    ]);
    const query = { project: "acme/tool", start: at(10, 12), end: at(12, 0), limit: 10 };
    const usage = await store.countMigasUsageByVersion(query);
    assert.deepEqual(usage, [
      { version: "2.0.0", breadcrumbs: 4, users: 2 },
      { version: "1.0.0", breadcrumbs: 3, users: 2 },
      { version: "0.9.0", breadcrumbs: 1, users: 1 },
    ]);
    assert.deepEqual(
      await store.countMigasUsageByVersion({ ...query, limit: 1 }),
      usage.slice(0, 1),
    );
    // The versions add up to the project's usage over the same days.
    const total = await store.countMigasUsage({ ...query, unique: false });
    assert.equal(usage.reduce((n, row) => n + row.breadcrumbs, 0), total);
    assert.deepEqual(
      await store.countMigasUsageByVersion({ ...query, start: at(13, 0), end: at(19, 0) }),
      [],
    );
    assert.deepEqual(
      await store.countMigasUsageByVersion({ ...query, project: "other/tool" }),
      [{ version: "1.0.0", breadcrumbs: 1, users: 1 }],
    );
    assert.deepEqual(await store.countMigasUsageByVersion({ ...query, project: "no/such" }), []);
  });

  test("writes that settle an idempotency key count in the same aggregates", async ({ store }) => {
    const settle = (key: string) => ({ scope: "mkstats\np\nu", key, answer: OK_ANSWER });
    for (const key of ["ping", "event", "crumb"]) {
      assert.deepEqual(await store.claimIdempotencyKey(claim(key, 0)), { status: "claimed" });
    }
    await store.recordPing(
      { pluginId: "p", userHash: "a", day: D1, version: "3", now: 1 },
      settle("ping"),
    );
    await store.addEventCount(
      { pluginId: "p", event: "e", day: D1, version: "3", count: 2 },
      settle("event"),
    );
    await store.addMigasBreadcrumb(versioned("u1", 5, "3.0.0"), settle("crumb"));
    assert.deepEqual(await store.getMkStatsActivity("p", { firstDay: D1, lastDay: D1, limit: 5 }), [
      { day: D1, version: "3", actives: 1, events: 2 },
    ]);
    assert.deepEqual(
      await store.countMigasUsageByVersion({ project: "acme/tool", start: 0, end: 0, limit: 5 }),
      [{ version: "3.0.0", breadcrumbs: 1, users: 1 }],
    );
    for (const key of ["ping", "event", "crumb"]) {
      assert.deepEqual(await store.claimIdempotencyKey(claim(key, 1)), {
        status: "held",
        fingerprint: "f1",
        answer: OK_ANSWER,
      });
    }
  });

  test("Spot blob totals follow every write, replacement, refusal and delete", async ({ store }) => {
    assert.deepEqual(await store.spotBlobTotals(), { blobs: 0, bytes: 0 });
    const put = (owner: string, key: string, length: number, maxOwnerBlobs = 10) =>
      store.putSpotBlob({
        owner,
        key,
        value: new Uint8Array(length).fill(7),
        now: 1,
        maxOwnerBytes: 1024,
        maxOwnerBlobs,
      });
    assert.equal(await put("k.a", "x", 3), true);
    assert.equal(await put("k.b", "x", 2), true);
    assert.deepEqual(await store.spotBlobTotals(), { blobs: 2, bytes: 5 });
    assert.equal(await put("k.a", "x", 10), true);
    assert.deepEqual(await store.spotBlobTotals(), { blobs: 2, bytes: 12 });
    assert.equal(await put("k.a", "y", 1, 1), false);
    assert.equal(await put("k.a", "z", 2000), false);
    assert.deepEqual(await store.spotBlobTotals(), { blobs: 2, bytes: 12 });
    assert.equal(await store.deleteSpotBlob("k.a", "x"), true);
    assert.equal(await store.deleteSpotBlob("k.a", "x"), false);
    assert.deepEqual(await store.spotBlobTotals(), { blobs: 1, bytes: 2 });
  });
}
