/**
 * What the SQLite store keeps in memory for speed stays true: the pinged
 * installs and registered projects it remembers never answer a stale
 * refusal or a stale version (also when another store writes the same
 * file), the counters a batch sums in memory are read back with the batch,
 * and the idempotency counts it keeps per batch match the keys, from a
 * database whose counts triggers predate them too.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { DatabaseSync } from "node:sqlite";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { IDEMPOTENCY_KEYS, sqliteScript } from "../../src/server/_sqlite_schema.ts";
import { claim, crumb, install, OK_ANSWER, USER } from "./_contract_fixtures.ts";

const DAY = 86_400_000;

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The id a scope is stored under: the first 16 bytes of its SHA-256, as base64url. */
function scopeIdOf(scope: string): string {
  return base64urlnopad.encode(sha256(new TextEncoder().encode(scope)).subarray(0, 16));
}

/**
 * Each scope's kept count next to its rows' real count, and the table's
 * (under `''`), by the scope names given (the rows keep only their ids).
 */
function countsOf(
  path: string,
  scopes: readonly string[],
): { kept: Record<string, number>; real: Record<string, number> } {
  const names = new Map<string, string>([["", ""]]);
  for (const scope of scopes) names.set(scopeIdOf(scope), scope);
  const name = (id: unknown): string => names.get(String(id)) ?? `unknown ${String(id)}`;
  const raw = new DatabaseSync(path);
  try {
    const kept: Record<string, number> = {};
    for (const row of raw.prepare("SELECT scope_id, n FROM idempotency_scope_counts").all()) {
      kept[name(row.scope_id)] = Number(row.n);
    }
    const real: Record<string, number> = {};
    for (
      const row of raw.prepare(
        "SELECT scope_id, COUNT(*) AS n FROM idempotency_keys GROUP BY scope_id",
      ).all()
    ) {
      real[name(row.scope_id)] = Number(row.n);
    }
    real[""] = Number(raw.prepare("SELECT COUNT(*) AS n FROM idempotency_keys").get()!.n);
    return { kept, real };
  } finally {
    raw.close();
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

Deno.test("two SQLite stores on one file keep the idempotency counts and bounds exact", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/shared.db`;
    const first = new SqliteStore(path);
    const second = new SqliteStore(path);
    try {
      const bounded = { maxPerScope: 3, maxTotal: 5 };
      for (let i = 0; i < 8; i++) {
        const store = i % 2 === 0 ? first : second;
        const scope = i % 3 === 0 ? "a" : "b";
        // Each claim and settle in the same batch, the stores taking turns.
        await Promise.all([
          store.claimIdempotencyKey(claim(`k${i}`, i, { scope, ...bounded })),
          store.settleIdempotencyKey(scope, `k${i}`, OK_ANSWER),
        ]);
      }
      // A released key, and a replaced one (its lease over, unanswered), change no bound.
      await second.claimIdempotencyKey(claim("gone", 10, { scope: "a", ...bounded }));
      await second.settleIdempotencyKey("a", "gone", undefined);
      await first.claimIdempotencyKey(claim("late", 11, { scope: "a", ...bounded }));
      // A claim settles before its commit; in one process, the other store waits for it.
      await first.getMeta("none");
      await second.claimIdempotencyKey(claim("late", 200, { scope: "a", ...bounded }));
      await second.getMeta("none");
      assert.equal(await first.pruneIdempotencyKeys(1006, 100), 2);
    } finally {
      await first.close();
      await second.close();
    }
    const { kept, real } = countsOf(path, ["a", "b"]);
    assert.deepEqual(kept, real);
    assert.deepEqual(real, { a: 2, b: 1, "": 3 });
  });
});

Deno.test("a SQLite database whose idempotency counts had triggers counts each key once", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/old.db`;
    // As the store left a database when triggers kept the counts, and rows kept the scope text.
    const raw = new DatabaseSync(path);
    raw.exec(`${sqliteScript(IDEMPOTENCY_KEYS)}
      CREATE TABLE idempotency_counts (scope TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TRIGGER idempotency_keys_counted AFTER INSERT ON idempotency_keys BEGIN
        INSERT INTO idempotency_counts (scope, n) VALUES (NEW.scope, 1), ('', 1)
          ON CONFLICT (scope) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER idempotency_keys_uncounted AFTER DELETE ON idempotency_keys BEGIN
        UPDATE idempotency_counts SET n = n - 1 WHERE scope IN (OLD.scope, '');
      END;`);
    const insert = raw.prepare(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at, status, body)
         VALUES (?, ?, 'f1', 1000, 100, ?, ?)`,
    );
    insert.run(claim("a", 0).scope, "a", 200, '{"ok":true}');
    // An unanswered claim, which the next open forgets as a crash's.
    insert.run(claim("b", 0).scope, "b", null, null);
    raw.close();

    const reopened = new SqliteStore(path);
    await reopened.claimIdempotencyKey(claim("c", 1));
    await reopened.settleIdempotencyKey("mkstats\np\nu", "c", OK_ANSWER);
    await reopened.close();
    const { kept, real } = countsOf(path, ["mkstats\np\nu"]);
    assert.deepEqual(kept, real);
    assert.deepEqual(real, { "mkstats\np\nu": 2, "": 2 });
    const check = new DatabaseSync(path);
    assert.equal(
      check.prepare(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'idempotency%'",
      )
        .get()!.n,
      0,
    );
    check.close();
  });
});
