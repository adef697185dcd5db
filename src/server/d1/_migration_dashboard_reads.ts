/**
 * Migration 2 of {@linkcode D1Store}: the aggregates the dashboard's reads
 * need, each kept as rows arrive and built here from the rows already
 * stored. `plugin_activity` holds daily actives and events per plugin, UTC
 * day and version; `migas_usage_versions` and `migas_version_registers`
 * hold migas usage per project, UTC day and version (breadcrumbs stored
 * before them count as hits, without users: the registers are raised as
 * breadcrumbs arrive); and `spot_blob_totals`, one row triggers keep, holds
 * the count and bytes of every Spot blob.
 *
 * @module
 */

import { PLUGIN_ACTIVITY, SPOT_BLOB_TOTALS } from "../_sqlite_schema.ts";

/**
 * The migration's statements, one each, run in order in one `batch()`.
 *
 * @example
 * ```ts
 * import { DASHBOARD_READS } from "./_migration_dashboard_reads.ts";
 *
 * console.log(DASHBOARD_READS.length > 0); // true
 * ```
 */
export const DASHBOARD_READS: readonly string[] = [
  ...PLUGIN_ACTIVITY,
  `CREATE TABLE IF NOT EXISTS migas_usage_versions (
    project TEXT NOT NULL,
    day INTEGER NOT NULL,
    version TEXT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (project, day, version)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS migas_version_registers (
    project TEXT NOT NULL,
    day INTEGER NOT NULL,
    version TEXT NOT NULL,
    register INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (project, day, version, register)
  ) WITHOUT ROWID`,
  `INSERT INTO migas_usage_versions (project, day, version, hits)
    SELECT project, timestamp / 86400000 - (timestamp % 86400000 < 0), project_version, COUNT(*)
    FROM migas_breadcrumbs WHERE true GROUP BY 1, 2, 3
    ON CONFLICT (project, day, version) DO UPDATE SET hits = excluded.hits`,
  ...SPOT_BLOB_TOTALS,
];
