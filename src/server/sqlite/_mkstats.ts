/**
 * The mkStats part of {@linkcode SqliteStore}: the `installs`,
 * `install_tokens`, `daily_actives` and `event_counts` tables, and
 * `plugin_activity`, the daily actives and events per plugin, UTC day and
 * version, updated with each ping and event in the same transaction (and
 * built from the older tables when a database from before it opens).
 *
 * @module
 */

import type {
  DailyActiveCount,
  EventTotal,
  MkStatsStore,
  PluginActivity,
  PluginVersionDay,
} from "../mkstats/store.ts";
import type { SqliteConnection } from "./_connection.ts";
import { idempotencySettler } from "./_idempotency.ts";
import { readLimit } from "../common/_read_limit.ts";
import {
  INSERT_TOKEN,
  installValues,
  tokenValues,
  UPSERT_INSTALL,
} from "../mkstats/_install_rows.ts";
import { MKSTATS_TABLES, sqliteScript } from "../_sqlite_schema.ts";

const SCHEMA = sqliteScript(MKSTATS_TABLES);

const ACTIVITY_SCHEMA = `
CREATE TABLE plugin_activity (
  plugin_id TEXT NOT NULL,
  day TEXT NOT NULL,
  version TEXT NOT NULL,
  actives INTEGER NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (plugin_id, day, version)
) WITHOUT ROWID;
CREATE INDEX plugin_activity_day ON plugin_activity (day, plugin_id);
INSERT INTO plugin_activity (plugin_id, day, version, actives, events)
  SELECT plugin_id, day, version, COUNT(*), 0 FROM daily_actives GROUP BY plugin_id, day, version;
INSERT INTO plugin_activity (plugin_id, day, version, actives, events)
  SELECT plugin_id, day, version, 0, SUM(count) FROM event_counts
  WHERE true GROUP BY plugin_id, day, version
  ON CONFLICT (plugin_id, day, version) DO UPDATE SET events = excluded.events;
`;

/**
 * Creates the mkStats tables when missing and builds the mkStats part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteMkStats(db: SqliteConnection): MkStatsStore {
  db.schema(SCHEMA);
  const hasActivity = db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'plugin_activity'",
  ).get() !== undefined;
  // The table and its rows from the older tables commit together.
  if (!hasActivity) db.transaction(() => db.schema(ACTIVITY_SCHEMA));
  const settleKey = idempotencySettler(db);
  const upsertInstall = db.prepare(UPSERT_INSTALL);
  const insertToken = db.prepare(INSERT_TOKEN);
  const findToken = db.prepare(
    `SELECT t.plugin_id AS plugin_id, t.user_hash AS user_hash, t.expires_at AS expires_at,
       i.first_ping AS first_ping
     FROM install_tokens t
     LEFT JOIN installs i ON i.plugin_id = t.plugin_id AND i.user_hash = t.user_hash
     WHERE t.token_hash = ?`,
  );
  const insertPing = db.prepare(
    `INSERT INTO daily_actives (plugin_id, day, user_hash, version) VALUES (?, ?, ?, ?)
     ON CONFLICT (plugin_id, day, user_hash) DO NOTHING`,
  );
  const updatePing = db.prepare(
    "UPDATE daily_actives SET version = ? WHERE plugin_id = ? AND day = ? AND user_hash = ?",
  );
  const countActive = db.prepare(
    `INSERT INTO plugin_activity (plugin_id, day, version, actives, events) VALUES (?, ?, ?, 1, 0)
     ON CONFLICT (plugin_id, day, version) DO UPDATE SET actives = actives + 1`,
  );
  const countEvents = db.prepare(
    `INSERT INTO plugin_activity (plugin_id, day, version, actives, events) VALUES (?, ?, ?, 0, ?)
     ON CONFLICT (plugin_id, day, version) DO UPDATE SET events = events + excluded.events`,
  );
  const listPlugins = db.prepare(
    `SELECT plugin_id, SUM(actives) AS actives, SUM(events) AS events FROM plugin_activity
     WHERE day >= ? AND day <= ? GROUP BY plugin_id
     ORDER BY SUM(actives) DESC, SUM(events) DESC, plugin_id LIMIT ?`,
  );
  const pluginActivity = db.prepare(
    `SELECT day, version, actives, events FROM plugin_activity
     WHERE plugin_id = ? AND day >= ? AND day <= ? ORDER BY day DESC, version LIMIT ?`,
  );
  const markPinged = db.prepare(
    `UPDATE installs SET first_ping = COALESCE(first_ping, ?), last_seen = ?, version = ?
     WHERE plugin_id = ? AND user_hash = ?`,
  );
  const addEvent = db.prepare(
    `INSERT INTO event_counts (plugin_id, event, version, day, count) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (plugin_id, event, version, day) DO UPDATE SET count = count + excluded.count`,
  );
  const countInstalls = db.prepare("SELECT COUNT(*) AS n FROM installs WHERE plugin_id = ?");
  const dailyActives = db.prepare(
    `SELECT day, COUNT(*) AS count FROM daily_actives WHERE plugin_id = ?
     GROUP BY day ORDER BY day`,
  );
  const eventTotals = db.prepare(
    `SELECT event, version, SUM(count) AS count FROM event_counts WHERE plugin_id = ?
     GROUP BY event, version ORDER BY event, version`,
  );
  const pruneTokens = db.prepare(
    `DELETE FROM install_tokens WHERE rowid IN
       (SELECT rowid FROM install_tokens WHERE expires_at < ? LIMIT ?)`,
  );

  return {
    recordInstall: (install) =>
      db.run(() =>
        db.transaction(() => {
          upsertInstall.run(...installValues(install));
          insertToken.run(...tokenValues(install));
        })
      ),
    findInstallToken: (tokenHash) =>
      db.read(() => {
        const row = findToken.get(tokenHash) as
          | { plugin_id: string; user_hash: string; expires_at: number; first_ping: number | null }
          | undefined;
        if (row === undefined) return undefined;
        return {
          pluginId: row.plugin_id,
          userHash: row.user_hash,
          expiresAt: row.expires_at,
          hasPinged: row.first_ping !== null,
        };
      }),
    recordPing: (ping, settle) =>
      db.run(() => {
        // The first ping of the day counts under its version; a later one only updates the row.
        if (Number(insertPing.run(ping.pluginId, ping.day, ping.userHash, ping.version).changes)) {
          countActive.run(ping.pluginId, ping.day, ping.version);
        } else updatePing.run(ping.version, ping.pluginId, ping.day, ping.userHash);
        markPinged.run(ping.now, ping.now, ping.version, ping.pluginId, ping.userHash);
        settleKey(settle);
      }),
    addEventCount: (event, settle) =>
      db.run(() => {
        addEvent.run(event.pluginId, event.event, event.version, event.day, event.count);
        countEvents.run(event.pluginId, event.day, event.version, event.count);
        settleKey(settle);
      }),
    getStats: (pluginId) =>
      db.read(() => {
        const installs = (countInstalls.get(pluginId) as { n: number }).n;
        const actives = dailyActives.all(pluginId) as unknown as DailyActiveCount[];
        const events = eventTotals.all(pluginId) as unknown as EventTotal[];
        return {
          plugin_id: pluginId,
          installs,
          daily_actives: actives.map((row) => ({ day: row.day, count: row.count })),
          events: events.map((row) => ({
            event: row.event,
            version: row.version,
            count: row.count,
          })),
        };
      }),
    pruneInstallTokens: (now, limit) => db.run(() => Number(pruneTokens.run(now, limit).changes)),
    listMkStatsPlugins: (query) =>
      db.read(() =>
        listPlugins.all(query.firstDay, query.lastDay, readLimit(query.limit)).map((
          row,
        ): PluginActivity => ({
          pluginId: String(row.plugin_id),
          actives: Number(row.actives),
          events: Number(row.events),
        }))
      ),
    getMkStatsActivity: (pluginId, query) =>
      db.read(() =>
        pluginActivity.all(pluginId, query.firstDay, query.lastDay, readLimit(query.limit)).map((
          row,
        ): PluginVersionDay => ({
          day: String(row.day),
          version: String(row.version),
          actives: Number(row.actives),
          events: Number(row.events),
        }))
      ),
  };
}
