/**
 * The SQLite statements that the SQLite store and the D1 store (D1 is
 * SQLite) both create, each written once: the SQLite store runs them as a
 * script when its tables are missing, and D1's first migration runs them one
 * by one. SQLite keeps each statement's text in `sqlite_master`, so none of
 * them may change: a change belongs in a new step of each store's schema.
 * (`IDEMPOTENCY_KEYS` is D1's only: the SQLite store moved to its own layout.)
 *
 * @module
 */

/**
 * Joins statements into the script the SQLite store runs: each ends with
 * `;` on its own line, after a leading newline.
 *
 * @param statements The statements, without their final `;`.
 * @returns The script.
 * @throws Never.
 * @example
 * ```ts
 * import { SPOT_BLOBS, sqliteScript } from "./_sqlite_schema.ts";
 *
 * console.log(sqliteScript(SPOT_BLOBS).startsWith("\nCREATE TABLE")); // true
 * ```
 */
export function sqliteScript(statements: readonly string[]): string {
  return "\n" + statements.map((statement) => `${statement};\n`).join("");
}

/**
 * The `idempotency_keys` table and its indexes: one row per scope and key,
 * numbered in claim order, the scope kept as text. D1's layout; the SQLite
 * store keeps its keys in `idempotency_claims` instead
 * (`sqlite/_idempotency_layout.ts`) and moves a database it wrote with this
 * layout over when it opens.
 */
export const IDEMPOTENCY_KEYS: readonly string[] = [
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
];

/** The mkStats tables: `installs`, `install_tokens` and its index, `daily_actives` and `event_counts`. */
export const MKSTATS_TABLES: readonly string[] = [
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

/** Honch's partial uploads, `honch_partials`, and their index by expiry. */
export const HONCH_PARTIALS: readonly string[] = [
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
];

/** Honch's frames by offset, completed-message markers, events and blobs, with their indexes. */
export const HONCH_STORED: readonly string[] = [
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

/** The migas `migas_projects` and `migas_breadcrumbs` tables, and the breadcrumbs' index. */
export const MIGAS_TABLES: readonly string[] = [
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
];

/** The Emitter's stored messages, `emitter_messages`, and their three indexes. */
export const EMITTER_MESSAGES: readonly string[] = [
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
];

/** Spot's blobs, `spot_blobs`, one row per owner and key. */
export const SPOT_BLOBS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS spot_blobs (
  owner TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (owner, key)
)`,
];

/**
 * `plugin_activity`, mkStats' daily actives and events per plugin, UTC day
 * and version, with the statements that build it from the rows of
 * `daily_actives` and `event_counts` already stored: SQLite's store runs
 * them when the table is missing, D1's as part of its migration 2.
 */
export const PLUGIN_ACTIVITY: readonly string[] = [
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
];

/**
 * `spot_blob_totals`, the count and bytes of every Spot blob in one row,
 * built from the blobs already stored and kept by three triggers: SQLite's
 * store runs them when the table is missing, D1's as part of its migration 2.
 */
export const SPOT_BLOB_TOTALS: readonly string[] = [
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
