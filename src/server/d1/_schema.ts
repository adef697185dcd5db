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
import {
  EMITTER_MESSAGES,
  HONCH_PARTIALS,
  HONCH_STORED,
  IDEMPOTENCY_KEYS,
  MIGAS_TABLES,
  MKSTATS_TABLES,
  SPOT_BLOBS,
} from "../_sqlite_schema.ts";

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

/**
 * The statements the SQLite store shares (`../_sqlite_schema.ts`), as D1's
 * first migration has always held them: nested two spaces deeper. SQLite
 * keeps a statement's text in `sqlite_master`, so the text stays the same.
 */
function nested(statements: readonly string[]): string[] {
  return statements.map((statement) => statement.replaceAll("\n", "\n  "));
}

const SHARED = [
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS used_challenges (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS used_challenges_expires_at ON used_challenges (expires_at)",
  ...nested(IDEMPOTENCY_KEYS),
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

const MKSTATS = nested(MKSTATS_TABLES);

const HONCH = [
  ...nested(HONCH_PARTIALS),
  "CREATE INDEX IF NOT EXISTS honch_partials_address ON honch_partials (client_address)",
  ...nested(HONCH_STORED),
];

const MIGAS = [
  ...nested(MIGAS_TABLES),
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
  ...nested(EMITTER_MESSAGES),
  "CREATE TABLE IF NOT EXISTS emitter_key_bans (key_hash TEXT PRIMARY KEY, banned_at INTEGER NOT NULL)",
];

const SPOT = nested(SPOT_BLOBS);

/** Every migration, oldest first; a new release appends, never edits. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, statements: [...SHARED, ...MKSTATS, ...HONCH, ...MIGAS, ...EMITTER, ...SPOT] },
  // The aggregates the dashboard reads (see _migration_dashboard_reads.ts).
  { version: 2, statements: DASHBOARD_READS },
];

/** The version this release's schema has. */
export const LATEST_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;
