/**
 * What the SQLite store keeps in memory for speed stays true: the pinged
 * installs and registered projects it remembers never answer a stale
 * refusal or a stale version (also when another store writes the same
 * file), and the counters a batch sums in memory are read back with the
 * batch. (Its idempotency keys: `store_sqlite_idempotency_test.ts`.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { crumb, install, USER } from "./_contract_fixtures.ts";

const DAY = 86_400_000;

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a SQLite store finds an install pinged after it was first found unpinged or unknown", async () => {
  const store = new SqliteStore(":memory:");
  try {
    assert.equal(await store.findInstallToken("t"), undefined);
    await store.recordInstall(install("t", 1));
    assert.equal((await store.findInstallToken("t"))?.hasPinged, false);
    assert.equal((await store.findInstallToken("t"))?.hasPinged, false);
    await store.recordPing({ pluginId: "p", userHash: USER, version: "1.0.0", day: "d", now: 2 });
    const found = await store.findInstallToken("t");
    assert.deepEqual(found, { pluginId: "p", userHash: USER, expiresAt: 1001, hasPinged: true });
    // What a caller does with the answer does not change the next one.
    found!.pluginId = "changed";
    assert.equal((await store.findInstallToken("t"))?.pluginId, "p");
  } finally {
    await store.close();
  }
});

Deno.test("a SQLite store finds a project as another store on the same file last registered it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/shared.db`;
    const first = new SqliteStore(path);
    const second = new SqliteStore(path);
    try {
      assert.equal(await first.findMigasProject("acme/tool"), undefined);
      await second.registerMigasProject({ project: "acme/tool", latestVersion: "1.0.0", now: 1 });
      assert.equal((await first.findMigasProject("acme/tool"))?.latestVersion, "1.0.0");
      assert.equal((await first.findMigasProject("acme/tool"))?.latestVersion, "1.0.0");
      await second.registerMigasProject({
        project: "acme/tool",
        latestVersion: "2.0.0",
        badVersions: ["1.0.0"],
        now: 2,
      });
      assert.deepEqual(await first.findMigasProject("acme/tool"), {
        project: "acme/tool",
        latestVersion: "2.0.0",
        badVersions: ["1.0.0"],
      });
      // Its own registration too.
      await first.registerMigasProject({ project: "acme/tool", latestVersion: "3.0.0", now: 3 });
      assert.equal((await first.findMigasProject("acme/tool"))?.latestVersion, "3.0.0");
      assert.equal((await second.findMigasProject("acme/tool"))?.latestVersion, "3.0.0");
    } finally {
      await first.close();
      await second.close();
    }
  });
});

Deno.test("a SQLite store reads the events and breadcrumbs of its open batch", async () => {
  const store = new SqliteStore(":memory:");
  try {
    const event = { pluginId: "p", event: "e", version: "1", day: "2025-03-01", count: 2 };
    // Not awaited: all of them, and the reads, share one batch.
    const writes = [
      store.addEventCount(event),
      store.addEventCount({ ...event, count: 3 }),
      store.addEventCount({ ...event, version: "2" }),
      store.addMigasBreadcrumb({ ...crumb("u1", 1), projectVersion: "1.0.0" }),
      store.addMigasBreadcrumb({ ...crumb("u2", 2), projectVersion: "1.0.0" }),
      store.addMigasBreadcrumb({ ...crumb("u1", 3), projectVersion: "2.0.0" }),
      store.addMigasBreadcrumb({ ...crumb(undefined, DAY + 1), projectVersion: "2.0.0" }),
    ];
    const stats = store.getStats("p");
    const usage = store.countMigasUsage({ project: "acme/tool", start: 0, end: DAY, unique: true });
    const hits = store.countMigasUsage({
      project: "acme/tool",
      start: 0,
      end: 2 * DAY,
      unique: false,
    });
    await Promise.all(writes);
    assert.deepEqual((await stats).events, [
      { event: "e", version: "1", count: 5 },
      { event: "e", version: "2", count: 2 },
    ]);
    assert.equal(await usage, 2);
    assert.equal(await hits, 4);
    // A later batch adds to the rows the first one wrote, its users merged into their sketches.
    await Promise.all([
      store.addEventCount(event),
      store.addMigasBreadcrumb({ ...crumb("u3", 4), projectVersion: "2.0.0" }),
      store.addMigasBreadcrumb({ ...crumb("u1", 5), projectVersion: "2.0.0" }),
    ]);
    assert.deepEqual(
      await store.listMkStatsPlugins({ firstDay: "2025-03-01", lastDay: "2025-03-01", limit: 9 }),
      [{ pluginId: "p", actives: 0, events: 9 }],
    );
    assert.equal(
      await store.countMigasUsage({ project: "acme/tool", start: 0, end: DAY, unique: true }),
      3,
    );
    assert.deepEqual(
      await store.countMigasUsageByVersion({ project: "acme/tool", start: 0, end: DAY, limit: 9 }),
      [
        { version: "2.0.0", breadcrumbs: 4, users: 2 },
        { version: "1.0.0", breadcrumbs: 2, users: 2 },
      ],
    );
  } finally {
    await store.close();
  }
});

Deno.test("a SQLite store refuses a malformed event alone, counting the batch's others", async () => {
  const store = new SqliteStore(":memory:");
  try {
    const event = { pluginId: "p", event: "e", version: "1", day: "2025-03-01", count: 1 };
    const good = store.addEventCount(event);
    await assert.rejects(
      store.addEventCount({ ...event, count: 0.5 }),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === "event",
    );
    await good;
    assert.deepEqual((await store.getStats("p")).events, [{ event: "e", version: "1", count: 1 }]);
  } finally {
    await store.close();
  }
});
