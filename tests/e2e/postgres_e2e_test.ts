/**
 * The end-to-end tests again, with every server on PostgreSQL: a throwaway
 * PostgreSQL (see `tests/_helpers/postgres.ts`) gets a database of its own,
 * and a child `deno test` runs the client-against-server files with
 * `EDGEWIRE_E2E_DATABASE_URL` pointing there, so each of their servers keeps
 * its state in a `PostgresStore` rather than in memory. The durability test
 * runs on PostgreSQL by itself.
 *
 * @module
 */

import assert from "node:assert/strict";
import { describeRuntime, ignoredUnlessRequired } from "../_helpers/runtimes.ts";
import {
  locatePostgres,
  onPostgres,
  type PostgresServer,
  startPostgres,
} from "../_helpers/postgres.ts";
import { E2E_DATABASE_VARIABLE } from "./_server.ts";

const FILES = [
  "mkstats_test.ts",
  "honch_test.ts",
  "migas_test.ts",
  "spot_test.ts",
  "fault_injection_test.ts",
];

const POSTGRES = locatePostgres();
const ignore = ignoredUnlessRequired(POSTGRES);
// Started outside any test, so no test's resource check counts the server process.
const postgres: PostgresServer | undefined = ignore || POSTGRES.binary === undefined
  ? undefined
  : await startPostgres(POSTGRES);
const DATABASE = `e2e_${Date.now()}`;

Deno.test({
  name: `the mkStats, Honch, migas, Spot and fault-injection end-to-end tests pass on ${
    describeRuntime(POSTGRES)
  }`,
  ignore,
  async fn() {
    assert.ok(postgres, POSTGRES.missing ?? "PostgreSQL did not start");
    await onPostgres(postgres.url, (sql) => sql.unsafe(`CREATE DATABASE ${DATABASE}`));
    try {
      const here = new URL(".", import.meta.url).pathname;
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", "--quiet", ...FILES.map((file) => here + file)],
        env: { [E2E_DATABASE_VARIABLE]: postgres.urlOf(DATABASE), NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(output.stdout) +
        new TextDecoder().decode(output.stderr);
      const summary = text.match(/^ok \| (\d+) passed \| 0 failed/m);
      assert.ok(output.success && summary !== null, text.slice(-6000));
      // Every test of those files ran: none was filtered or ignored on the way
      assert.ok(Number(summary[1]) >= FILES.length, summary[0]);
    } finally {
      await onPostgres(postgres.url, (sql) => sql.unsafe(`DROP DATABASE ${DATABASE} WITH (FORCE)`));
    }
  },
});

Deno.test({
  name: `the ${describeRuntime(POSTGRES)} of the end-to-end tests stops cleanly`,
  ignore,
  async fn() {
    assert.ok(postgres, POSTGRES.missing ?? "PostgreSQL did not start");
    assert.equal(await postgres.stop(), 0);
  },
});
