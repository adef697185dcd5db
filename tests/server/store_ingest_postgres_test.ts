/**
 * The ingest path of {@linkcode PostgresStore}, on a real PostgreSQL
 * (`tests/_helpers/postgres.ts`). Group commit
 * (`src/server/postgres/_group_commit.ts`): writes made together share one
 * transaction, each answered with its own rows; a write PostgreSQL refuses
 * fails alone while the rest of its group commits once; a group holds at
 * most `MAX_GROUP` writes; writes left waiting at close are refused; a
 * merged group is one statement; concurrent claims are each answered; and
 * concurrent events are each counted once. Claim floors
 * (`src/server/postgres/_migration_claim_floors.ts`): a claim past a bound
 * moves its count row's floor to the oldest key kept, and trims from there,
 * the counts matching the keys. Pinged installs are remembered, unpinged
 * ones read afresh.
 * Ignored without PostgreSQL unless EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { GroupCommit, MAX_GROUP } from "../../src/server/postgres/_group_commit.ts";
import type { Query, Rows } from "../../src/server/postgres/_connection.ts";
import type { PostgresPool } from "../../src/server/postgres/pool.ts";
import { claim, install, USER } from "./_contract_fixtures.ts";
import { onFreshStore, onPostgres, postgresForFile } from "../_helpers/postgres.ts";

// Started here, outside any test, so no test's resource check counts the server process.
/** The store most tests open: a fresh schema, two query connections. */
const FRESH = { prefix: "floors", max: 2 };

const { ignore, stopAfterTests, title, url } = await postgresForFile();

const INSERT = "INSERT INTO grouped (v) VALUES ($1) RETURNING v, txid_current()::text AS tx";

/**
 * A pool on a fresh table `grouped` whose `v` must not be negative, and a
 * {@linkcode GroupCommit} on it; `closed` makes it refuse waiting writes.
 */
async function withGroups(
  body: (group: GroupCommit, sql: postgres.Sql, state: { closed: boolean }) => Promise<void>,
): Promise<void> {
  const sql = postgres(url(), { max: 4, onnotice: () => {} });
  const state = { closed: false };
  try {
    await sql.unsafe("DROP TABLE IF EXISTS grouped");
    await sql.unsafe("CREATE TABLE grouped (v integer NOT NULL CHECK (v >= 0))");
    const alone: Query = async (text, params = []) =>
      await sql.unsafe(text, params as never[], { prepare: true }) as unknown as Rows;
    const group = new GroupCommit(
      sql as unknown as PostgresPool,
      alone,
      () => state.closed ? new Error("closed") : undefined,
    );
    await body(group, sql, state);
    await sql.unsafe("DROP TABLE grouped");
  } finally {
    await sql.end();
  }
}

/** The values the table holds, in order. */
async function stored(sql: postgres.Sql): Promise<number[]> {
  return (await sql.unsafe("SELECT v FROM grouped ORDER BY v")).map((row) => row.v as number);
}

Deno.test({
  name: `${title}: writes made in one turn commit in one transaction, each given its own rows`,
  ignore,
  async fn() {
    await withGroups(async (group, sql) => {
      const values = Array.from({ length: 20 }, (_, i) => i);
      const rows = await Promise.all(values.map((v) => group.write(INSERT, [v])));
      assert.deepEqual(rows.map(([row]) => row.v), values);
      assert.equal(new Set(rows.map(([row]) => row.tx)).size, 1);
      assert.equal(group.groups, 1);
      assert.deepEqual(await stored(sql), values);
    });
  },
});

Deno.test({
  name: `${title}: a write PostgreSQL refuses fails alone and the rest of its group commits once`,
  ignore,
  async fn() {
    await withGroups(async (group, sql) => {
      const values = [0, 1, 2, -1, 3, 4];
      const results = await Promise.allSettled(values.map((v) => group.write(INSERT, [v])));
      const refused = results[3];
      assert.equal(refused.status, "rejected");
      assert.equal((refused.reason as { code?: string }).code, "23514");
      assert.ok(results.every((result, i) => i === 3 || result.status === "fulfilled"));
      // Each ran again alone, in a transaction of its own: stored once each.
      assert.deepEqual(await stored(sql), [0, 1, 2, 3, 4]);
      assert.equal(group.groups, 0);
    });
  },
});

Deno.test({
  name: `${title}: a group carries at most MAX_GROUP writes and the rest commit in the next`,
  ignore,
  async fn() {
    await withGroups(async (group, sql) => {
      const values = Array.from({ length: MAX_GROUP + 10 }, (_, i) => i);
      const rows = await Promise.all(values.map((v) => group.write(INSERT, [v])));
      const transactions = new Map<string, number>();
      for (const [row] of rows) {
        transactions.set(row.tx as string, (transactions.get(row.tx as string) ?? 0) + 1);
      }
      assert.deepEqual([...transactions.values()], [MAX_GROUP, 10]);
      assert.equal((await stored(sql)).length, values.length);
    });
  },
});

Deno.test({
  name: `${title}: writes made while a group commits wait for the next, refused once closed`,
  ignore,
  async fn() {
    await withGroups(async (group, sql, state) => {
      const first = group.write(INSERT, [1]);
      // The first write's group has started: the next ones wait for it.
      await Promise.resolve();
      const next = [group.write(INSERT, [2]), group.write(INSERT, [3])];
      state.closed = true;
      assert.equal((await first)[0].v, 1);
      for (const write of next) await assert.rejects(write, /closed/);
      assert.deepEqual(await stored(sql), [1]);
    });
  },
});

Deno.test({
  name: `${title}: a merged group is one statement, each write given its row, a refused one alone`,
  ignore,
  async fn() {
    const sql = postgres(url(), { max: 2, onnotice: () => {} });
    try {
      const alone: Query = async (text, params = []) =>
        await sql.unsafe(text, params as never[], { prepare: true }) as unknown as Rows;
      const group = new GroupCommit(
        sql as unknown as PostgresPool,
        alone,
        () => undefined,
        (writes) => ({
          text: `SELECT json_agg(json_build_object('v', 60 / d, 'tx', txid_current()::text)
            ORDER BY n) AS rows FROM unnest($1::int[]) WITH ORDINALITY AS t(d, n)`,
          params: [writes.map(([d]) => d)],
        }),
      );
      const divide = (d: number) => group.write("SELECT 60 / $1::int AS v", [d]);
      const rows = await Promise.all([1, 2, 3, 4].map(divide));
      assert.deepEqual(rows.map(([row]) => row.v), [60, 30, 20, 15]);
      assert.equal(new Set(rows.map(([row]) => row.tx)).size, 1);
      assert.equal(group.groups, 1);
      // A division by zero fails the merged statement: each runs again alone, and only it fails.
      const results = await Promise.allSettled([5, 0, 6].map(divide));
      assert.equal(results[1].status, "rejected");
      assert.equal(
        ((results[1] as PromiseRejectedResult).reason as { code?: string }).code,
        "22012",
      );
      assert.deepEqual(
        [results[0], results[2]].map((result) =>
          (result as PromiseFulfilledResult<Rows>).value[0].v
        ),
        [12, 10],
      );
      assert.equal(group.groups, 1);
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name:
    `${title}: claims made together are each answered, a key claimed twice held the second time`,
  ignore,
  async fn() {
    await onFreshStore(url(), FRESH, async (store) => {
      const keys = ["a", "b", "c", "b", "d"];
      const answers = await Promise.all(
        keys.map((key, i) => store.claimIdempotencyKey(claim(key, 0, { fingerprint: `f${i}` }))),
      );
      assert.deepEqual(answers.map((answer) => answer.status), [
        "claimed",
        "claimed",
        "claimed",
        "held",
        "claimed",
      ]);
      assert.deepEqual(answers[3], { status: "held", fingerprint: "f1", answer: undefined });
    });
  },
});

Deno.test({
  name: `${title}: concurrent events are each counted once through grouped commits`,
  ignore,
  async fn() {
    await onFreshStore(url(), { prefix: "grouped", max: 4 }, async (store, schema) => {
      const event = { pluginId: "p", event: "sent", version: "1.0.0", day: "2026-11-26", count: 1 };
      const settled = await Promise.allSettled(
        Array.from(
          { length: 120 },
          (_, i) => store.addEventCount({ ...event, count: 1 + (i % 3) }),
        ),
      );
      assert.ok(settled.every((result) => result.status === "fulfilled"));
      const stats = await store.getStats("p");
      assert.deepEqual(stats.events, [{ event: "sent", version: "1.0.0", count: 240 }]);
      const [{ n }] = await onPostgres(
        url(),
        (sql) => sql.unsafe(`SELECT count(*)::int AS n FROM "${schema}".event_counts`),
      );
      assert.equal(n, 1);
    });
  },
});

/** The keys of a schema, oldest first, and the floor of each count row. */
async function keysAndFloors(
  schema: string,
): Promise<{ keys: string[]; floors: Map<string, number>; seqs: Map<string, number> }> {
  return await onPostgres(url(), async (sql) => {
    const keys = await sql.unsafe(`SELECT key, seq FROM "${schema}".idempotency_keys ORDER BY seq`);
    const counts = await sql.unsafe(`SELECT scope, floor FROM "${schema}".idempotency_counts`);
    return {
      keys: keys.map((row) => row.key as string),
      seqs: new Map(keys.map((row) => [row.key as string, Number(row.seq)])),
      floors: new Map(counts.map((row) => [row.scope as string, Number(row.floor)])),
    };
  });
}

Deno.test({
  name: `${title}: a claim past a bound moves its count row's floor to the oldest key kept`,
  ignore,
  async fn() {
    await onFreshStore(url(), FRESH, async (store, schema) => {
      const scope = "mkstats\np\nu";
      for (let i = 0; i < 12; i++) {
        await store.claimIdempotencyKey(claim(`k${i}`, 0, { maxPerScope: 5, maxTotal: 8 }));
      }
      const { keys, floors, seqs } = await keysAndFloors(schema);
      assert.deepEqual(keys, ["k7", "k8", "k9", "k10", "k11"]);
      assert.equal(floors.get(scope), seqs.get("k7"));
      // The total bound was never the tighter one here: its floor has not moved.
      assert.equal(floors.get(""), 0);
      for (let i = 0; i < 6; i++) {
        await store.claimIdempotencyKey(
          claim(`o${i}`, 0, { scope: "other", maxPerScope: 100, maxTotal: 8 }),
        );
      }
      const after = await keysAndFloors(schema);
      assert.deepEqual(after.keys, ["k10", "k11", "o0", "o1", "o2", "o3", "o4", "o5"]);
      assert.equal(after.floors.get(""), after.seqs.get("k10"));
    });
  },
});

Deno.test({
  name: `${title}: a claim past a bound trims from the floor, never below it`,
  ignore,
  async fn() {
    await onFreshStore(url(), FRESH, async (store, schema) => {
      for (let i = 0; i < 4; i++) await store.claimIdempotencyKey(claim(`k${i}`, 0));
      const { seqs } = await keysAndFloors(schema);
      // A floor above k0 and k1 says they are gone: a trim starts at k2 and leaves them.
      await onPostgres(
        url(),
        (sql) =>
          sql.unsafe(`UPDATE "${schema}".idempotency_counts SET floor = $1 WHERE scope = ''`, [
            seqs.get("k2")!,
          ]),
      );
      await store.claimIdempotencyKey(claim("k4", 0, { maxTotal: 4 }));
      assert.deepEqual((await keysAndFloors(schema)).keys, ["k0", "k1", "k3", "k4"]);
    });
  },
});

Deno.test({
  name: `${title}: the key counts match the keys after claims, bounds, releases and prunes`,
  ignore,
  async fn() {
    await onFreshStore(url(), FRESH, async (store, schema) => {
      // A fixed-seed mix over three scopes, one busy and two quiet, so both bounds trim and
      // whole scopes empty: keys retried after expiry and after their lease, answers,
      // releases and prunes. Every 20 steps the counts must match the rows.
      let seed = 7;
      const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
      const scopes = ["a", "a", "a", "a", "a", "a", "b", "b", "c", "c"];
      for (let step = 0; step < 400; step++) {
        const now = step * 10;
        const scope = scopes[next(scopes.length)];
        const key = `k${next(30)}`;
        const action = next(10);
        if (action < 6) {
          await store.claimIdempotencyKey(
            claim(key, now, { scope, maxPerScope: 8, maxTotal: 14, expiresAt: now + 300 }),
          );
        } else if (action < 8) {
          await store.settleIdempotencyKey(scope, key, { status: 200, body: "{}" });
        } else if (action < 9) await store.settleIdempotencyKey(scope, key, undefined);
        else await store.pruneIdempotencyKeys(now, 3);
        if (step % 20 === 19) await countsMatchKeys(schema);
      }
      await countsMatchKeys(schema);
      // Both bounds trimmed: the busy scope's floor and the total's moved.
      const { floors } = await keysAndFloors(schema);
      assert.ok(floors.get("a")! > 0 && floors.get("")! > 0);
    });
  },
});

/** Asserts that the count rows hold each scope's keys, and the row `''` all of them. */
async function countsMatchKeys(schema: string): Promise<void> {
  const [counts, keys] = await onPostgres(url(), (sql) =>
    Promise.all([
      sql.unsafe(`SELECT scope, n::int AS n FROM "${schema}".idempotency_counts ORDER BY scope`),
      sql.unsafe(`SELECT scope, count(*)::int AS n FROM "${schema}".idempotency_keys
        GROUP BY scope ORDER BY scope`),
    ]));
  const total = keys.reduce((sum, row) => sum + (row.n as number), 0);
  assert.deepEqual(
    counts.map((row) => [row.scope, row.n]),
    [["", total], ...keys.map((row) => [row.scope, row.n])],
  );
}

Deno.test({
  name: `${title}: a pinged install is found without a read, an unpinged one read afresh`,
  ignore,
  async fn() {
    await onFreshStore(url(), FRESH, async (store, schema) => {
      const dropTokens = () =>
        onPostgres(url(), (sql) => sql.unsafe(`DELETE FROM "${schema}".install_tokens`));
      await store.recordInstall(install("pinged", 1));
      await store.recordInstall(install("unpinged", 1));
      assert.equal((await store.findInstallToken("pinged"))?.hasPinged, false);
      await store.recordPing({ pluginId: "p", userHash: USER, version: "1.0.0", day: "d", now: 2 });
      const found = await store.findInstallToken("pinged");
      assert.deepEqual(found, { pluginId: "p", userHash: USER, expiresAt: 1001, hasPinged: true });
      // What a caller does with the answer does not change the next one.
      found!.pluginId = "changed";
      // With their rows gone, the pinged install is still known and the other is not.
      await dropTokens();
      assert.equal((await store.findInstallToken("pinged"))?.pluginId, "p");
      assert.equal(await store.findInstallToken("unpinged"), undefined);
      // Recording a token again forgets what was remembered of it.
      await store.recordInstall(install("pinged", 5));
      assert.equal((await store.findInstallToken("pinged"))?.expiresAt, 1005);
    });
  },
});

stopAfterTests();
