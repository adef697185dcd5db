/**
 * {@linkcode PostgresStore} against a real PostgreSQL (see
 * `tests/_helpers/postgres.ts`): the store contract, each test on a fresh
 * schema, reopened for the restart tests; the migrations; NUL in text; and
 * the options. Ignored without PostgreSQL unless EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { createServer, MemoryStore, type ServerStore } from "../../src/server/mod.ts";
import { PostgresStore, SchemaVersionError } from "../../src/server/postgres/mod.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "../../src/server/postgres/_migrations.ts";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { describeRuntime, ignoredUnlessRequired } from "../_helpers/runtimes.ts";
import { locatePostgres, type PostgresServer, startPostgres } from "../_helpers/postgres.ts";
import { runStoreContract } from "./store_contract.ts";
import { bytes, claim, crumb, OK_ANSWER, upload } from "./_contract_fixtures.ts";

const POSTGRES = locatePostgres();
const ignore = ignoredUnlessRequired(POSTGRES);
// Started here, outside any test, so no test's resource check counts the server process.
const server: PostgresServer | undefined = ignore || POSTGRES.binary === undefined
  ? undefined
  : await startPostgres(POSTGRES);

/** The server, failing the test when PostgreSQL is missing (EDGEWIRE_REQUIRE_RUNTIMES=1). */
function running(): PostgresServer {
  assert.ok(server, POSTGRES.missing ?? "PostgreSQL did not start");
  return server;
}

let schemas = 0;
/** A schema name no other test of this run uses. */
function freshSchema(): string {
  return `t${Date.now().toString(36)}_${++schemas}`;
}

/** Drops a schema the tests made, through a short-lived connection of its own. */
async function dropSchema(schema: string): Promise<void> {
  const sql = postgres(running().url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end();
  }
}

const title = `PostgresStore on ${describeRuntime(POSTGRES)}`;

runStoreContract(title, async () => {
  const { url } = running();
  const schema = freshSchema();
  const fixture = {
    store: await PostgresStore.open({ url, schema, max: 4 }) as ServerStore,
    async reopen() {
      await fixture.store.close();
      return await PostgresStore.open({ url, schema, max: 4 });
    },
    dispose: () => dropSchema(schema),
  };
  return fixture;
}, { ignore });

/** Runs `body` with a fresh schema's name and a pool of its own, both removed afterwards. */
function withSchema(name: string, body: (schema: string, url: string) => Promise<void>): void {
  Deno.test({
    name: `${title}: ${name}`,
    ignore,
    async fn() {
      const schema = freshSchema();
      try {
        await body(schema, running().url);
      } finally {
        await dropSchema(schema);
      }
    },
  });
}

withSchema("a fresh schema is migrated to the current version, once", async (schema, url) => {
  const store = await PostgresStore.open({ url, schema });
  await store.close();
  const again = await PostgresStore.open({ url, schema });
  await again.setMeta("k", "v");
  await again.close();
  const sql = postgres(url, { max: 1 });
  try {
    const rows = await sql.unsafe(`SELECT version FROM "${schema}".edgewire_schema_version`);
    // Each migration recorded once, the last at the current version.
    assert.deepEqual(
      rows.map((row) => row.version),
      MIGRATIONS.map((migration) => migration.version),
    );
    assert.equal(rows.at(-1)?.version, SCHEMA_VERSION);
  } finally {
    await sql.end();
  }
});

withSchema(
  "a schema newer than the code is refused with a SchemaVersionError",
  async (schema, url) => {
    await (await PostgresStore.open({ url, schema })).close();
    const sql = postgres(url, { max: 1 });
    try {
      await sql.unsafe(`INSERT INTO "${schema}".edgewire_schema_version (version) VALUES ($1)`, [
        SCHEMA_VERSION + 1,
      ]);
    } finally {
      await sql.end();
    }
    await assert.rejects(PostgresStore.open({ url, schema }), (error: unknown) => {
      assert.ok(error instanceof SchemaVersionError);
      assert.equal(error.code, "schema_too_new");
      assert.equal(error.found, SCHEMA_VERSION + 1);
      assert.equal(error.supported, SCHEMA_VERSION);
      assert.match(
        error.message,
        new RegExp(`version ${SCHEMA_VERSION + 1}, newer than version ${SCHEMA_VERSION}`),
      );
      assert.match(error.message, /upgrade @edgewire\/sdk/);
      return true;
    });
    // A store made with `new` fails its calls with the same error.
    const lazy = new PostgresStore({ url, schema });
    await assert.rejects(lazy.getMeta("k"), SchemaVersionError);
    await lazy.close();
  },
);

withSchema("several stores opening one fresh schema at once all succeed", async (schema, url) => {
  const stores = await Promise.all(
    Array.from({ length: 4 }, () => PostgresStore.open({ url, schema, max: 2 })),
  );
  try {
    const values = await Promise.all(stores.map((store, i) => store.ensureMeta("first", `s${i}`)));
    assert.equal(new Set(values).size, 1);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
});

withSchema(
  "a claim left unanswered by a process that died is freed when a store opens",
  async (schema, url) => {
    const first = await PostgresStore.open({ url, schema });
    await first.claimIdempotencyKey(claim("dead", 0));
    await first.claimIdempotencyKey(claim("done", 0));
    await first.settleIdempotencyKey("mkstats\np\nu", "done", OK_ANSWER);
    // The first process "dies": its pool goes without settling the claim.
    await first.close();
    const second = await PostgresStore.open({ url, schema });
    try {
      assert.deepEqual(await second.claimIdempotencyKey(claim("dead", 1)), { status: "claimed" });
      assert.equal((await second.claimIdempotencyKey(claim("done", 1))).status, "held");
      assert.equal((await second.storeSizes!()).rows.idempotency_keys, 2);
    } finally {
      await second.close();
    }
  },
);

withSchema(
  "the answer settled with a recorded ping commits with it, or not at all",
  async (schema, url) => {
    const store = await PostgresStore.open({ url, schema });
    try {
      const scope = "mkstats\np\nu";
      await store.claimIdempotencyKey(claim("k", 0));
      await store.recordPing(
        { pluginId: "p", userHash: "a".repeat(64), version: "1", day: "2025-01-01", now: 1 },
        { scope, key: "k", answer: OK_ANSWER },
      );
      assert.deepEqual(await store.claimIdempotencyKey(claim("k", 2)), {
        status: "held",
        fingerprint: "f1",
        answer: OK_ANSWER,
      });
      // A breadcrumb whose write fails (a timestamp no bigint holds) keeps the key unanswered.
      await store.claimIdempotencyKey(claim("m", 0));
      await assert.rejects(store.addMigasBreadcrumb(crumb("u", 2 ** 70), {
        scope,
        key: "m",
        answer: OK_ANSWER,
      }));
      assert.deepEqual(await store.claimIdempotencyKey(claim("m", 1)), {
        status: "held",
        fingerprint: "f1",
        answer: undefined,
      });
      assert.equal(
        await store.countMigasUsage({
          project: "acme/tool",
          start: 0,
          end: 2 ** 45,
          unique: false,
        }),
        0,
      );
    } finally {
      await store.close();
    }
  },
);

withSchema(
  "text holding NUL keeps it and sorts by bytes, as MemoryStore keeps it",
  async (schema, url) => {
    const store = await PostgresStore.open({ url, schema });
    const memory = new MemoryStore();
    try {
      for (const each of [store, memory] as ServerStore[]) {
        await each.setMeta("k\0a", "v\0\u0001w");
        await each.setMeta("k", "plain");
        await each.registerMigasProject({ project: "a\u0001", now: 0 });
        await each.registerMigasProject({ project: "a\0", now: 0 });
        await each.registerMigasProject({ project: "a", now: 0 });
        await each.addEventCount({
          pluginId: "p\0",
          version: "1\0",
          event: "e\0",
          day: "d",
          count: 2,
        });
        await each.openHonchPartial({ ...upload(1), streamId: "s\0" }, {
          totalLength: 3,
          payload: bytes(0, 1),
          now: 0,
          expiresAt: 9,
        });
      }
      for (const each of [store, memory] as ServerStore[]) {
        assert.equal(await each.getMeta("k\0a"), "v\0\u0001w");
        assert.equal(await each.getMeta("k"), "plain");
        assert.equal(await each.getMeta("k\0"), undefined);
        assert.deepEqual(await each.listMigasProjects(), ["a", "a\0", "a\u0001"]);
        assert.deepEqual((await each.getStats("p\0")).events, [{
          event: "e\0",
          version: "1\0",
          count: 2,
        }]);
        assert.deepEqual(
          await each.readHonchPartialBytes({ ...upload(1), streamId: "s\0" }),
          bytes(0, 1),
        );
        assert.deepEqual(await each.readHonchPartialBytes(upload(1)), bytes());
      }
    } finally {
      await store.close();
      await memory.close();
    }
  },
);

withSchema(
  "storeSizes reports the schema's bytes and the bounded tables' rows",
  async (schema, url) => {
    const store = await PostgresStore.open({ url, schema });
    try {
      await store.setEmitterKeyBan("a".repeat(64), true, 0);
      await store.openHonchPartial(upload(1), {
        totalLength: 2,
        payload: bytes(1),
        now: 0,
        expiresAt: 9,
      });
      const sizes = await store.storeSizes!();
      assert.ok(sizes.bytes! > 0);
      assert.equal(sizes.freeBytes, undefined);
      assert.deepEqual(sizes.rows, { honch_partials: 1, idempotency_keys: 0, emitter_key_bans: 1 });
    } finally {
      await store.close();
    }
  },
);

withSchema("a pool passed in is shared and left open by close", async (schema, url) => {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  try {
    const store = await PostgresStore.open({ sql, schema });
    await store.setMeta("k", "v");
    await store.close();
    await assert.rejects(store.getMeta("k"), /closed/);
    const [row] = await sql.unsafe(`SELECT value FROM "${schema}".meta WHERE key = 'k'`);
    assert.equal(row.value, "v");
  } finally {
    await sql.end();
  }
});

withSchema(
  "two stores on one schema, as two server processes, still claim and append once",
  async (schema, url) => {
    const [a, b] = await Promise.all([
      PostgresStore.open({ url, schema, max: 4 }),
      PostgresStore.open({ url, schema, max: 4 }),
    ]);
    try {
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claimIdempotencyKey(claim("race", 0))),
      );
      assert.equal(claims.filter((result) => result.status === "claimed").length, 1);
      // Bounds hold across both: 6 claims of one scope at a bound of 4 leave 4 rows, plus "race".
      await Promise.all(
        Array.from(
          { length: 6 },
          (_, i) =>
            (i % 2 ? a : b).claimIdempotencyKey(
              claim(`k${i}`, 0, { scope: "bounded", maxPerScope: 4 }),
            ),
        ),
      );
      assert.equal((await a.storeSizes!()).rows.idempotency_keys, 5);
      await a.openHonchPartial(upload(1), {
        totalLength: 9,
        payload: bytes(1),
        now: 0,
        expiresAt: 99,
      });
      const frame = { offset: 1, payload: bytes(2, 3), now: 1 };
      const appended = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).appendHonchFrame(upload(1), frame)),
      );
      assert.equal(appended.filter(Boolean).length, 1);
      assert.deepEqual(await b.readHonchPartialBytes(upload(1)), bytes(1, 2, 3));
      // The Spot quota of one owner holds whichever store writes: 2 blobs at most.
      const puts = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? a : b).putSpotBlob({
            owner: "k.o",
            key: `x${i}`,
            value: bytes(i),
            now: 0,
            maxOwnerBytes: 100,
            maxOwnerBlobs: 2,
          })),
      );
      assert.equal(puts.filter(Boolean).length, 2);
      // Usage tallied from both stores at once loses no hit and no user.
      await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => (i % 2 ? a : b).addMigasBreadcrumb(crumb(`u${i % 5}`, 1000 + i)),
        ),
      );
      const usage = (unique: boolean) =>
        a.countMigasUsage({ project: "acme/tool", start: 0, end: 2000, unique });
      assert.equal(await usage(false), 20);
      assert.equal(await usage(true), 5);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  },
);

withSchema(
  "GET /metrics reports the Postgres store's bytes and bounded rows",
  async (schema, url) => {
    const store = await PostgresStore.open({ url, schema });
    const server = createServer({ adminKey: "metrics-admin", store });
    try {
      await store.openHonchPartial(upload(1), {
        totalLength: 2,
        payload: bytes(1),
        now: 0,
        expiresAt: 9,
      });
      const response = await server.fetch(
        new Request("http://x/metrics", { headers: { authorization: "Bearer metrics-admin" } }),
      );
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.match(text, /^edgewire_store_bytes [1-9]\d*$/m);
      assert.match(text, /^edgewire_store_rows\{table="honch_partials"\} 1$/m);
      assert.doesNotMatch(text, /edgewire_store_free_bytes/);
    } finally {
      await server.close();
    }
  },
);

Deno.test("PostgresStore refuses invalid options, naming each, without showing the URL", () => {
  const refused = (options: unknown, argument: string, pattern: RegExp) =>
    assert.throws(
      () => new PostgresStore(options as ConstructorParameters<typeof PostgresStore>[0]),
      (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.equal(error.argument, argument);
        assert.match(error.message, pattern);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
  refused(undefined, "options", /type is undefined/);
  refused({}, "url", /neither is/);
  refused({ url: "postgres://h/db", sql: () => {} }, "url", /both are/);
  refused({ url: "mysql://user:secret@h/db" }, "url", /postgres:\/\/ or postgresql:\/\/ URL/);
  refused({ url: 5 }, "url", /type is number/);
  refused({ sql: "pool" }, "sql", /type is string/);
  refused({ url: "postgres://h/db", max: 0 }, "max", /from 1 to 1000: current value is 0/);
  refused({ url: "postgres://h/db", max: 2.5 }, "max", /value is 2.5/);
  refused({ sql: () => {}, max: 2 }, "max", /left out with 'sql'/);
  refused({ url: "postgres://h/db", schema: "Bad-Name" }, "schema", /value is 'Bad-Name'/);
  refused({ url: "postgres://h/db", schema: "" }, "schema", /value is ''/);
});

Deno.test("PostgresStore.open rejects with the connection's error when nothing listens", async () => {
  // Port 1 of the loopback address: refused at once, whatever is installed.
  await assert.rejects(
    PostgresStore.open({ url: "postgres://nobody:secret@127.0.0.1:1/none" }),
    (error: unknown) => {
      assert.match(String(error), /ECONNREFUSED/);
      assert.doesNotMatch(String(error), /secret/);
      return true;
    },
  );
});

Deno.test({
  name: `${title}: the server stops cleanly once every test of the file ran`,
  ignore,
  async fn() {
    assert.equal(await running().stop(), 0);
  },
});
