/**
 * The mkStats part of {@linkcode PostgresStore}: the `installs`,
 * `install_tokens`, `daily_actives` and `event_counts` tables, and
 * `plugin_activity`, the daily actives and events per plugin, UTC day and
 * version. A ping or an event count commits with its activity and the
 * idempotency answer it settles, in one statement (see `recordingStatement`),
 * so a write is one round trip, and commits with the writes of other requests
 * (see `_group_commit.ts`). Pinged installs are remembered by token hash,
 * as nothing can make those facts false.
 *
 * @module
 */

import type { MkStatsStore, PluginActivity, PluginVersionDay } from "../mkstats/store.ts";
import type { PostgresConnection } from "./_connection.ts";
import { record, recordingStatement } from "./_idempotency.ts";
import { fromText, toText } from "./_text.ts";
import { readLimit } from "../common/_read_limit.ts";
import { PingedInstalls } from "../mkstats/_pinged_installs.ts";

/**
 * Builds the mkStats part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function postgresMkStats(db: PostgresConnection): MkStatsStore {
  const s = db.s;
  const upsertInstall = `INSERT INTO ${s}installs (plugin_id, user_hash, version,
       device_fingerprint, client_name, client_version, first_seen, last_seen)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (plugin_id, user_hash) DO UPDATE SET
       version = excluded.version,
       device_fingerprint = excluded.device_fingerprint,
       client_name = excluded.client_name,
       client_version = excluded.client_version,
       last_seen = excluded.last_seen`;
  const upsertToken = `INSERT INTO ${s}install_tokens (token_hash, plugin_id, user_hash, expires_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (token_hash) DO UPDATE SET plugin_id = excluded.plugin_id,
       user_hash = excluded.user_hash, expires_at = excluded.expires_at`;
  const findToken = `SELECT t.plugin_id, t.user_hash, t.expires_at, i.first_ping
     FROM ${s}install_tokens t
     LEFT JOIN ${s}installs i ON i.plugin_id = t.plugin_id AND i.user_hash = t.user_hash
     WHERE t.token_hash = $1`;
  // The first ping of the day (a row inserted, not updated: its xmax is 0) counts under its version.
  const recordPingSql = recordingStatement(s, [
    `INSERT INTO ${s}daily_actives AS a (plugin_id, day, user_hash, version)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (plugin_id, day, user_hash) DO UPDATE SET version = excluded.version
     RETURNING (a.xmax = 0) AS inserted`,
    `INSERT INTO ${s}plugin_activity AS p (plugin_id, day, version, actives, events)
     SELECT $1, $2, $4, 1, 0 FROM w0 WHERE w0.inserted
     ON CONFLICT (plugin_id, day, version) DO UPDATE SET actives = p.actives + 1`,
    `UPDATE ${s}installs SET first_ping = coalesce(first_ping, $5), last_seen = $5, version = $4
     WHERE plugin_id = $1 AND user_hash = $3`,
  ], 5);
  const addEventSql = recordingStatement(s, [
    `INSERT INTO ${s}event_counts AS c (plugin_id, event, version, day, count)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (plugin_id, event, version, day) DO UPDATE SET count = c.count + excluded.count
     RETURNING 1`,
    // Reads the counter's `RETURNING`, so its row is locked first in either form.
    `INSERT INTO ${s}plugin_activity AS p (plugin_id, day, version, actives, events)
     SELECT $1, $4, $3, 0, $5 FROM w0
     ON CONFLICT (plugin_id, day, version) DO UPDATE SET events = p.events + excluded.events`,
  ], 5);
  const countInstalls = `SELECT count(*) AS n FROM ${s}installs WHERE plugin_id = $1`;
  const dailyActives = `SELECT day, count(*) AS count FROM ${s}daily_actives WHERE plugin_id = $1
     GROUP BY day ORDER BY day`;
  const eventTotals = `SELECT event, version, sum(count) AS count FROM ${s}event_counts
     WHERE plugin_id = $1 GROUP BY event, version ORDER BY event, version`;
  const listPlugins = `SELECT plugin_id, sum(actives) AS actives, sum(events) AS events
     FROM ${s}plugin_activity WHERE day >= $1 AND day <= $2 GROUP BY plugin_id
     ORDER BY sum(actives) DESC, sum(events) DESC, plugin_id LIMIT $3`;
  const pluginActivity = `SELECT day, version, actives, events FROM ${s}plugin_activity
     WHERE plugin_id = $1 AND day >= $2 AND day <= $3 ORDER BY day DESC, version LIMIT $4`;
  const pruneTokens = `DELETE FROM ${s}install_tokens WHERE token_hash IN
     (SELECT token_hash FROM ${s}install_tokens WHERE expires_at < $1 LIMIT $2)`;

  // Pinged installs by token hash (see `_pinged_installs.ts`): an event then costs no read.
  const pinged = new PingedInstalls<null>();

  return {
    recordInstall: async (install) => {
      // A read made meanwhile may remember the token as it was: forgotten again once committed.
      pinged.forget(install.tokenHash);
      await db.transaction(async (query) => {
        const plugin = toText(install.pluginId);
        const user = toText(install.userHash);
        // Sent together, without waiting for each answer: the driver pipelines them in order.
        await Promise.all([
          query(upsertInstall, [
            plugin,
            user,
            toText(install.version),
            toText(install.deviceFingerprint),
            toText(install.clientName),
            toText(install.clientVersion),
            install.now,
          ]),
          query(upsertToken, [toText(install.tokenHash), plugin, user, install.tokenExpiresAt]),
        ]);
      });
      pinged.forget(install.tokenHash);
    },
    findInstallToken: async (tokenHash) => {
      const known = pinged.get(tokenHash);
      if (known !== undefined) {
        await db.ready();
        return known.record;
      }
      const [row] = await db.query(findToken, [toText(tokenHash)]);
      if (row === undefined) return undefined;
      const record = {
        pluginId: fromText(row.plugin_id as string),
        userHash: fromText(row.user_hash as string),
        expiresAt: Number(row.expires_at),
        hasPinged: row.first_ping !== null,
      };
      pinged.remember(tokenHash, record, null);
      return record;
    },
    recordPing: (ping, settle) =>
      record(db, recordPingSql, [
        toText(ping.pluginId),
        toText(ping.day),
        toText(ping.userHash),
        toText(ping.version),
        ping.now,
      ], settle),
    addEventCount: (event, settle) =>
      record(db, addEventSql, [
        toText(event.pluginId),
        toText(event.event),
        toText(event.version),
        toText(event.day),
        event.count,
      ], settle),
    getStats: async (pluginId) => {
      const plugin = toText(pluginId);
      // One snapshot for the three reads, so the aggregates agree with each other.
      const [installs, actives, events] = await db.transaction(
        (query) =>
          Promise.all([
            query(countInstalls, [plugin]),
            query(dailyActives, [plugin]),
            query(eventTotals, [plugin]),
          ]),
        "ISOLATION LEVEL REPEATABLE READ READ ONLY",
      );
      return {
        plugin_id: pluginId,
        installs: Number(installs[0].n),
        daily_actives: actives.map((row) => ({
          day: fromText(row.day as string),
          count: Number(row.count),
        })),
        events: events.map((row) => ({
          event: fromText(row.event as string),
          version: fromText(row.version as string),
          count: Number(row.count),
        })),
      };
    },
    pruneInstallTokens: async (now, limit) => {
      const removed = (await db.query(pruneTokens, [now, limit])).count;
      pinged.forgetExpired(now);
      return removed;
    },
    listMkStatsPlugins: async (query) =>
      (await db.query(listPlugins, [
        toText(query.firstDay),
        toText(query.lastDay),
        readLimit(query.limit),
      ]))
        .map((row): PluginActivity => ({
          pluginId: fromText(row.plugin_id as string),
          actives: Number(row.actives),
          events: Number(row.events),
        })),
    getMkStatsActivity: async (pluginId, query) =>
      (await db.query(pluginActivity, [
        toText(pluginId),
        toText(query.firstDay),
        toText(query.lastDay),
        readLimit(query.limit),
      ])).map((row): PluginVersionDay => ({
        day: fromText(row.day as string),
        version: fromText(row.version as string),
        actives: Number(row.actives),
        events: Number(row.events),
      })),
  };
}
