/**
 * The schema of {@linkcode D1Store}, as numbered migrations. The tables and
 * columns are those of the SQLite store (D1 is SQLite), except the migas
 * usage sketch: D1 has no transaction a read can join, so each sketch
 * register is its own row, raised by an upsert (`migas_usage_registers`).
 *
 * A migration runs as one `batch()` (one transaction) that starts by
 * recording its number in `edgewire_migrations`: when two isolates migrate
 * at once, the second's insert of the number fails and its whole batch is
 * undone, so each migration applies once.
 *
 * @module
 */

import { DASHBOARD_READS } from "./_migration_dashboard_reads.ts";

/** One step of the schema: its number, and its statements (one each, no `;` between). */
export interface Migration {
  /** Its number; the schema's version once it applied. */
  version: number;
  /** The statements, run in order in one transaction. */
  statements: readonly string[];
}

/** Creates the table that records applied migrations; harmless when it exists. */
export const MIGRATIONS_TABLE =
  "CREATE TABLE IF NOT EXISTS edgewire_migrations (version INTEGER PRIMARY KEY)";

/** Reads the schema's version: the highest migration applied, 0 on an empty database. */
export const SCHEMA_VERSION =
  "SELECT COALESCE(MAX(version), 0) AS version FROM edgewire_migrations";

/** Records a migration as applied; fails when it already is. */
export const RECORD_MIGRATION = "INSERT INTO edgewire_migrations (version) VALUES (?)";

const SHARED = [
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS used_challenges (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS used_challenges_expires_at ON used_challenges (expires_at)",
  `CREATE TABLE IF NOT EXISTS idempotency_keys (
    seq INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    lease_expires_at INTEGER NOT NULL,
    status INTEGER,
    body TEXT,
    UNIQUE (scope, key)
  )`,
  "CREATE INDEX IF NOT EXISTS idempotency_keys_scope ON idempotency_keys (scope, seq)",
  "CREATE INDEX IF NOT EXISTS idempotency_keys_expires_at ON idempotency_keys (expires_at)",
  // How many keys each scope holds, and the whole table under the scope '': kept by
  // triggers, so the bounds checked at every claim cost a lookup rather than a COUNT.
  "CREATE TABLE IF NOT EXISTS idempotency_counts (scope TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
  `CREATE TRIGGER IF NOT EXISTS idempotency_keys_counted AFTER INSERT ON idempotency_keys BEGIN
    INSERT INTO idempotency_counts (scope, n) VALUES (NEW.scope, 1), ('', 1)
      ON CONFLICT (scope) DO UPDATE SET n = n + 1;
  END`,
  `CREATE TRIGGER IF NOT EXISTS idempotency_keys_uncounted AFTER DELETE ON idempotency_keys BEGIN
    UPDATE idempotency_counts SET n = n - 1 WHERE scope IN (OLD.scope, '');
  END`,
];

const MKSTATS = [
  `CREATE TABLE IF NOT EXISTS installs (
    plugin_id TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    version TEXT NOT NULL,
    device_fingerprint TEXT NOT NULL,
    client_name TEXT NOT NULL,
    client_version TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    first_ping INTEGER,
    PRIMARY KEY (plugin_id, user_hash)
  )`,
  `CREATE TABLE IF NOT EXISTS install_tokens (
    token_hash TEXT PRIMARY KEY,
    plugin_id TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
  "CREATE INDEX IF NOT EXISTS install_tokens_expires_at ON install_tokens (expires_at)",
  `CREATE TABLE IF NOT EXISTS daily_actives (
    plugin_id TEXT NOT NULL,
    day TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (plugin_id, day, user_hash)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS event_counts (
    plugin_id TEXT NOT NULL,
    event TEXT NOT NULL,
    version TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (plugin_id, event, version, day)
  ) WITHOUT ROWID`,
];

const HONCH = [
  `CREATE TABLE IF NOT EXISTS honch_partials (
    project_key_hash TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    source_type INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    total_length INTEGER NOT NULL,
    received INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    client_address TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (project_key_hash, stream_id, source_type, message_id)
  ) WITHOUT ROWID`,
  "CREATE INDEX IF NOT EXISTS honch_partials_expires_at ON honch_partials (expires_at)",
  "CREATE INDEX IF NOT EXISTS honch_partials_address ON honch_partials (client_address)",
  `CREATE TABLE IF NOT EXISTS honch_frames (
    project_key_hash TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    source_type INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    frame_offset INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (project_key_hash, stream_id, source_type, message_id, frame_offset)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS honch_messages (
    project_key_hash TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    source_type INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    digest TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (project_key_hash, stream_id, source_type, message_id)
  ) WITHOUT ROWID`,
  "CREATE INDEX IF NOT EXISTS honch_messages_expires_at ON honch_messages (expires_at)",
  `CREATE TABLE IF NOT EXISTS honch_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_key_hash TEXT NOT NULL,
    event TEXT NOT NULL,
    distinct_id TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    properties TEXT NOT NULL,
    received_at INTEGER NOT NULL
  )`,
  "CREATE INDEX IF NOT EXISTS honch_events_project ON honch_events (project_key_hash, id)",
  `CREATE TABLE IF NOT EXISTS honch_blobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_key_hash TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    source_type INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    received_at INTEGER NOT NULL
  )`,
  "CREATE INDEX IF NOT EXISTS honch_blobs_project ON honch_blobs (project_key_hash, id)",
];

const MIGAS = [
  `CREATE TABLE IF NOT EXISTS migas_projects (
    project TEXT PRIMARY KEY,
    latest_version TEXT,
    bad_versions TEXT NOT NULL,
    registered_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS migas_breadcrumbs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    project_version TEXT NOT NULL,
    language TEXT NOT NULL,
    language_version TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    session_id TEXT,
    user_id TEXT,
    user_type TEXT NOT NULL,
    platform TEXT NOT NULL,
    container TEXT NOT NULL,
    is_ci INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_desc TEXT,
    error_type TEXT,
    error_desc TEXT
  )`,
  "CREATE INDEX IF NOT EXISTS migas_breadcrumbs_project ON migas_breadcrumbs (project, timestamp)",
  `CREATE TABLE IF NOT EXISTS migas_usage_days (
    project TEXT NOT NULL,
    day INTEGER NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (project, day)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS migas_usage_registers (
    project TEXT NOT NULL,
    day INTEGER NOT NULL,
    register INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (project, day, register)
  ) WITHOUT ROWID`,
];

const EMITTER = [
  `CREATE TABLE IF NOT EXISTS emitter_messages (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    contract INTEGER NOT NULL,
    word1 INTEGER,
    depth INTEGER NOT NULL,
    ssid BLOB NOT NULL,
    channel TEXT NOT NULL,
    payload BLOB NOT NULL,
    time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
  "CREATE INDEX IF NOT EXISTS emitter_messages_root ON emitter_messages (contract, word1, time)",
  "CREATE INDEX IF NOT EXISTS emitter_messages_contract ON emitter_messages (contract, time)",
  "CREATE INDEX IF NOT EXISTS emitter_messages_expires_at ON emitter_messages (expires_at)",
  "CREATE TABLE IF NOT EXISTS emitter_key_bans (key_hash TEXT PRIMARY KEY, banned_at INTEGER NOT NULL)",
];

const SPOT = [
  `CREATE TABLE IF NOT EXISTS spot_blobs (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
  )`,
];

/** Every migration, oldest first; a new release appends, never edits. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, statements: [...SHARED, ...MKSTATS, ...HONCH, ...MIGAS, ...EMITTER, ...SPOT] },
  // The aggregates the dashboard reads (see _migration_dashboard_reads.ts).
  { version: 2, statements: DASHBOARD_READS },
];

/** The version this release's schema has. */
export const LATEST_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;
