/**
 * The store contract against {@linkcode D1Store} on a real D1 database:
 * workerd's, started through Miniflare for each test and reached from this
 * process through Miniflare's binding proxy, so every statement runs in D1's
 * own SQLite with its batch semantics. Also: the schema is created once and
 * recorded, isolates opening one database together agree, and a database
 * from a newer release is refused. Ignored when Miniflare cannot load,
 * failed when EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { type D1Database, D1Store, D1StoreError } from "../../src/server/d1/mod.ts";
import { openD1, WORKERD_TEST } from "../_helpers/workerd.ts";
import { runStoreContract } from "./store_contract.ts";

if (WORKERD_TEST.ignore) {
  Deno.test({ name: "D1Store keeps the store contract on Miniflare's D1", ignore: true, fn() {} });
} else {
  runStoreContract("D1Store on Miniflare's D1", async () => {
    const d1 = await openD1();
    const fixture = {
      store: new D1Store(d1.db),
      async reopen() {
        await fixture.store.close();
        return await D1Store.open(d1.db);
      },
      dispose: async () => await d1[Symbol.asyncDispose](),
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
    await using d1 = await openD1();
    const stores = await Promise.all(Array.from({ length: 4 }, () => D1Store.open(d1.db)));
    assert.deepEqual(await migrations(d1.db), [1]);
    // Every store writes and reads the one database
    await Promise.all(stores.map((store, index) => store.ensureMeta("first", `s${index}`)));
    const seen = await Promise.all(stores.map((store) => store.getMeta("first")));
    assert.equal(new Set(seen).size, 1);
    await (await D1Store.open(d1.db)).close();
    assert.deepEqual(await migrations(d1.db), [1]);
  },
});

Deno.test({
  name: "D1Store refuses a database whose schema a newer release wrote, naming both versions",
  ...WORKERD_TEST,
  async fn() {
    await using d1 = await openD1();
    await D1Store.open(d1.db);
    await d1.db.prepare("INSERT INTO edgewire_migrations (version) VALUES (99)").run();
    await assert.rejects(D1Store.open(d1.db), (error: unknown) => {
      assert.ok(error instanceof D1StoreError);
      assert.equal(error.code, "d1_schema_newer");
      assert.match(error.message, /version is 99, newer than this release's 1/);
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
    await using d1 = await openD1();
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
    await using d1 = await openD1();
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
