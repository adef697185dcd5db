/**
 * The embedded default store of the reference server, on `node:sqlite`
 * (built into Deno, Node 22+ and Bun). A file database runs in WAL mode so
 * readers never block the writer; `:memory:` keeps everything in the process.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { InvalidArgumentError } from "../../core/errors.ts";
import type {
  DailyActiveCount,
  EventCountRecord,
  EventTotal,
  InstallRecord,
  InstallTokenRecord,
  PingRecord,
  PluginStats,
  ServerStore,
} from "./types.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS used_challenges (
  id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS used_challenges_expires_at ON used_challenges (expires_at);
CREATE TABLE IF NOT EXISTS installs (
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
);
CREATE TABLE IF NOT EXISTS install_tokens (
  token_hash TEXT PRIMARY KEY,
  plugin_id TEXT NOT NULL,
  user_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS install_tokens_expires_at ON install_tokens (expires_at);
CREATE TABLE IF NOT EXISTS daily_actives (
  plugin_id TEXT NOT NULL,
  day TEXT NOT NULL,
  user_hash TEXT NOT NULL,
  version TEXT NOT NULL,
  PRIMARY KEY (plugin_id, day, user_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_counts (
  plugin_id TEXT NOT NULL,
  event TEXT NOT NULL,
  version TEXT NOT NULL,
  day TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (plugin_id, event, version, day)
) WITHOUT ROWID;
`;

interface Statements {
  getMeta: StatementSync;
  setMeta: StatementSync;
  insertMeta: StatementSync;
  markUsed: StatementSync;
  upsertInstall: StatementSync;
  insertToken: StatementSync;
  findToken: StatementSync;
  upsertPing: StatementSync;
  markPinged: StatementSync;
  addEvent: StatementSync;
  countInstalls: StatementSync;
  dailyActives: StatementSync;
  eventTotals: StatementSync;
  pruneChallenges: StatementSync;
  pruneTokens: StatementSync;
}

/**
 * A {@linkcode ServerStore} in one SQLite database. Statements are prepared
 * once and reused; the schema is created on open when missing.
 *
 * @example Hand a store to the server
 * ```ts
 * import { createServer, SqliteStore } from "@edgewire/sdk/server";
 *
 * const store = new SqliteStore(":memory:");
 * const server = createServer({ store });
 * await server.close(); // closes the store too
 * ```
 */
export class SqliteStore implements ServerStore {
  readonly #db: DatabaseSync;
  readonly #statements: Statements;
  #closed = false;

  /**
   * Opens or creates a database and its schema.
   *
   * @param path A file path, or `":memory:"` for a database that lives as long as the store.
   * @throws {InvalidArgumentError} When `path` is not a non-empty string.
   * @throws {Error} When SQLite cannot open the file.
   */
  constructor(path: string) {
    if (typeof path !== "string" || path.length === 0) {
      throw new InvalidArgumentError(
        "path",
        "Cannot open SqliteStore as 'path' must be a file path or ':memory:': current value is empty",
      );
    }
    this.#db = new DatabaseSync(path);
    try {
      // Several server processes may share one file: wait for locks rather than fail.
      this.#db.exec("PRAGMA busy_timeout = 5000");
      if (path !== ":memory:") {
        this.#db.exec("PRAGMA journal_mode = WAL");
        this.#db.exec("PRAGMA synchronous = NORMAL");
      }
      this.#db.exec(SCHEMA);
      this.#statements = this.#prepare();
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  #prepare(): Statements {
    const db = this.#db;
    return {
      getMeta: db.prepare("SELECT value FROM meta WHERE key = ?"),
      setMeta: db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ),
      insertMeta: db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)"),
      markUsed: db.prepare("INSERT OR IGNORE INTO used_challenges (id, expires_at) VALUES (?, ?)"),
      upsertInstall: db.prepare(
        `INSERT INTO installs (plugin_id, user_hash, version, device_fingerprint, client_name,
           client_version, first_seen, last_seen)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (plugin_id, user_hash) DO UPDATE SET
           version = excluded.version,
           device_fingerprint = excluded.device_fingerprint,
           client_name = excluded.client_name,
           client_version = excluded.client_version,
           last_seen = excluded.last_seen`,
      ),
      insertToken: db.prepare(
        "INSERT OR REPLACE INTO install_tokens (token_hash, plugin_id, user_hash, expires_at) VALUES (?, ?, ?, ?)",
      ),
      findToken: db.prepare(
        `SELECT t.plugin_id AS plugin_id, t.user_hash AS user_hash, t.expires_at AS expires_at,
           i.first_ping AS first_ping
         FROM install_tokens t
         LEFT JOIN installs i ON i.plugin_id = t.plugin_id AND i.user_hash = t.user_hash
         WHERE t.token_hash = ?`,
      ),
      upsertPing: db.prepare(
        `INSERT INTO daily_actives (plugin_id, day, user_hash, version) VALUES (?, ?, ?, ?)
         ON CONFLICT (plugin_id, day, user_hash) DO UPDATE SET version = excluded.version`,
      ),
      markPinged: db.prepare(
        `UPDATE installs SET first_ping = COALESCE(first_ping, ?), last_seen = ?, version = ?
         WHERE plugin_id = ? AND user_hash = ?`,
      ),
      addEvent: db.prepare(
        `INSERT INTO event_counts (plugin_id, event, version, day, count) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (plugin_id, event, version, day) DO UPDATE SET count = count + excluded.count`,
      ),
      countInstalls: db.prepare("SELECT COUNT(*) AS n FROM installs WHERE plugin_id = ?"),
      dailyActives: db.prepare(
        `SELECT day, COUNT(*) AS count FROM daily_actives WHERE plugin_id = ?
         GROUP BY day ORDER BY day`,
      ),
      eventTotals: db.prepare(
        `SELECT event, version, SUM(count) AS count FROM event_counts WHERE plugin_id = ?
         GROUP BY event, version ORDER BY event, version`,
      ),
      pruneChallenges: db.prepare("DELETE FROM used_challenges WHERE expires_at < ?"),
      pruneTokens: db.prepare("DELETE FROM install_tokens WHERE expires_at < ?"),
    };
  }

  #open(): Statements {
    if (this.#closed) throw new Error("Cannot use SqliteStore as it is closed");
    return this.#statements;
  }

  #transaction(body: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      body();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * Reads a server setting.
   *
   * @param key The setting's name.
   * @returns Its value, or `undefined` when unset.
   * @throws {Error} When the store is closed.
   */
  getMeta(key: string): Promise<string | undefined> {
    return run(() => {
      const row = this.#open().getMeta.get(key) as { value: string } | undefined;
      return row?.value;
    });
  }

  /**
   * Writes a server setting, replacing any previous value.
   *
   * @param key The setting's name.
   * @param value Its new value.
   * @returns Once written.
   * @throws {Error} When the store is closed.
   */
  setMeta(key: string, value: string): Promise<void> {
    return run(() => {
      this.#open().setMeta.run(key, value);
    });
  }

  /**
   * Writes a server setting unless it already has a value.
   *
   * @param key The setting's name.
   * @param value The value to store when the key is unset.
   * @returns The value stored afterwards.
   * @throws {Error} When the store is closed.
   */
  ensureMeta(key: string, value: string): Promise<string> {
    return run(() => {
      const statements = this.#open();
      statements.insertMeta.run(key, value);
      return (statements.getMeta.get(key) as { value: string }).value;
    });
  }

  /**
   * Marks a proof-of-work challenge as spent.
   *
   * @param id The challenge's identifier.
   * @param expiresAt When the challenge expires, in milliseconds.
   * @returns `true` on first use, `false` when already spent.
   * @throws {Error} When the store is closed.
   */
  markChallengeUsed(id: string, expiresAt: number): Promise<boolean> {
    return run(() => this.#open().markUsed.run(id, expiresAt).changes === 1);
  }

  /**
   * Records a completed handshake and its token hash, in one transaction.
   *
   * @param install The install and its token hash.
   * @returns Once written.
   * @throws {Error} When the store is closed.
   */
  recordInstall(install: InstallRecord): Promise<void> {
    return run(() => {
      const statements = this.#open();
      this.#transaction(() => {
        statements.upsertInstall.run(
          install.pluginId,
          install.userHash,
          install.version,
          install.deviceFingerprint,
          install.clientName,
          install.clientVersion,
          install.now,
          install.now,
        );
        statements.insertToken.run(
          install.tokenHash,
          install.pluginId,
          install.userHash,
          install.tokenExpiresAt,
        );
      });
    });
  }

  /**
   * Finds an install token by its hash.
   *
   * @param tokenHash The SHA-256 of the token, as lowercase hex.
   * @returns The token's install and expiry, or `undefined` when unknown.
   * @throws {Error} When the store is closed.
   */
  findInstallToken(tokenHash: string): Promise<InstallTokenRecord | undefined> {
    return run(() => {
      const row = this.#open().findToken.get(tokenHash) as
        | { plugin_id: string; user_hash: string; expires_at: number; first_ping: number | null }
        | undefined;
      if (row === undefined) return undefined;
      return {
        pluginId: row.plugin_id,
        userHash: row.user_hash,
        expiresAt: row.expires_at,
        hasPinged: row.first_ping !== null,
      };
    });
  }

  /**
   * Records a daily-active ping, in one transaction.
   *
   * @param ping The ping.
   * @returns Once written.
   * @throws {Error} When the store is closed.
   */
  recordPing(ping: PingRecord): Promise<void> {
    return run(() => {
      const statements = this.#open();
      this.#transaction(() => {
        statements.upsertPing.run(ping.pluginId, ping.day, ping.userHash, ping.version);
        statements.markPinged.run(ping.now, ping.now, ping.version, ping.pluginId, ping.userHash);
      });
    });
  }

  /**
   * Adds occurrences to an event's daily counter.
   *
   * @param event The event and how many occurrences to add.
   * @returns Once written.
   * @throws {Error} When the store is closed.
   */
  addEventCount(event: EventCountRecord): Promise<void> {
    return run(() => {
      this.#open().addEvent.run(event.pluginId, event.event, event.version, event.day, event.count);
    });
  }

  /**
   * Aggregates one plugin's installs, daily actives and events.
   *
   * @param pluginId The plugin.
   * @returns The aggregates.
   * @throws {Error} When the store is closed.
   */
  getStats(pluginId: string): Promise<PluginStats> {
    return run(() => {
      const statements = this.#open();
      const installs = (statements.countInstalls.get(pluginId) as { n: number }).n;
      const actives = statements.dailyActives.all(pluginId) as unknown as DailyActiveCount[];
      const events = statements.eventTotals.all(pluginId) as unknown as EventTotal[];
      return {
        plugin_id: pluginId,
        installs,
        daily_actives: actives.map((row) => ({ day: row.day, count: row.count })),
        events: events.map((row) => ({ event: row.event, version: row.version, count: row.count })),
      };
    });
  }

  /**
   * Deletes spent challenges and install tokens that have expired.
   *
   * @param now The server's current time, in milliseconds.
   * @returns Once deleted.
   * @throws {Error} When the store is closed.
   */
  prune(now: number): Promise<void> {
    return run(() => {
      const statements = this.#open();
      statements.pruneChallenges.run(now);
      statements.pruneTokens.run(now);
    });
  }

  /**
   * Closes the database. Calling it again does nothing.
   *
   * @returns Once closed.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return run(() => this.#db.close());
  }
}

// node:sqlite is synchronous; wrapping keeps the async contract, errors included.
function run<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (error) {
    return Promise.reject(error);
  }
}
