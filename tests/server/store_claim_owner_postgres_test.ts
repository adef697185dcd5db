/**
 * Several {@linkcode PostgresStore}s on one schema, as several server
 * processes (see `src/server/postgres/_claim_owner.ts`): a store opening
 * frees the unanswered idempotency claims of stores whose process died, and
 * never those of a live one; a claim of a dead owner is taken over by a
 * retry at once, but only once no connection of its pool is left. Against a
 * real PostgreSQL (`tests/_helpers/postgres.ts`); ignored without it unless
 * EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PostgresStore } from "../../src/server/postgres/mod.ts";
import { onPostgres, postgresForFile } from "../_helpers/postgres.ts";
import { claim } from "./_contract_fixtures.ts";

// Started here, outside any test, so no test's resource check counts the server process.
const { ignore, stopAfterTests, title, url } = await postgresForFile();

/**
 * Cuts connections of the store that owns the claim `key` (see
 * src/server/postgres/_claim_owner.ts), as the death of its process would:
 * the one holding its owner lock, or all of them (its pool names each after
 * the owner); waits until their backends are gone.
 */
function cutOwner(url: string, schema: string, key: string, which: "lock" | "all"): Promise<void> {
  return onPostgres(url, async (sql) => {
    const [{ owner }] = await sql.unsafe(
      `SELECT owner FROM "${schema}".idempotency_keys WHERE key = $1`,
      [key],
    );
    const rows = await sql.unsafe(
      which === "lock"
        ? `SELECT l.pid FROM pg_locks l,
             (SELECT hashtextextended('edgewire-claim-owner:' || $1, 0) AS h) o
           WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
             AND l.classid::bigint = (o.h >> 32) & 4294967295
             AND l.objid::bigint = o.h & 4294967295`
        : "SELECT pid FROM pg_stat_activity WHERE application_name = 'edgewire:' || $1",
      [owner],
    );
    assert.ok(rows.length >= 1, `a backend of the owner of '${key}' is found`);
    const pids = rows.map((row) => row.pid as number);
    await sql.unsafe("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [pids]);
    for (let wait = 0; wait < 500; wait++) {
      const [{ n }] = await sql.unsafe(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])",
        [pids],
      );
      if (n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`backends ${pids} did not end`);
  });
}

/** How many claims of `key` the schema holds, answered or not. */
function claimRows(url: string, schema: string, key: string): Promise<number> {
  return onPostgres(url, async (sql) => {
    const [{ n }] = await sql.unsafe(
      `SELECT count(*)::int AS n FROM "${schema}".idempotency_keys WHERE key = $1`,
      [key],
    );
    return n as number;
  });
}

Deno.test({
  name: `${title}: a store frees the unanswered claims of dead processes only, never a live one's`,
  ignore,
  async fn() {
    const schema = `owners_${Date.now().toString(36)}`;
    try {
      await deadOwnersOnly(schema, url());
    } finally {
      await onPostgres(url(), (sql) => sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    }
  },
});

stopAfterTests();

/** Three stores, A, B then C, on one schema; A dies. */
async function deadOwnersOnly(schema: string, url: string): Promise<void> {
  const held = { status: "held", fingerprint: "f1", answer: undefined };
  const a = await PostgresStore.open({ url, schema, max: 2 });
  try {
    await a.claimIdempotencyKey(claim("live", 0));
    await a.claimIdempotencyKey(claim("left", 0));
    await a.claimIdempotencyKey(claim("legacy", 0));
    // A claim made before owners were recorded (owner NULL) counts as dead.
    await onPostgres(
      url,
      (sql) =>
        sql.unsafe(`UPDATE "${schema}".idempotency_keys SET owner = NULL WHERE key = 'legacy'`),
    );
    const b = await PostgresStore.open({ url, schema, max: 2 });
    try {
      // A is alive: its unanswered claims are still held when B opens, within their lease.
      assert.deepEqual(await b.claimIdempotencyKey(claim("live", 1)), held);
      assert.equal(await claimRows(url, schema, "left"), 1);
      assert.equal(await claimRows(url, schema, "legacy"), 0);
      await b.claimIdempotencyKey(claim("mine", 1));
      // A's lock is gone but a connection of A is left, maybe running a statement: held.
      await cutOwner(url, schema, "live", "lock");
      assert.deepEqual(await b.claimIdempotencyKey(claim("live", 2)), held);
      // A's process "crashes": every connection of it is cut, its claims unsettled.
      await cutOwner(url, schema, "live", "all");
      // A retry on B takes A's claim over at once, within the lease.
      assert.deepEqual(await b.claimIdempotencyKey(claim("live", 2)), { status: "claimed" });
      assert.deepEqual(await b.claimIdempotencyKey(claim("live", 2)), held);
      // C opens: A's other claim is freed; B's, alive, is still held.
      const c = await PostgresStore.open({ url, schema, max: 2 });
      try {
        assert.equal(await claimRows(url, schema, "left"), 0);
        assert.deepEqual(await c.claimIdempotencyKey(claim("mine", 2)), held);
        assert.deepEqual(await c.claimIdempotencyKey(claim("live", 2)), held);
      } finally {
        await c.close();
      }
    } finally {
      await b.close();
    }
  } finally {
    // A closes after its connection was cut, without failing or harming the others.
    await a.close();
  }
}
