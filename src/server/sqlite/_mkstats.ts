/**
 * The mkStats part of {@linkcode SqliteStore}: the `installs`,
 * `install_tokens`, `daily_actives` and `event_counts` tables, and
 * `plugin_activity`, the daily actives and events per plugin, UTC day and
 * version, updated with each ping and event in the same transaction (and
 * built from the older tables when a database from before it opens).
 *
 * Events are summed in memory per batch and written once per counter row
 * just before the batch commits (see `BatchState` in `_connection.ts`); a
 * read of the counters writes them first. Installs that have pinged are
 * remembered by token hash, as nothing can make those facts false.
 *
 * @module
 */

import type {
  DailyActiveCount,
  EventCountRecord,
  EventTotal,
  MkStatsStore,
  PluginActivity,
  PluginVersionDay,
} from "../mkstats/store.ts";
import { InvalidArgumentError } from "../../core/errors.ts";
import type { SqliteConnection } from "./_connection.ts";
import { idempotencySettler } from "./_idempotency.ts";
import { readLimit } from "../common/_read_limit.ts";
import { PingedInstalls } from "../mkstats/_pinged_installs.ts";
import {
  INSERT_TOKEN,
  installValues,
  tokenValues,
  UPSERT_INSTALL,
} from "../mkstats/_install_rows.ts";
import { MKSTATS_TABLES, PLUGIN_ACTIVITY, sqliteScript } from "../_sqlite_schema.ts";

const SCHEMA = sqliteScript(MKSTATS_TABLES);

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
  if (!hasActivity) db.transaction(() => db.schema(sqliteScript(PLUGIN_ACTIVITY)));
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

  // The open batch's events, summed per row of event_counts: written once per row at its
  // commit (or before a read of them), rather than two upserts per event.
  const pending = new Map<string, EventCountRecord>();
  const flush = (): void => {
    if (pending.size === 0) return;
    // All or nothing, so that a flush that throws (before a read) can run again at the commit.
    db.atomic(() => {
      const activity = new Map<string, [string, string, string, number]>();
      for (const e of pending.values()) {
        addEvent.run(e.pluginId, e.event, e.version, e.day, e.count);
        const key = `${e.pluginId}\n${e.day}\n${e.version}`;
        const row = activity.get(key);
        if (row === undefined) activity.set(key, [e.pluginId, e.day, e.version, e.count]);
        else row[3] += e.count;
      }
      for (const row of activity.values()) countEvents.run(...row);
    });
    pending.clear();
  };
  // Pinged installs by token hash (see `_pinged_installs.ts`), tagged with the batch that
  // read them.
  const pinged = new PingedInstalls<number>();
  db.batchState({
    flush,
    discard: () => {
      pending.clear();
      pinged.clear();
    },
  });

  return {
    recordInstall: (install) =>
      db.run(() =>
        db.transaction(() => {
          pinged.forget(install.tokenHash);
          upsertInstall.run(...installValues(install));
          insertToken.run(...tokenValues(install));
        })
      ),
    findInstallToken: (tokenHash) => {
      const known = pinged.get(tokenHash);
      if (known !== undefined) return db.remembered(known.record, known.tag);
      return db.read(() => {
        const row = findToken.get(tokenHash) as
          | { plugin_id: string; user_hash: string; expires_at: number; first_ping: number | null }
          | undefined;
        if (row === undefined) return undefined;
        const record = {
          pluginId: row.plugin_id,
          userHash: row.user_hash,
          expiresAt: Number(row.expires_at),
          hasPinged: row.first_ping !== null,
        };
        pinged.remember(tokenHash, record, db.openBatch);
        return record;
      });
    },
    recordPing: (ping, settle) =>
      db.run(() => {
        // The first ping of the day counts under its version; a later one only updates the row.
        if (Number(insertPing.run(ping.pluginId, ping.day, ping.userHash, ping.version).changes)) {
          countActive.run(ping.pluginId, ping.day, ping.version);
        } else updatePing.run(ping.version, ping.pluginId, ping.day, ping.userHash);
        markPinged.run(ping.now, ping.now, ping.version, ping.pluginId, ping.userHash);
        settleKey(settle);
      }),
    addEventCount: (event, settle) => {
      const { pluginId, event: name, version, day, count } = event;
      if (
        typeof pluginId !== "string" || typeof name !== "string" ||
        typeof version !== "string" || typeof day !== "string" || !Number.isSafeInteger(count)
      ) {
        return Promise.reject(
          new InvalidArgumentError(
            "event",
            "Cannot count the event as 'count' must be a safe integer and 'pluginId', 'event', 'version' and 'day' strings: pass a valid event",
          ),
        );
      }
      return db.run(() => {
        settleKey(settle);
        // Counted once the settle is written: a throw leaves nothing pending.
        const key = `${pluginId}\n${name}\n${version}\n${day}`;
        const known = pending.get(key);
        if (known === undefined) pending.set(key, { pluginId, event: name, version, day, count });
        else known.count += count;
      }, false);
    },
    getStats: (pluginId) =>
      db.read(() => {
        flush();
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
    pruneInstallTokens: (now, limit) =>
      db.run(() => {
        const removed = Number(pruneTokens.run(now, limit).changes);
        pinged.forgetExpired(now);
        return removed;
      }, false),
    listMkStatsPlugins: (query) =>
      db.read(() => {
        flush();
        return listPlugins.all(query.firstDay, query.lastDay, readLimit(query.limit)).map((
          row,
        ): PluginActivity => ({
          pluginId: String(row.plugin_id),
          actives: Number(row.actives),
          events: Number(row.events),
        }));
      }),
    getMkStatsActivity: (pluginId, query) =>
      db.read(() => {
        flush();
        return pluginActivity.all(pluginId, query.firstDay, query.lastDay, readLimit(query.limit))
          .map((
            row,
          ): PluginVersionDay => ({
            day: String(row.day),
            version: String(row.version),
            actives: Number(row.actives),
            events: Number(row.events),
          }));
      }),
  };
}
