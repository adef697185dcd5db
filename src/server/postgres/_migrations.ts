/**
 * The versioned schema of {@linkcode PostgresStore}: each migration's SQL,
 * applied in order by the store itself when it opens, inside one
 * transaction, under an advisory lock on the schema's name (so several
 * processes opening at once migrate it once), each recorded in
 * `edgewire_schema_version`. A database at a newer version than the code
 * knows is refused with a {@linkcode SchemaVersionError}. A migration, once
 * released, is never edited: a change is a new migration.
 *
 * Text columns that are keys or sorted use `COLLATE "C"`, the byte order
 * SQLite and the memory store sort by, whatever the database's locale.
 *
 * @module
 */

import type { PostgresPool } from "./pool.ts";
import { begin } from "./_begin.ts";
import { SchemaVersionError } from "./schema_version_error.ts";
import type { Query, Rows } from "./_connection.ts";
import { CLAIM_OWNER } from "./_migration_claim_owner.ts";
import { DASHBOARD_READS } from "./_migration_dashboard_reads.ts";
import { CLAIM_FLOORS } from "./_migration_claim_floors.ts";

/** One schema change: its version and its SQL, given the quoted schema with a trailing dot. */
interface Migration {
  readonly version: number;
  readonly sql: (s: string) => string;
}

const C = 'COLLATE "C"';

const SHARED = (s: string) => `
CREATE TABLE ${s}meta (
  key text ${C} PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE ${s}used_challenges (
  id text ${C} PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX used_challenges_expires_at ON ${s}used_challenges (expires_at);
CREATE TABLE ${s}idempotency_keys (
  seq bigserial PRIMARY KEY,
  scope text ${C} NOT NULL,
  key text ${C} NOT NULL,
  fingerprint text NOT NULL,
  expires_at bigint NOT NULL,
  lease_expires_at bigint NOT NULL,
  status integer,
  body text,
  UNIQUE (scope, key)
);
CREATE INDEX idempotency_keys_scope ON ${s}idempotency_keys (scope, seq);
CREATE INDEX idempotency_keys_expires_at ON ${s}idempotency_keys (expires_at);
-- How many keys each scope holds, and all of them under the scope '': kept by a trigger, so the
-- bounds checked at every claim cost a lookup. Every change of the count takes the '' row's
-- lock first (see _idempotency.ts), so the trigger's updates never deadlock.
CREATE TABLE ${s}idempotency_counts (
  scope text ${C} PRIMARY KEY,
  n bigint NOT NULL
);
INSERT INTO ${s}idempotency_counts (scope, n) VALUES ('', 0);
CREATE FUNCTION ${s}idempotency_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ${s}idempotency_counts AS c (scope, n) VALUES (NEW.scope, 1)
      ON CONFLICT (scope) DO UPDATE SET n = c.n + 1;
    UPDATE ${s}idempotency_counts SET n = n + 1 WHERE scope = '';
    RETURN NEW;
  END IF;
  DELETE FROM ${s}idempotency_counts WHERE scope = OLD.scope AND n <= 1 AND scope <> '';
  IF NOT FOUND THEN
    UPDATE ${s}idempotency_counts SET n = n - 1 WHERE scope = OLD.scope;
  END IF;
  UPDATE ${s}idempotency_counts SET n = n - 1 WHERE scope = '';
  RETURN OLD;
END
$$;
CREATE TRIGGER idempotency_keys_counted AFTER INSERT OR DELETE ON ${s}idempotency_keys
  FOR EACH ROW EXECUTE FUNCTION ${s}idempotency_count();
-- A claim in one round trip (see _idempotency.ts): the total's row locked first, then the key
-- found, replaced when expired or past its lease, and the bounds trimmed oldest first. It commits
-- without waiting for its WAL flush: a crash may lose a claim, as with SQLite, and the write that
-- settles it flushes it with itself.
CREATE FUNCTION ${s}claim_idempotency_key(p_scope text, p_key text, p_fingerprint text,
    p_now bigint, p_expires_at bigint, p_lease_expires_at bigint, p_max_scope bigint,
    p_max_total bigint)
  RETURNS TABLE (held boolean, held_fingerprint text, held_status integer, held_body text)
  LANGUAGE plpgsql AS $$
DECLARE
  found_row ${s}idempotency_keys%ROWTYPE;
  counted bigint;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM 1 FROM ${s}idempotency_counts c WHERE c.scope = '' FOR UPDATE;
  SELECT * INTO found_row FROM ${s}idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
  IF FOUND THEN
    IF found_row.expires_at > p_now AND ((found_row.status IS NOT NULL AND found_row.body IS NOT NULL)
        OR found_row.lease_expires_at > p_now) THEN
      RETURN QUERY SELECT true, found_row.fingerprint, found_row.status, found_row.body;
      RETURN;
    END IF;
    DELETE FROM ${s}idempotency_keys k WHERE k.seq = found_row.seq;
  END IF;
  INSERT INTO ${s}idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at)
    VALUES (p_scope, p_key, p_fingerprint, p_expires_at, p_lease_expires_at);
  SELECT c.n INTO counted FROM ${s}idempotency_counts c WHERE c.scope = p_scope;
  IF counted > p_max_scope THEN
    DELETE FROM ${s}idempotency_keys k WHERE k.seq IN (SELECT o.seq FROM ${s}idempotency_keys o
      WHERE o.scope = p_scope ORDER BY o.seq LIMIT counted - p_max_scope);
  END IF;
  SELECT c.n INTO counted FROM ${s}idempotency_counts c WHERE c.scope = '';
  IF counted > p_max_total THEN
    DELETE FROM ${s}idempotency_keys k WHERE k.seq IN (SELECT o.seq FROM ${s}idempotency_keys o
      ORDER BY o.seq LIMIT counted - p_max_total);
  END IF;
  RETURN QUERY SELECT false, NULL::text, NULL::integer, NULL::text;
END
$$;
`;

const MKSTATS = (s: string) => `
CREATE TABLE ${s}installs (
  plugin_id text ${C} NOT NULL,
  user_hash text ${C} NOT NULL,
  version text NOT NULL,
  device_fingerprint text NOT NULL,
  client_name text NOT NULL,
  client_version text NOT NULL,
  first_seen bigint NOT NULL,
  last_seen bigint NOT NULL,
  first_ping bigint,
  PRIMARY KEY (plugin_id, user_hash)
);
CREATE TABLE ${s}install_tokens (
  token_hash text ${C} PRIMARY KEY,
  plugin_id text ${C} NOT NULL,
  user_hash text ${C} NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX install_tokens_expires_at ON ${s}install_tokens (expires_at);
CREATE TABLE ${s}daily_actives (
  plugin_id text ${C} NOT NULL,
  day text ${C} NOT NULL,
  user_hash text ${C} NOT NULL,
  version text NOT NULL,
  PRIMARY KEY (plugin_id, day, user_hash)
);
CREATE TABLE ${s}event_counts (
  plugin_id text ${C} NOT NULL,
  event text ${C} NOT NULL,
  version text ${C} NOT NULL,
  day text ${C} NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (plugin_id, event, version, day)
);
`;

const UPLOAD = `project_key_hash text ${C} NOT NULL,
  stream_id text ${C} NOT NULL,
  source_type integer NOT NULL,
  message_id bigint NOT NULL`;

const HONCH = (s: string) => `
CREATE TABLE ${s}honch_partials (
  ${UPLOAD},
  total_length bigint NOT NULL,
  received bigint NOT NULL,
  expires_at bigint NOT NULL,
  client_address text ${C} NOT NULL DEFAULT '',
  PRIMARY KEY (project_key_hash, stream_id, source_type, message_id)
);
CREATE INDEX honch_partials_expires_at ON ${s}honch_partials (expires_at);
CREATE INDEX honch_partials_address ON ${s}honch_partials (client_address);
CREATE TABLE ${s}honch_frames (
  ${UPLOAD},
  frame_offset bigint NOT NULL,
  payload bytea NOT NULL,
  PRIMARY KEY (project_key_hash, stream_id, source_type, message_id, frame_offset)
);
CREATE TABLE ${s}honch_messages (
  ${UPLOAD},
  digest text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (project_key_hash, stream_id, source_type, message_id)
);
CREATE INDEX honch_messages_expires_at ON ${s}honch_messages (expires_at);
CREATE TABLE ${s}honch_events (
  id bigserial PRIMARY KEY,
  project_key_hash text ${C} NOT NULL,
  event text NOT NULL,
  distinct_id text NOT NULL,
  timestamp bigint NOT NULL,
  properties text NOT NULL,
  received_at bigint NOT NULL
);
CREATE INDEX honch_events_project ON ${s}honch_events (project_key_hash, id);
CREATE TABLE ${s}honch_blobs (
  id bigserial PRIMARY KEY,
  ${UPLOAD},
  bytes bytea NOT NULL,
  received_at bigint NOT NULL
);
CREATE INDEX honch_blobs_project ON ${s}honch_blobs (project_key_hash, id);
`;

const MIGAS = (s: string) => `
CREATE TABLE ${s}migas_projects (
  project text ${C} PRIMARY KEY,
  latest_version text,
  bad_versions text NOT NULL,
  registered_at bigint NOT NULL
);
CREATE TABLE ${s}migas_breadcrumbs (
  id bigserial PRIMARY KEY,
  project text ${C} NOT NULL,
  project_version text NOT NULL,
  language text NOT NULL,
  language_version text NOT NULL,
  timestamp bigint NOT NULL,
  session_id text,
  user_id text,
  user_type text NOT NULL,
  platform text NOT NULL,
  container text NOT NULL,
  is_ci boolean NOT NULL,
  status text NOT NULL,
  status_desc text,
  error_type text,
  error_desc text
);
CREATE INDEX migas_breadcrumbs_project ON ${s}migas_breadcrumbs (project, timestamp);
CREATE TABLE ${s}migas_usage_days (
  project text ${C} NOT NULL,
  day bigint NOT NULL,
  hits bigint NOT NULL,
  users bytea,
  PRIMARY KEY (project, day)
);
`;

const EMITTER = (s: string) => `
CREATE TABLE ${s}emitter_messages (
  seq bigserial PRIMARY KEY,
  id bytea NOT NULL UNIQUE,
  contract bigint NOT NULL,
  word1 bigint,
  depth integer NOT NULL,
  ssid bytea NOT NULL,
  channel text NOT NULL,
  payload bytea NOT NULL,
  time bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX emitter_messages_root ON ${s}emitter_messages (contract, word1, time);
CREATE INDEX emitter_messages_contract ON ${s}emitter_messages (contract, time);
CREATE INDEX emitter_messages_expires_at ON ${s}emitter_messages (expires_at);
CREATE TABLE ${s}emitter_key_bans (
  key_hash text ${C} PRIMARY KEY,
  banned_at bigint NOT NULL
);
`;

const SPOT = (s: string) => `
CREATE TABLE ${s}spot_blobs (
  owner text ${C} NOT NULL,
  key text ${C} NOT NULL,
  value bytea NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (owner, key)
);
`;

/** Every migration, in order; the last one's version is the schema version this code writes. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: (s) => [SHARED, MKSTATS, HONCH, MIGAS, EMITTER, SPOT].map((part) => part(s)).join(""),
  },
  // Each idempotency claim records its store's owner (see _claim_owner.ts).
  { version: 2, sql: CLAIM_OWNER },
  // The aggregates the dashboard reads (see _migration_dashboard_reads.ts).
  { version: 3, sql: DASHBOARD_READS },
  // Claims trim their bounds from a floor, not the index's start (see _migration_claim_floors.ts).
  { version: 4, sql: CLAIM_FLOORS },
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Brings a schema to {@linkcode SCHEMA_VERSION}, creating it when missing,
 * then runs `afterwards` in the same transaction.
 *
 * @param sql The pool.
 * @param schema The schema's name, a plain identifier.
 * @param afterwards What to run once migrated (freeing claims that died with a process).
 * @returns The version the schema was at before.
 * @throws {SchemaVersionError} When the schema is newer than this code.
 */
export async function migrate(
  sql: PostgresPool,
  schema: string,
  afterwards: (query: Query) => Promise<void>,
): Promise<number> {
  const s = `"${schema}".`;
  return await begin(sql, "", async (tx) => {
    const query: Query = async (text, params = []) =>
      await tx.unsafe(text, params as never[], { prepare: false }) as unknown as Rows;
    // Held to the commit: a second process opening the same schema waits here, then finds it migrated.
    await query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
      `edgewire-schema:${schema}`,
    ]);
    await query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await query(
      `CREATE TABLE IF NOT EXISTS ${s}edgewire_schema_version (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const [row] = await query(
      `SELECT coalesce(max(version), 0) AS version FROM ${s}edgewire_schema_version`,
    );
    const found = Number(row.version);
    if (found > SCHEMA_VERSION) throw new SchemaVersionError(schema, found, SCHEMA_VERSION);
    for (const migration of MIGRATIONS) {
      if (migration.version <= found) continue;
      await tx.unsafe(migration.sql(s));
      await query(`INSERT INTO ${s}edgewire_schema_version (version) VALUES ($1)`, [
        migration.version,
      ]);
    }
    await afterwards(query);
    return found;
  });
}
