/**
 * The mkStats part of {@linkcode D1Store}: the `installs`, `install_tokens`,
 * `daily_actives` and `event_counts` tables, and `plugin_activity`, the daily
 * actives and events per plugin, UTC day and version. An install and its
 * token are one `batch()`; so are a ping, or an event count, its activity,
 * and the idempotent answer that acknowledges it.
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
import { type D1Connection, rowsOf } from "./_connection.ts";
import { settleStatements } from "./_idempotency.ts";
import { readLimit } from "../common/_read_limit.ts";
import {
  INSERT_TOKEN,
  installValues,
  tokenValues,
  UPSERT_INSTALL,
} from "../mkstats/_install_rows.ts";

const FIND_TOKEN = `SELECT t.plugin_id AS plugin_id, t.user_hash AS user_hash,
    t.expires_at AS expires_at, i.first_ping AS first_ping
  FROM install_tokens t
  LEFT JOIN installs i ON i.plugin_id = t.plugin_id AND i.user_hash = t.user_hash
  WHERE t.token_hash = ?`;

const UPSERT_PING =
  `INSERT INTO daily_actives (plugin_id, day, user_hash, version) VALUES (?, ?, ?, ?)
  ON CONFLICT (plugin_id, day, user_hash) DO UPDATE SET version = excluded.version`;

// Before the ping's row is written: it counts only when the install has no row for the day yet.
const COUNT_ACTIVE = `INSERT INTO plugin_activity (plugin_id, day, version, actives, events)
  SELECT ?, ?, ?, 1, 0 WHERE NOT EXISTS
    (SELECT 1 FROM daily_actives WHERE plugin_id = ? AND day = ? AND user_hash = ?)
  ON CONFLICT (plugin_id, day, version) DO UPDATE SET actives = actives + 1`;

const COUNT_EVENTS = `INSERT INTO plugin_activity (plugin_id, day, version, actives, events)
  VALUES (?, ?, ?, 0, ?)
  ON CONFLICT (plugin_id, day, version) DO UPDATE SET events = events + excluded.events`;

const MARK_PINGED =
  `UPDATE installs SET first_ping = COALESCE(first_ping, ?), last_seen = ?, version = ?
  WHERE plugin_id = ? AND user_hash = ?`;

const ADD_EVENT =
  `INSERT INTO event_counts (plugin_id, event, version, day, count) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (plugin_id, event, version, day) DO UPDATE SET count = count + excluded.count`;

/**
 * Builds the mkStats part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function d1MkStats(db: D1Connection): MkStatsStore {
  return {
    recordInstall: async (install) => {
      await db.batch([
        db.statement(UPSERT_INSTALL, installValues(install)),
        db.statement(INSERT_TOKEN, tokenValues(install)),
      ]);
    },
    findInstallToken: async (tokenHash) => {
      const row = await db.first(FIND_TOKEN, [tokenHash]);
      if (row === undefined) return undefined;
      return {
        pluginId: String(row.plugin_id),
        userHash: String(row.user_hash),
        expiresAt: Number(row.expires_at),
        hasPinged: row.first_ping !== null,
      };
    },
    recordPing: async (ping, settle) => {
      await db.batch([
        db.statement(COUNT_ACTIVE, [
          ping.pluginId,
          ping.day,
          ping.version,
          ping.pluginId,
          ping.day,
          ping.userHash,
        ]),
        db.statement(UPSERT_PING, [ping.pluginId, ping.day, ping.userHash, ping.version]),
        db.statement(MARK_PINGED, [
          ping.now,
          ping.now,
          ping.version,
          ping.pluginId,
          ping.userHash,
        ]),
        ...settleStatements(db, settle),
      ]);
    },
    addEventCount: async (event, settle) => {
      await db.batch([
        db.statement(ADD_EVENT, [
          event.pluginId,
          event.event,
          event.version,
          event.day,
          event.count,
        ]),
        db.statement(COUNT_EVENTS, [event.pluginId, event.day, event.version, event.count]),
        ...settleStatements(db, settle),
      ]);
    },
    getStats: async (pluginId) => {
      // One batch, so the three reads see one state of the database.
      const [installs, actives, events] = await db.batch([
        db.statement("SELECT COUNT(*) AS n FROM installs WHERE plugin_id = ?", [pluginId]),
        db.statement(
          `SELECT day, COUNT(*) AS count FROM daily_actives WHERE plugin_id = ?
           GROUP BY day ORDER BY day`,
          [pluginId],
        ),
        db.statement(
          `SELECT event, version, SUM(count) AS count FROM event_counts WHERE plugin_id = ?
           GROUP BY event, version ORDER BY event, version`,
          [pluginId],
        ),
      ]);
      return {
        plugin_id: pluginId,
        installs: Number(rowsOf(installs)[0].n),
        daily_actives: rowsOf(actives).map((row): DailyActiveCount => ({
          day: String(row.day),
          count: Number(row.count),
        })),
        events: rowsOf(events).map((row): EventTotal => ({
          event: String(row.event),
          version: String(row.version),
          count: Number(row.count),
        })),
      };
    },
    listMkStatsPlugins: async (query) =>
      (await db.all(
        `SELECT plugin_id, SUM(actives) AS actives, SUM(events) AS events FROM plugin_activity
         WHERE day >= ? AND day <= ? GROUP BY plugin_id
         ORDER BY SUM(actives) DESC, SUM(events) DESC, plugin_id LIMIT ?`,
        [query.firstDay, query.lastDay, readLimit(query.limit)],
      )).map((row): PluginActivity => ({
        pluginId: String(row.plugin_id),
        actives: Number(row.actives),
        events: Number(row.events),
      })),
    getMkStatsActivity: async (pluginId, query) =>
      (await db.all(
        `SELECT day, version, actives, events FROM plugin_activity
         WHERE plugin_id = ? AND day >= ? AND day <= ? ORDER BY day DESC, version LIMIT ?`,
        [pluginId, query.firstDay, query.lastDay, readLimit(query.limit)],
      )).map((row): PluginVersionDay => ({
        day: String(row.day),
        version: String(row.version),
        actives: Number(row.actives),
        events: Number(row.events),
      })),
    pruneInstallTokens: (now, limit) =>
      db.run(
        `DELETE FROM install_tokens WHERE rowid IN
           (SELECT rowid FROM install_tokens WHERE expires_at < ? LIMIT ?)`,
        [now, limit],
      ),
  };
}
