/**
 * The dashboard's aggregates in {@linkcode PostgresStore} (schema version 3:
 * `plugin_activity`, `migas_usage_versions`, `spot_blob_totals` and its
 * trigger) on a real PostgreSQL (see `tests/_helpers/postgres.ts`): a schema
 * written before them gets them built from its rows by the migration.
 * Ignored without PostgreSQL unless EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { PostgresStore } from "../../src/server/postgres/mod.ts";
import { MIGRATIONS } from "../../src/server/postgres/_migrations.ts";
import { describeRuntime, ignoredUnlessRequired } from "../_helpers/runtimes.ts";
import { locatePostgres, type PostgresServer, startPostgres } from "../_helpers/postgres.ts";

const POSTGRES = locatePostgres();
const ignore = ignoredUnlessRequired(POSTGRES);
// Started here, outside any test, so no test's resource check counts the server process.
const server: PostgresServer | undefined = ignore || POSTGRES.binary === undefined
  ? undefined
  : await startPostgres(POSTGRES);

const DAY = 86_400_000;
const BREADCRUMB = `INSERT INTO %s.migas_breadcrumbs (project, project_version, language,
  language_version, timestamp, user_id, user_type, platform, container, is_ci, status)
  VALUES ($1, $2, 'python', '3.12', $3, $4, 'general', 'linux', 'unknown', false, 'R')`;

Deno.test({
  name: `PostgresStore on ${
    describeRuntime(POSTGRES)
  }: a schema from before the dashboard's aggregates gets them built by its migration`,
  ignore,
  async fn() {
    assert.ok(server, POSTGRES.missing ?? "PostgreSQL did not start");
    const schema = `upgrade_${Date.now().toString(36)}`;
    const s = `"${schema}".`;
    const sql = postgres(server.url, { max: 1, onnotice: () => {} });
    try {
      // The schema as the migrations before version 3 left it, with rows in it
      await sql.unsafe(`CREATE SCHEMA "${schema}"`);
      await sql.unsafe(`CREATE TABLE ${s}edgewire_schema_version (
        version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const migration of MIGRATIONS.filter((step) => step.version < 3)) {
        await sql.unsafe(migration.sql(s));
        await sql.unsafe(`INSERT INTO ${s}edgewire_schema_version (version) VALUES ($1)`, [
          migration.version,
        ]);
      }
      for (const [user, day, version] of [["a", "2025-03-01", "1"], ["b", "2025-03-01", "2"]]) {
        await sql.unsafe(
          `INSERT INTO ${s}daily_actives (plugin_id, day, user_hash, version)
           VALUES ('p', $1, $2, $3)`,
          [day, user, version],
        );
      }
      await sql.unsafe(
        `INSERT INTO ${s}event_counts (plugin_id, event, version, day, count) VALUES
           ('p', 'e', '2', '2025-03-01', 4), ('p', 'f', '2', '2025-03-01', 1),
           ('q', 'e', '9', '2025-03-02', 7)`,
      );
      for (const [version, time] of [["1.0.0", 5], ["1.0.0", DAY - 1], ["2.0.0", -1]] as const) {
        await sql.unsafe(BREADCRUMB.replace("%s.", s), ["acme/tool", version, time, "u"]);
      }
      await sql.unsafe(
        `INSERT INTO ${s}spot_blobs (owner, key, value, updated_at) VALUES
           ('k.a', 'x', '\\x010203', 1), ('k.b', 'x', '\\x0405', 1)`,
      );

      const store = await PostgresStore.open({ url: server.url, schema });
      try {
        const window = { firstDay: "2025-03-01", lastDay: "2025-03-02", limit: 9 };
        assert.deepEqual(await store.listMkStatsPlugins(window), [
          { pluginId: "p", actives: 2, events: 5 },
          { pluginId: "q", actives: 0, events: 7 },
        ]);
        assert.deepEqual(await store.getMkStatsActivity("p", window), [
          { day: "2025-03-01", version: "1", actives: 1, events: 0 },
          { day: "2025-03-01", version: "2", actives: 1, events: 5 },
        ]);
        // Hits only: the user sketches start with the breadcrumbs that arrive after the migration
        assert.deepEqual(
          await store.countMigasUsageByVersion({
            project: "acme/tool",
            start: 0,
            end: 0,
            limit: 9,
          }),
          [{ version: "1.0.0", breadcrumbs: 2, users: 0 }],
        );
        assert.deepEqual(
          await store.countMigasUsageByVersion({
            project: "acme/tool",
            start: -1,
            end: -1,
            limit: 9,
          }),
          [{ version: "2.0.0", breadcrumbs: 1, users: 0 }],
        );
        assert.deepEqual(await store.spotBlobTotals(), { blobs: 2, bytes: 5 });
        // The trigger keeps the totals from now on
        assert.equal(await store.deleteSpotBlob("k.a", "x"), true);
        assert.deepEqual(await store.spotBlobTotals(), { blobs: 1, bytes: 2 });
      } finally {
        await store.close();
      }
    } finally {
      await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await sql.end();
      // The file's one test: the server it started stops with it
      assert.equal(await server.stop(), 0);
    }
  },
});
