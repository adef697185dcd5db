/**
 * The dashboard's aggregates in the SQLite store (`plugin_activity`,
 * `migas_usage_versions`, `spot_blob_totals` and its triggers): a database
 * written before them gets them built from its rows when it opens, once, and
 * they answer what a database that always had them answers. A database
 * whose idempotency rows kept their scope text gets them rewritten under
 * scope ids on open, whole or not at all, and still replays their answers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { IDEMPOTENCY_KEYS, sqliteScript } from "../../src/server/_sqlite_schema.ts";
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

/** A database as the store left it while rows kept their scope text, with `rows` in it. */
function textLayoutDatabase(
  path: string,
  rows: unknown[][],
  keyColumn = "key TEXT NOT NULL",
): void {
  const raw = new DatabaseSync(path);
  try {
    raw.exec(`${sqliteScript(IDEMPOTENCY_KEYS).replace("key TEXT NOT NULL", keyColumn)}
      CREATE TABLE idempotency_counts (scope TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;`);
    const insert = raw.prepare(
      `INSERT INTO idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at, status, body)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const row of rows) insert.run(...(row as [string]));
    raw.exec(`INSERT INTO idempotency_counts (scope, n)
        SELECT scope, COUNT(*) FROM idempotency_keys GROUP BY scope;
      INSERT INTO idempotency_counts (scope, n) SELECT '', COUNT(*) FROM idempotency_keys;`);
  } finally {
    raw.close();
  }
}

const SCOPE = `mkstats\nmy-plugin\n${"c".repeat(64)}`;
const FINGERPRINT = "0123456789abcdef".repeat(4);
const DAY_LATER = 86_400_000;

Deno.test("a retry whose first attempt a SQLite database kept with its scope text replays that answer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/old.db`;
    const answer = '{"ok":true,"n":1}';
    textLayoutDatabase(path, [
      [SCOPE, "first", FINGERPRINT, DAY_LATER, 100, 200, answer],
      [SCOPE, "second", "not hex", DAY_LATER, 100, 201, "{}"],
      ["migas\nacme/tool", "other", FINGERPRINT, DAY_LATER, 100, 200, "{}"],
    ]);
    const claim = (key: string, fingerprint = FINGERPRINT, scope = SCOPE) => ({
      scope,
      key,
      fingerprint,
      now: 10,
      expiresAt: 10 + DAY_LATER,
      leaseExpiresAt: 110,
      maxPerScope: 2,
      maxTotal: 100,
    });

    const store = new SqliteStore(path);
    try {
      assert.deepEqual(await store.claimIdempotencyKey(claim("first")), {
        status: "held",
        fingerprint: FINGERPRINT,
        answer: { status: 200, body: answer },
      });
      // A fingerprint that is no hex digest comes back as it was.
      assert.deepEqual(await store.claimIdempotencyKey(claim("second", "x")), {
        status: "held",
        fingerprint: "not hex",
        answer: { status: 201, body: "{}" },
      });
      assert.equal((await store.storeSizes!()).rows.idempotency_keys, 3);
      // The scope's count came along: a third key is one beyond its bound of 2, and the oldest goes.
      // Trimmed, "first" is claimed afresh, and "second" goes in turn.
      assert.deepEqual(await store.claimIdempotencyKey(claim("third")), { status: "claimed" });
      await store.settleIdempotencyKey(SCOPE, "third", { status: 200, body: "{}" });
      assert.deepEqual(await store.claimIdempotencyKey(claim("first")), { status: "claimed" });
      await store.settleIdempotencyKey(SCOPE, "first", undefined);
      assert.equal(
        (await store.claimIdempotencyKey(claim("other", "y", "migas\nacme/tool"))).status,
        "held",
      );
      // The third, and the other scope's: "second" went when "first" came back.
      assert.equal((await store.storeSizes!()).rows.idempotency_keys, 2);
    } finally {
      await store.close();
    }
    // Upgraded once: the next open keeps the rows as they stand.
    const again = new SqliteStore(path);
    try {
      assert.equal((await again.claimIdempotencyKey(claim("third", "z"))).status, "held");
      assert.equal((await again.claimIdempotencyKey(claim("second", "z"))).status, "claimed");
      assert.equal(await again.pruneIdempotencyKeys(11 + DAY_LATER, 100), 3);
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a SQLite database whose idempotency upgrade fails is left as it was", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/old.db`;
    // A row the new layout refuses (a key that is null), after one it takes.
    textLayoutDatabase(path, [
      [SCOPE, "first", FINGERPRINT, DAY_LATER, 100, 200, "{}"],
      [SCOPE, null, FINGERPRINT, DAY_LATER, 100, 200, "{}"],
    ], "key TEXT");
    assert.throws(() => new SqliteStore(path), /NOT NULL/);
    const raw = new DatabaseSync(path);
    try {
      const rows = raw.prepare("SELECT scope, key FROM idempotency_keys ORDER BY seq").all();
      assert.deepEqual(rows.map((row) => [row.scope, row.key]), [[SCOPE, "first"], [SCOPE, null]]);
      const tables = raw.prepare(
        "SELECT name FROM sqlite_master WHERE name LIKE 'idempotency%' AND type = 'table' ORDER BY name",
      ).all();
      assert.deepEqual(tables.map((row) => row.name), ["idempotency_counts", "idempotency_keys"]);
    } finally {
      raw.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
