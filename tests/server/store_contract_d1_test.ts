/**
 * The store contract against {@linkcode D1Store} on real D1 databases:
 * workerd's, started through Miniflare once for the file, a fresh database
 * for each test, each statement bound and run by D1's own binding in a Worker
 * (`tests/_helpers/_d1_bridge.ts`), so it runs in D1's SQLite with its batch
 * semantics; what the bridge returns is checked against Miniflare's own
 * binding proxy. Also: the schema is created once and recorded, isolates
 * opening one database together agree, and a database from a newer release
 * is refused. Ignored when Miniflare cannot load, failed when
 * EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { type D1Database, type D1Result, D1Store, D1StoreError } from "../../src/server/d1/mod.ts";
import { type D1Databases, type FreshD1, startD1, WORKERD_TEST } from "../_helpers/workerd.ts";
import { LATEST_VERSION, MIGRATIONS } from "../../src/server/d1/_schema.ts";
import { runStoreContract } from "./store_contract.ts";

// One database a test, each test of the contract and of this file taking one: room for more.
const DATABASES = 128;
// Started here, outside any test, so no test's resource check counts workerd.
const databases: D1Databases | Error | undefined = WORKERD_TEST.ignore
  ? undefined
  : await startD1(DATABASES).catch((error: unknown) => error as Error);

/** A database no other test used, failing the test when workerd did not start. */
function fresh(): Promise<FreshD1> {
  assert.ok(databases !== undefined && !(databases instanceof Error), String(databases));
  return databases.fresh();
}

if (WORKERD_TEST.ignore) {
  Deno.test({ name: "D1Store keeps the store contract on Miniflare's D1", ignore: true, fn() {} });
} else {
  runStoreContract("D1Store on Miniflare's D1", async () => {
    const { db } = await fresh();
    const fixture = {
      store: new D1Store(db),
      async reopen() {
        await fixture.store.close();
        return await D1Store.open(db);
      },
      // The database is left as it is: no later test takes it, and workerd goes at the end.
      dispose: () => Promise.resolve(),
    };
    return fixture;
  });
}

async function migrations(db: D1Database): Promise<number[]> {
  const { results = [] } = await db.prepare("SELECT version FROM edgewire_migrations").all();
  return results.map((row) => Number(row.version));
}

Deno.test({
  name: "D1Store.open creates the schema once, even when several stores open it together",
  ...WORKERD_TEST,
  async fn() {
    const d1 = await fresh();
    const stores = await Promise.all(Array.from({ length: 4 }, () => D1Store.open(d1.db)));
    assert.deepEqual(await migrations(d1.db), MIGRATIONS.map((step) => step.version));
    // Every store writes and reads the one database
    await Promise.all(stores.map((store, index) => store.ensureMeta("first", `s${index}`)));
    const seen = await Promise.all(stores.map((store) => store.getMeta("first")));
    assert.equal(new Set(seen).size, 1);
    await (await D1Store.open(d1.db)).close();
    assert.deepEqual(await migrations(d1.db), MIGRATIONS.map((step) => step.version));
  },
});

Deno.test({
  name: "D1Store refuses a database whose schema a newer release wrote, naming both versions",
  ...WORKERD_TEST,
  async fn() {
    const d1 = await fresh();
    await D1Store.open(d1.db);
    await d1.db.prepare("INSERT INTO edgewire_migrations (version) VALUES (99)").run();
    await assert.rejects(D1Store.open(d1.db), (error: unknown) => {
      assert.ok(error instanceof D1StoreError);
      assert.equal(error.code, "d1_schema_newer");
      assert.match(
        error.message,
        new RegExp(`version is 99, newer than this release's ${LATEST_VERSION}`),
      );
      return true;
    });
    // A store made without open() reports it at its first call
    await assert.rejects(new D1Store(d1.db).getMeta("k"), D1StoreError);
  },
});

Deno.test({
  name: "a closed D1Store rejects calls with d1_store_closed and leaves the database usable",
  ...WORKERD_TEST,
  async fn() {
    const d1 = await fresh();
    const store = await D1Store.open(d1.db);
    await store.setMeta("k", "v");
    await store.close();
    await store.close();
    await assert.rejects(store.getMeta("k"), (error: unknown) => {
      assert.ok(error instanceof D1StoreError);
      assert.equal(error.code, "d1_store_closed");
      return true;
    });
    assert.equal(await (await D1Store.open(d1.db)).getMeta("k"), "v");
  },
});

Deno.test("D1Store refuses a value that is not a D1 binding, naming it", () => {
  for (const value of [undefined, null, {}, { prepare() {} }]) {
    assert.throws(() => new D1Store(value as unknown as D1Database), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.argument, "binding");
      return true;
    });
  }
});

Deno.test({
  name: "D1Store reports the database's bytes and its bounded tables' rows for /metrics",
  ...WORKERD_TEST,
  async fn() {
    const d1 = await fresh();
    const store = await D1Store.open(d1.db);
    const key = { projectKeyHash: "f".repeat(64), streamId: "s", sourceType: 0, messageId: 1 };
    await store.openHonchPartial(key, {
      totalLength: 8,
      payload: new Uint8Array([1, 2]),
      now: 0,
      expiresAt: 1000,
    });
    for (const name of ["a", "b"]) {
      await store.claimIdempotencyKey({
        scope: "s",
        key: name,
        fingerprint: "f",
        now: 0,
        expiresAt: 1000,
        leaseExpiresAt: 100,
        maxPerScope: 10,
        maxTotal: 100,
      });
    }
    await store.setEmitterKeyBan("k".repeat(64), true, 0);
    const sizes = await store.storeSizes!();
    assert.deepEqual(sizes.rows, { honch_partials: 1, idempotency_keys: 2, emitter_key_bans: 1 });
    // What D1 itself reports as the database's size, a whole number of pages
    const { meta } = await d1.db.prepare("SELECT 1").run();
    assert.equal(sizes.bytes, meta.size_after);
    assert.ok(sizes.bytes! > 0 && sizes.bytes! % 4096 === 0, `${sizes.bytes}`);
  },
});

Deno.test({
  name: "the D1 bridge returns and throws what Miniflare's own binding to the database does",
  ...WORKERD_TEST,
  async fn() {
    const d1 = await fresh();
    const proxy = await d1.proxy();
    await d1.db.prepare("CREATE TABLE t (n INTEGER, r REAL, s TEXT, b BLOB)").run();
    const insert = "INSERT INTO t VALUES (?, ?, ?, ?)";
    const changes = (results: D1Result[]) => results.map((result) => result.meta.changes);
    for (const db of [d1.db, proxy]) {
      const written = await db.batch([
        db.prepare(insert).bind(2 ** 53 - 1, 0.5, "é ✓", new Uint8Array([0, 255])),
        db.prepare(insert).bind(-1, -0.25, null, new Uint8Array([1, 2, 3]).buffer),
        db.prepare(insert).bind(0, null, "", new Uint8Array([9, 8, 7]).subarray(1, 2)),
      ]);
      assert.deepEqual(changes(written), [1, 1, 1]);
    }
    const select = "SELECT n, r, s, b, typeof(b) AS kind FROM t ORDER BY rowid";
    const rows = (await d1.db.prepare(select).all()).results;
    assert.deepEqual(rows, (await proxy.prepare(select).all()).results);
    assert.deepEqual(rows?.slice(0, 3), [
      { n: 2 ** 53 - 1, r: 0.5, s: "é ✓", b: [0, 255], kind: "blob" },
      { n: -1, r: -0.25, s: null, b: [1, 2, 3], kind: "blob" },
      { n: 0, r: null, s: "", b: [8], kind: "blob" },
    ]);
    const one = "SELECT s FROM t WHERE n = ?";
    assert.deepEqual(await d1.db.prepare(one).bind(-1).first(), { s: null });
    assert.equal(await d1.db.prepare(one).bind(42).first(), null);
    assert.equal(await proxy.prepare(one).bind(42).first(), null);
    const update = "UPDATE t SET s = ? WHERE n >= ?";
    const [viaBridge, viaProxy] = [
      await d1.db.prepare(update).bind("x", 0).run(),
      await proxy.prepare(update).bind("y", 0).run(),
    ];
    assert.equal(viaBridge.meta.changes, 4);
    assert.equal(viaBridge.meta.changes, viaProxy.meta.changes);
    assert.equal(viaBridge.meta.size_after, viaProxy.meta.size_after);

    // The same errors, with D1's own messages; a failed batch changes nothing
    const failures: Array<(db: D1Database) => Promise<unknown>> = [
      (db) => db.prepare("SELECT nope FROM t").all(),
      async (db) => await db.prepare("SELECT ?").bind(undefined as unknown as null).first(),
      (db) => db.batch([db.prepare(insert).bind(5, 5, "5", null), db.prepare("INSERT INTO nope")]),
    ];
    for (const failure of failures) {
      const messages = [];
      for (const db of [d1.db, proxy]) {
        messages.push(await failure(db).then(() => "resolved", (error: Error) => error.message));
      }
      assert.notEqual(messages[0], "resolved");
      assert.equal(messages[0], messages[1]);
    }
    assert.deepEqual(await d1.db.prepare("SELECT count(*) AS n FROM t").first(), { n: 6 });
  },
});

// Keep this test last: it stops workerd, which every test above needs.
Deno.test({
  name:
    "workerd serving this file's D1 databases stops once every test ran, and the bridge with it",
  ...WORKERD_TEST,
  async fn() {
    const d1 = await fresh();
    assert.deepEqual(await d1.db.prepare("SELECT 1 AS one").first(), { one: 1 });
    await (databases as D1Databases).stop();
    await assert.rejects(d1.db.prepare("SELECT 1 AS one").first());
  },
});
