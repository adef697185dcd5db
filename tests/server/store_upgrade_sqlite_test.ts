/**
 * The dashboard's aggregates in the SQLite store (`plugin_activity`,
 * `migas_usage_versions`, `spot_blob_totals` and its triggers): a database
 * written before them gets them built from its rows when it opens, once, and
 * they answer what a database that always had them answers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { crumb } from "./_contract_fixtures.ts";

const DAY = 86_400_000;
const WINDOW = { firstDay: "2025-03-01", lastDay: "2025-03-02", limit: 100 };

async function fill(store: SqliteStore): Promise<void> {
  const ping = (userHash: string, day: string, version: string) =>
    store.recordPing({ pluginId: "p", userHash, day, version, now: 1 });
  await ping("a", "2025-03-01", "1");
  // Once a day, once counted; the same version, as a database from before keeps only the last.
  await ping("a", "2025-03-01", "1");
  await ping("b", "2025-03-02", "2");
  await store.addEventCount({
    pluginId: "p",
    event: "e",
    version: "2",
    day: "2025-03-02",
    count: 5,
  });
  await store.addEventCount({
    pluginId: "q",
    event: "e",
    version: "1",
    day: "2025-03-01",
    count: 2,
  });
  await store.addMigasBreadcrumbs([
    { ...crumb("u1", 1), projectVersion: "1.0.0" },
    { ...crumb("u2", 2), projectVersion: "1.0.0" },
    { ...crumb("u2", DAY + 1), projectVersion: "2.0.0" },
  ]);
  for (const [owner, length] of [["k.a", 3], ["k.b", 5]] as const) {
    await store.putSpotBlob({
      owner,
      key: "x",
      value: new Uint8Array(length),
      now: 1,
      maxOwnerBytes: 100,
      maxOwnerBlobs: 5,
    });
  }
}

async function reads(store: SqliteStore): Promise<unknown[]> {
  return [
    await store.listMkStatsPlugins(WINDOW),
    await store.getMkStatsActivity("p", WINDOW),
    await store.countMigasUsageByVersion({ project: "acme/tool", start: 0, end: DAY, limit: 9 }),
    await store.spotBlobTotals(),
  ];
}

Deno.test("a SQLite database from before the dashboard's aggregates gets them built on open", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fresh = new SqliteStore(`${dir}/fresh.db`);
    await fill(fresh);
    const expected = await reads(fresh);
    await fresh.close();
    assert.deepEqual(expected[3], { blobs: 2, bytes: 8 });

    const path = `${dir}/old.db`;
    const first = new SqliteStore(path);
    await fill(first);
    await first.close();
    // As the store left a database before the aggregates existed.
    const raw = new DatabaseSync(path);
    raw.exec(`DROP TABLE plugin_activity; DROP TABLE migas_usage_versions;
      DROP TRIGGER spot_blobs_added; DROP TRIGGER spot_blobs_replaced;
      DROP TRIGGER spot_blobs_removed; DROP TABLE spot_blob_totals;`);
    raw.close();

    const reopened = new SqliteStore(path);
    assert.deepEqual(await reads(reopened), expected);
    // The triggers are back: the totals follow a delete.
    assert.equal(await reopened.deleteSpotBlob("k.a", "x"), true);
    await reopened.recordPing({
      pluginId: "p",
      userHash: "c",
      day: "2025-03-02",
      version: "2",
      now: 2,
    });
    await reopened.close();
    // Built once: a second open keeps what the first built and what came after.
    const again = new SqliteStore(path);
    assert.deepEqual(await again.spotBlobTotals(), { blobs: 1, bytes: 5 });
    assert.deepEqual((await again.listMkStatsPlugins(WINDOW))[0], {
      pluginId: "p",
      actives: 3,
      events: 5,
    });
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
