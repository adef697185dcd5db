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
  HonchAppendResult,
  HonchBlobRecord,
  HonchCompletion,
  HonchCompletionResult,
  HonchEventRecord,
  HonchFrameRecord,
  HonchUploadKey,
  InstallRecord,
  InstallTokenRecord,
  MigasBreadcrumbRecord,
  MigasProjectRecord,
  MigasRegistration,
  MigasUsageQuery,
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
CREATE TABLE IF NOT EXISTS honch_partials (
  project_key_hash TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  source_type INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  total_length INTEGER NOT NULL,
  received INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (project_key_hash, stream_id, source_type, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS honch_partials_expires_at ON honch_partials (expires_at);
CREATE TABLE IF NOT EXISTS honch_frames (
  project_key_hash TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  source_type INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  frame_offset INTEGER NOT NULL,
  payload BLOB NOT NULL,
  PRIMARY KEY (project_key_hash, stream_id, source_type, message_id, frame_offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS honch_messages (
  project_key_hash TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  source_type INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  digest TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (project_key_hash, stream_id, source_type, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS honch_messages_expires_at ON honch_messages (expires_at);
CREATE TABLE IF NOT EXISTS honch_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_key_hash TEXT NOT NULL,
  event TEXT NOT NULL,
  distinct_id TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  properties TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS honch_events_project ON honch_events (project_key_hash, id);
CREATE TABLE IF NOT EXISTS honch_blobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_key_hash TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  source_type INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS honch_blobs_project ON honch_blobs (project_key_hash, id);
CREATE TABLE IF NOT EXISTS migas_projects (
  project TEXT PRIMARY KEY,
  latest_version TEXT,
  bad_versions TEXT NOT NULL,
  registered_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS migas_breadcrumbs (
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
);
CREATE INDEX IF NOT EXISTS migas_breadcrumbs_project ON migas_breadcrumbs (project, timestamp);
`;

const UPLOAD_KEY = "project_key_hash = ? AND stream_id = ? AND source_type = ? AND message_id = ?";

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
  findPartial: StatementSync;
  insertPartial: StatementSync;
  advancePartial: StatementSync;
  deletePartial: StatementSync;
  findFrame: StatementSync;
  insertFrame: StatementSync;
  listFrames: StatementSync;
  deleteFrames: StatementSync;
  findMessage: StatementSync;
  deleteMessage: StatementSync;
  insertMessage: StatementSync;
  insertEvent: StatementSync;
  listEvents: StatementSync;
  insertBlob: StatementSync;
  listBlobs: StatementSync;
  pruneFrames: StatementSync;
  prunePartials: StatementSync;
  pruneMessages: StatementSync;
  findMigasProject: StatementSync;
  insertMigasProject: StatementSync;
  updateMigasProject: StatementSync;
  listMigasProjects: StatementSync;
  insertMigasBreadcrumb: StatementSync;
  countMigasHits: StatementSync;
  countMigasUsers: StatementSync;
}

type UploadParams = [string, string, number, number];

function uploadParams(key: HonchUploadKey): UploadParams {
  return [key.projectKeyHash, key.streamId, key.sourceType, key.messageId];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// A uint64 property beyond 2^53 cannot be a JSON number without losing digits,
// so it is kept as its decimal string.
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
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
      findPartial: db.prepare(
        `SELECT total_length, received, expires_at FROM honch_partials WHERE ${UPLOAD_KEY}`,
      ),
      insertPartial: db.prepare(
        `INSERT INTO honch_partials (project_key_hash, stream_id, source_type, message_id,
           total_length, received, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      advancePartial: db.prepare(`UPDATE honch_partials SET received = ? WHERE ${UPLOAD_KEY}`),
      deletePartial: db.prepare(`DELETE FROM honch_partials WHERE ${UPLOAD_KEY}`),
      findFrame: db.prepare(
        `SELECT payload FROM honch_frames WHERE ${UPLOAD_KEY} AND frame_offset = ?`,
      ),
      insertFrame: db.prepare(
        `INSERT INTO honch_frames (project_key_hash, stream_id, source_type, message_id,
           frame_offset, payload) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      listFrames: db.prepare(
        `SELECT payload FROM honch_frames WHERE ${UPLOAD_KEY} ORDER BY frame_offset`,
      ),
      deleteFrames: db.prepare(`DELETE FROM honch_frames WHERE ${UPLOAD_KEY}`),
      findMessage: db.prepare(
        `SELECT digest, expires_at FROM honch_messages WHERE ${UPLOAD_KEY}`,
      ),
      deleteMessage: db.prepare(`DELETE FROM honch_messages WHERE ${UPLOAD_KEY}`),
      insertMessage: db.prepare(
        `INSERT INTO honch_messages (project_key_hash, stream_id, source_type, message_id,
           digest, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      insertEvent: db.prepare(
        `INSERT INTO honch_events (project_key_hash, event, distinct_id, timestamp, properties,
           received_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      listEvents: db.prepare(
        `SELECT event, distinct_id, timestamp, properties FROM honch_events
         WHERE project_key_hash = ? ORDER BY id DESC LIMIT ?`,
      ),
      insertBlob: db.prepare(
        `INSERT INTO honch_blobs (project_key_hash, stream_id, source_type, message_id, bytes,
           received_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      listBlobs: db.prepare(
        `SELECT project_key_hash, stream_id, source_type, message_id, bytes, received_at
         FROM honch_blobs WHERE project_key_hash = ? ORDER BY id DESC LIMIT ?`,
      ),
      pruneFrames: db.prepare(
        `DELETE FROM honch_frames WHERE (project_key_hash, stream_id, source_type, message_id) IN
           (SELECT project_key_hash, stream_id, source_type, message_id FROM honch_partials
            WHERE expires_at < ?)`,
      ),
      prunePartials: db.prepare("DELETE FROM honch_partials WHERE expires_at < ?"),
      pruneMessages: db.prepare("DELETE FROM honch_messages WHERE expires_at < ?"),
      findMigasProject: db.prepare(
        "SELECT latest_version, bad_versions FROM migas_projects WHERE project = ?",
      ),
      insertMigasProject: db.prepare(
        `INSERT OR IGNORE INTO migas_projects (project, latest_version, bad_versions, registered_at)
         VALUES (?, ?, ?, ?)`,
      ),
      updateMigasProject: db.prepare(
        "UPDATE migas_projects SET latest_version = ?, bad_versions = ? WHERE project = ?",
      ),
      listMigasProjects: db.prepare("SELECT project FROM migas_projects ORDER BY project"),
      insertMigasBreadcrumb: db.prepare(
        `INSERT INTO migas_breadcrumbs (project, project_version, language, language_version,
           timestamp, session_id, user_id, user_type, platform, container, is_ci, status,
           status_desc, error_type, error_desc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      countMigasHits: db.prepare(
        `SELECT COUNT(*) AS n FROM migas_breadcrumbs
         WHERE project = ? AND timestamp >= ? AND timestamp <= ?`,
      ),
      countMigasUsers: db.prepare(
        `SELECT COUNT(DISTINCT user_id) AS n FROM migas_breadcrumbs
         WHERE project = ? AND timestamp >= ? AND timestamp <= ?`,
      ),
    };
  }

  #open(): Statements {
    if (this.#closed) throw new Error("Cannot use SqliteStore as it is closed");
    return this.#statements;
  }

  #transaction<T>(body: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      this.#db.exec("COMMIT");
      return result;
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
   * Deletes spent challenges, install tokens, Honch partial uploads and Honch
   * retry markers that have expired.
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
      this.#transaction(() => {
        statements.pruneFrames.run(now);
        statements.prunePartials.run(now);
      });
      statements.pruneMessages.run(now);
    });
  }

  /**
   * Adds one frame of a multi-frame Honch upload to its partial message, in
   * one transaction.
   *
   * @param key The upload.
   * @param frame The frame's offset, payload and role.
   * @returns What became of the frame.
   * @throws {Error} When the store is closed.
   */
  appendHonchFrame(key: HonchUploadKey, frame: HonchFrameRecord): Promise<HonchAppendResult> {
    return run(() => {
      const statements = this.#open();
      const params = uploadParams(key);
      return this.#transaction((): HonchAppendResult => {
        let partial = statements.findPartial.get(...params) as
          | { total_length: number; received: number; expires_at: number }
          | undefined;
        if (partial !== undefined && partial.expires_at <= frame.now) {
          statements.deleteFrames.run(...params);
          statements.deletePartial.run(...params);
          partial = undefined;
        }
        const end = frame.offset + frame.payload.length;
        if (frame.totalLength !== undefined && partial === undefined) {
          if (frame.offset !== 0 || frame.final || end >= frame.totalLength) {
            return { status: "overflow" };
          }
          statements.insertPartial.run(...params, frame.totalLength, end, frame.expiresAt);
          statements.insertFrame.run(...params, 0, frame.payload);
          return { status: "stored", received: end };
        }
        if (partial === undefined) return { status: "unknown" };
        const existing = statements.findFrame.get(...params, frame.offset) as
          | { payload: Uint8Array }
          | undefined;
        if (existing !== undefined) {
          const same = !frame.final && sameBytes(existing.payload, frame.payload) &&
            (frame.totalLength === undefined || frame.totalLength === partial.total_length);
          return same
            ? { status: "duplicate", received: partial.received }
            : { status: "conflict" };
        }
        if (frame.totalLength !== undefined) return { status: "conflict" };
        if (frame.offset !== partial.received) return { status: "gap", expected: partial.received };
        if (frame.final) {
          if (end !== partial.total_length) return { status: "overflow" };
          const message = new Uint8Array(end);
          let at = 0;
          const rows = statements.listFrames.all(...params) as unknown as { payload: Uint8Array }[];
          for (const { payload } of rows) {
            message.set(payload, at);
            at += payload.length;
          }
          message.set(frame.payload, at);
          return { status: "assembled", message };
        }
        if (end >= partial.total_length) return { status: "overflow" };
        statements.insertFrame.run(...params, frame.offset, frame.payload);
        statements.advancePartial.run(end, ...params);
        return { status: "stored", received: end };
      });
    });
  }

  /**
   * Drops a partial upload and its frames.
   *
   * @param key The upload.
   * @returns Once dropped.
   * @throws {Error} When the store is closed.
   */
  discardHonchPartial(key: HonchUploadKey): Promise<void> {
    return run(() => {
      const statements = this.#open();
      const params = uploadParams(key);
      this.#transaction(() => {
        statements.deleteFrames.run(...params);
        statements.deletePartial.run(...params);
      });
    });
  }

  /**
   * Stores a complete Honch message's events or blob, records its digest and
   * drops its partial, in one transaction.
   *
   * @param key The upload.
   * @param completion The message digest, its events or blob, and times.
   * @returns Whether it was stored, a duplicate, or a collision.
   * @throws {Error} When the store is closed.
   */
  completeHonchMessage(
    key: HonchUploadKey,
    completion: HonchCompletion,
  ): Promise<HonchCompletionResult> {
    return run(() => {
      const statements = this.#open();
      const params = uploadParams(key);
      return this.#transaction((): HonchCompletionResult => {
        statements.deleteFrames.run(...params);
        statements.deletePartial.run(...params);
        const marker = statements.findMessage.get(...params) as
          | { digest: string; expires_at: number }
          | undefined;
        if (marker !== undefined && marker.expires_at > completion.now) {
          return marker.digest === completion.digest ? "duplicate" : "collision";
        }
        if (marker !== undefined) statements.deleteMessage.run(...params);
        statements.insertMessage.run(...params, completion.digest, completion.expiresAt);
        for (const event of completion.events) {
          statements.insertEvent.run(
            key.projectKeyHash,
            event.event,
            event.distinct_id,
            event.timestamp,
            JSON.stringify(event.properties, jsonReplacer),
            completion.now,
          );
        }
        if (completion.blob !== undefined) {
          statements.insertBlob.run(...params, completion.blob, completion.now);
        }
        return "stored";
      });
    });
  }

  /**
   * Stores expanded events that did not come in frames, in one transaction.
   *
   * @param projectKeyHash The SHA-256 of the project key, as lowercase hex.
   * @param events The events, in order.
   * @param now The server's current time, in milliseconds.
   * @returns Once stored.
   * @throws {Error} When the store is closed.
   */
  addHonchEvents(projectKeyHash: string, events: HonchEventRecord[], now: number): Promise<void> {
    return run(() => {
      const statements = this.#open();
      this.#transaction(() => {
        for (const event of events) {
          statements.insertEvent.run(
            projectKeyHash,
            event.event,
            event.distinct_id,
            event.timestamp,
            JSON.stringify(event.properties, jsonReplacer),
            now,
          );
        }
      });
    });
  }

  /**
   * Reads the newest stored events of a project.
   *
   * @param projectKeyHash The SHA-256 of the project key, as lowercase hex.
   * @param limit How many events at most.
   * @returns Up to `limit` events, the newest last.
   * @throws {Error} When the store is closed.
   */
  listHonchEvents(projectKeyHash: string, limit: number): Promise<HonchEventRecord[]> {
    return run(() => {
      const rows = this.#open().listEvents.all(projectKeyHash, limit) as unknown as {
        event: string;
        distinct_id: string;
        timestamp: number;
        properties: string;
      }[];
      return rows.reverse().map((row) => ({
        event: row.event,
        distinct_id: row.distinct_id,
        timestamp: row.timestamp,
        properties: JSON.parse(row.properties) as Record<string, unknown>,
      }));
    });
  }

  /**
   * Reads the blobs (coredumps) of a project.
   *
   * @param projectKeyHash The SHA-256 of the project key, as lowercase hex.
   * @param limit How many blobs at most.
   * @returns Up to `limit` blobs, the newest last.
   * @throws {Error} When the store is closed.
   */
  listHonchBlobs(projectKeyHash: string, limit: number): Promise<HonchBlobRecord[]> {
    return run(() => {
      const rows = this.#open().listBlobs.all(projectKeyHash, limit) as unknown as {
        project_key_hash: string;
        stream_id: string;
        source_type: number;
        message_id: number;
        bytes: Uint8Array;
        received_at: number;
      }[];
      return rows.reverse().map((row) => ({
        key: {
          projectKeyHash: row.project_key_hash,
          streamId: row.stream_id,
          sourceType: row.source_type,
          messageId: row.message_id,
        },
        bytes: row.bytes,
        receivedAt: row.received_at,
      }));
    });
  }

  /**
   * Registers a migas project, or updates the version facts of a registered
   * one, in one transaction.
   *
   * @param registration The project and the facts to set.
   * @returns `true` when the project was new.
   * @throws {Error} When the store is closed.
   */
  registerMigasProject(registration: MigasRegistration): Promise<boolean> {
    return run(() => {
      const statements = this.#open();
      return this.#transaction(() => {
        const inserted = statements.insertMigasProject.run(
          registration.project,
          registration.latestVersion ?? null,
          JSON.stringify(registration.badVersions ?? []),
          registration.now,
        ).changes === 1;
        if (!inserted) {
          const row = statements.findMigasProject.get(registration.project) as {
            latest_version: string | null;
            bad_versions: string;
          };
          statements.updateMigasProject.run(
            registration.latestVersion ?? row.latest_version,
            registration.badVersions === undefined
              ? row.bad_versions
              : JSON.stringify(registration.badVersions),
            registration.project,
          );
        }
        return inserted;
      });
    });
  }

  /**
   * Finds a registered migas project.
   *
   * @param project The project, as `owner/repo`.
   * @returns Its record, or `undefined` when it is not registered.
   * @throws {Error} When the store is closed.
   */
  findMigasProject(project: string): Promise<MigasProjectRecord | undefined> {
    return run(() => {
      const row = this.#open().findMigasProject.get(project) as
        | { latest_version: string | null; bad_versions: string }
        | undefined;
      if (row === undefined) return undefined;
      return {
        project,
        latestVersion: row.latest_version ?? undefined,
        badVersions: JSON.parse(row.bad_versions) as string[],
      };
    });
  }

  /**
   * Lists the registered migas projects.
   *
   * @returns Their names, sorted.
   * @throws {Error} When the store is closed.
   */
  listMigasProjects(): Promise<string[]> {
    return run(() => {
      const rows = this.#open().listMigasProjects.all() as unknown as { project: string }[];
      return rows.map((row) => row.project);
    });
  }

  /**
   * Stores one migas breadcrumb.
   *
   * @param breadcrumb The breadcrumb.
   * @returns Once stored.
   * @throws {Error} When the store is closed.
   */
  addMigasBreadcrumb(breadcrumb: MigasBreadcrumbRecord): Promise<void> {
    return run(() => {
      this.#open().insertMigasBreadcrumb.run(
        breadcrumb.project,
        breadcrumb.projectVersion,
        breadcrumb.language,
        breadcrumb.languageVersion,
        breadcrumb.timestamp,
        breadcrumb.sessionId ?? null,
        breadcrumb.userId ?? null,
        breadcrumb.userType,
        breadcrumb.platform,
        breadcrumb.container,
        breadcrumb.isCi ? 1 : 0,
        breadcrumb.status,
        breadcrumb.statusDesc ?? null,
        breadcrumb.errorType ?? null,
        breadcrumb.errorDesc ?? null,
      );
    });
  }

  /**
   * Counts a project's breadcrumbs, or its distinct users, over a time range.
   *
   * @param query The project, the inclusive range and whether to count users.
   * @returns The count.
   * @throws {Error} When the store is closed.
   */
  countMigasUsage(query: MigasUsageQuery): Promise<number> {
    return run(() => {
      const statements = this.#open();
      const statement = query.unique ? statements.countMigasUsers : statements.countMigasHits;
      const row = statement.get(query.project, query.start, query.end) as { n: number };
      return Number(row.n);
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
