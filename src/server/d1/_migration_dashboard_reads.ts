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
  `CREATE TABLE IF NOT EXISTS plugin_activity (
    plugin_id TEXT NOT NULL,
    day TEXT NOT NULL,
    version TEXT NOT NULL,
    actives INTEGER NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (plugin_id, day, version)
  ) WITHOUT ROWID`,
  "CREATE INDEX IF NOT EXISTS plugin_activity_day ON plugin_activity (day, plugin_id)",
  `INSERT INTO plugin_activity (plugin_id, day, version, actives, events)
    SELECT plugin_id, day, version, COUNT(*), 0 FROM daily_actives
    WHERE true GROUP BY plugin_id, day, version
    ON CONFLICT (plugin_id, day, version) DO UPDATE SET actives = excluded.actives`,
  `INSERT INTO plugin_activity (plugin_id, day, version, actives, events)
    SELECT plugin_id, day, version, 0, SUM(count) FROM event_counts
    WHERE true GROUP BY plugin_id, day, version
    ON CONFLICT (plugin_id, day, version) DO UPDATE SET events = excluded.events`,
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
  `CREATE TABLE IF NOT EXISTS spot_blob_totals (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    blobs INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  )`,
  `INSERT OR REPLACE INTO spot_blob_totals (id, blobs, bytes)
    SELECT 1, COUNT(*), COALESCE(SUM(LENGTH(value)), 0) FROM spot_blobs`,
  `CREATE TRIGGER IF NOT EXISTS spot_blobs_added AFTER INSERT ON spot_blobs BEGIN
    UPDATE spot_blob_totals SET blobs = blobs + 1, bytes = bytes + LENGTH(NEW.value) WHERE id = 1;
  END`,
  `CREATE TRIGGER IF NOT EXISTS spot_blobs_replaced AFTER UPDATE OF value ON spot_blobs BEGIN
    UPDATE spot_blob_totals SET bytes = bytes - LENGTH(OLD.value) + LENGTH(NEW.value) WHERE id = 1;
  END`,
  `CREATE TRIGGER IF NOT EXISTS spot_blobs_removed AFTER DELETE ON spot_blobs BEGIN
    UPDATE spot_blob_totals SET blobs = blobs - 1, bytes = bytes - LENGTH(OLD.value) WHERE id = 1;
  END`,
];
