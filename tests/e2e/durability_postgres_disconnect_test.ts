/**
 * Durability when PostgreSQL ends the server's connections, as a restart,
 * a failover or an operator's `pg_terminate_backend` does: at seeded
 * moments while every client sends, one of the server's transactions is
 * made to wait on a lock and then every connection of the server is
 * terminated. The server must stay up, and every event a client was told
 * was accepted must be stored, none twice (see `_durability.ts`). Under
 * this load the driver's `ROLLBACK` to a closed socket does not always end
 * the process even without `src/server/postgres/_begin.ts` (the pool may
 * open a new socket first): `tests/server/store_disconnect_postgres_test.ts`
 * pins that crash down; this test checks what the clients were told.
 * Ignored without PostgreSQL unless EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgresClient from "postgres";
import { crashTest } from "./_durability.ts";
import { onPostgres, postgresForFile } from "../_helpers/postgres.ts";

// Started here, outside any test, so no test's resource check counts the server process.
const { ignore, runtime, stopAfterTests, url, urlOf } = await postgresForFile();

/** A database of its own, so a server from EDGEWIRE_POSTGRES_URL holds nothing of an earlier run. */
const DATABASE = `disconnect_${Date.now()}`;

/** How long a disturbance waits for one of the server's transactions to wait on its lock. */
const CATCH_MS = 2000;

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Locks the table Honch's events go to, waits (up to {@linkcode CATCH_MS})
 * until a transaction of the server waits on it, then terminates every
 * connection of the server (their `application_name` starts `edgewire:`).
 *
 * @returns Whether a transaction of the server was waiting when its connection ended.
 */
async function endConnections(): Promise<boolean> {
  // Two connections: one holds the lock, the other looks and terminates.
  const sql = postgresClient(urlOf(DATABASE), { max: 2, onnotice: () => {} });
  try {
    let caught = false;
    await sql.begin(async (tx) => {
      await tx.unsafe("LOCK TABLE edgewire.honch_events IN ACCESS EXCLUSIVE MODE");
      for (const until = Date.now() + CATCH_MS; !caught && Date.now() < until;) {
        const [{ n }] = await sql.unsafe(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()
             AND wait_event_type = 'Lock' AND application_name LIKE 'edgewire:%'`,
        );
        caught = n > 0;
        if (!caught) await pause(10);
      }
      const ended = await sql.unsafe(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name LIKE 'edgewire:%'`,
      );
      assert.ok(ended.length > 0, "the server had connections to end");
    });
    return caught;
  } finally {
    await sql.end();
  }
}

crashTest({
  on: ` on ${runtime}`,
  ignore,
  storeEnv: async () => {
    await onPostgres(url(), (sql) => sql.unsafe(`CREATE DATABASE ${DATABASE}`));
    return { EDGEWIRE_DATABASE_URL: urlOf(DATABASE) };
  },
  disturbance: {
    name: "PostgreSQL ending the server's connections mid-transaction",
    disturb: endConnections,
  },
});

Deno.test({
  name: `the ${runtime} database of the disconnection test is dropped`,
  ignore,
  async fn() {
    await onPostgres(url(), (sql) => sql.unsafe(`DROP DATABASE ${DATABASE}`));
  },
});

stopAfterTests();
