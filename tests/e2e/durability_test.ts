/**
 * Durability under crashes: the reference server, on a SQLite file and again
 * on PostgreSQL when it is installed (see `tests/_helpers/postgres.ts`), is
 * killed with SIGKILL at seeded moments while every client sends to it
 * through its public API, then restarted on the same port; every event a
 * client was told was accepted must be stored, and none twice (see
 * `_durability.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { crashTest } from "./_durability.ts";
import { describeRuntime, ignoredUnlessRequired } from "../_helpers/runtimes.ts";
import {
  locatePostgres,
  onPostgres,
  type PostgresServer,
  startPostgres,
} from "../_helpers/postgres.ts";

crashTest({ on: "", ignore: false, storeEnv: (dir) => ({ EDGEWIRE_DB: `${dir}/durable.db` }) });

const POSTGRES = locatePostgres();
const ignorePostgres = ignoredUnlessRequired(POSTGRES);
// Started here, outside any test, so no test's resource check counts the server process.
const postgres: PostgresServer | undefined = ignorePostgres || POSTGRES.binary === undefined
  ? undefined
  : await startPostgres(POSTGRES);

/** A database of its own, so a server from EDGEWIRE_POSTGRES_URL holds nothing of an earlier run. */
const DATABASE = `durability_${Date.now()}`;

crashTest({
  on: ` on ${describeRuntime(POSTGRES)}`,
  ignore: ignorePostgres,
  storeEnv: async () => {
    assert.ok(postgres, POSTGRES.missing ?? "PostgreSQL did not start");
    await onPostgres(postgres.url, (sql) => sql.unsafe(`CREATE DATABASE ${DATABASE}`));
    return { EDGEWIRE_DATABASE_URL: postgres.urlOf(DATABASE) };
  },
});

Deno.test({
  name: `the ${
    describeRuntime(POSTGRES)
  } of the crash test holds what it stored, and stops cleanly`,
  ignore: ignorePostgres,
  async fn() {
    assert.ok(postgres, POSTGRES.missing ?? "PostgreSQL did not start");
    // The server kept its state there, not in a SQLite file of its own.
    const [row] = await onPostgres(postgres.urlOf(DATABASE), (sql) =>
      sql.unsafe(
        "SELECT (SELECT count(*) FROM edgewire.honch_events) AS events, " +
          "(SELECT count(*) FROM edgewire.migas_breadcrumbs) AS breadcrumbs",
      ));
    assert.ok(Number(row.events) > 0 && Number(row.breadcrumbs) > 0, JSON.stringify(row));
    await onPostgres(postgres.url, (sql) => sql.unsafe(`DROP DATABASE ${DATABASE}`));
    assert.equal(await postgres.stop(), 0);
  },
});
