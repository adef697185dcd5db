/**
 * Schema version 3 of {@linkcode PostgresStore}: the aggregates the
 * dashboard's reads need, each kept as rows arrive and built here from the
 * rows already stored. `plugin_activity` holds daily actives and events per
 * plugin, UTC day and version; `migas_usage_versions` holds migas usage per
 * project, UTC day and version (breadcrumbs stored before it count as hits,
 * without users: the user sketch is built as breadcrumbs arrive); and
 * `spot_blob_totals`, one row a trigger keeps, holds the count and bytes of
 * every Spot blob.
 *
 * @module
 */

const C = 'COLLATE "C"';

/**
 * The migration's SQL.
 *
 * @param s The quoted schema with a trailing dot, such as `"edgewire".`.
 * @returns The statements, run in the migration's transaction.
 * @example
 * ```ts
 * import { DASHBOARD_READS } from "./_migration_dashboard_reads.ts";
 *
 * console.log(DASHBOARD_READS('"edgewire".').includes("plugin_activity")); // true
 * ```
 */
export const DASHBOARD_READS = (s: string): string => `
CREATE TABLE ${s}plugin_activity (
  plugin_id text ${C} NOT NULL,
  day text ${C} NOT NULL,
  version text ${C} NOT NULL,
  actives bigint NOT NULL,
  events bigint NOT NULL,
  PRIMARY KEY (plugin_id, day, version)
);
CREATE INDEX plugin_activity_day ON ${s}plugin_activity (day, plugin_id);
INSERT INTO ${s}plugin_activity (plugin_id, day, version, actives, events)
  SELECT plugin_id, day, version, count(*), 0 FROM ${s}daily_actives
  GROUP BY plugin_id, day, version;
INSERT INTO ${s}plugin_activity AS p (plugin_id, day, version, actives, events)
  SELECT plugin_id, day, version, 0, sum(count) FROM ${s}event_counts
  GROUP BY plugin_id, day, version
  ON CONFLICT (plugin_id, day, version) DO UPDATE SET events = excluded.events;
CREATE TABLE ${s}migas_usage_versions (
  project text ${C} NOT NULL,
  day bigint NOT NULL,
  version text ${C} NOT NULL,
  hits bigint NOT NULL,
  users bytea,
  PRIMARY KEY (project, day, version)
);
INSERT INTO ${s}migas_usage_versions (project, day, version, hits, users)
  SELECT project, floor(timestamp::numeric / 86400000)::bigint, project_version, count(*), NULL
  FROM ${s}migas_breadcrumbs GROUP BY 1, 2, 3;
CREATE TABLE ${s}spot_blob_totals (
  id integer PRIMARY KEY CHECK (id = 1),
  blobs bigint NOT NULL,
  bytes bigint NOT NULL
);
INSERT INTO ${s}spot_blob_totals (id, blobs, bytes)
  SELECT 1, count(*), coalesce(sum(octet_length(value)), 0) FROM ${s}spot_blobs;
CREATE FUNCTION ${s}spot_blob_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE ${s}spot_blob_totals SET blobs = blobs + 1, bytes = bytes + octet_length(NEW.value)
      WHERE id = 1;
    RETURN NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE ${s}spot_blob_totals
      SET bytes = bytes - octet_length(OLD.value) + octet_length(NEW.value) WHERE id = 1;
    RETURN NEW;
  END IF;
  UPDATE ${s}spot_blob_totals SET blobs = blobs - 1, bytes = bytes - octet_length(OLD.value)
    WHERE id = 1;
  RETURN OLD;
END
$$;
CREATE TRIGGER spot_blobs_counted AFTER INSERT OR UPDATE OR DELETE ON ${s}spot_blobs
  FOR EACH ROW EXECUTE FUNCTION ${s}spot_blob_count();
`;
