/**
 * The Emitter part of {@linkcode D1Store}: the `emitter_messages` and
 * `emitter_key_bans` tables, as in the SQLite store. A message keeps its
 * contract and first channel word as columns, indexed with its time, so a
 * query reads only the rows of one channel root, newest first, and stops at
 * its limit; its full `ssid` is a BLOB of 4-byte big-endian words compared
 * word by word for the deeper, non-wildcard words of the query. Each method
 * is one statement, so nothing here needs more than D1 gives.
 *
 * @module
 */

import type { EmitterMessageQuery, EmitterStore, EmitterStoredMessage } from "../emitter/store.ts";
import { boundedLimit, isWildcard } from "../emitter/_store_query.ts";
import { decodeWords, encodeWords, messageValues } from "../emitter/_rows.ts";
import type { D1Value } from "./d1_database.ts";
import { bytesOf, type D1Connection } from "./_connection.ts";

/** The SQL and values of one query: wildcards left out, deeper words compared in the BLOB. */
function querySql(query: EmitterMessageQuery, limit: number): { sql: string; values: D1Value[] } {
  const { ssid } = query;
  const where: string[] = [];
  const values: D1Value[] = [];
  if (ssid.length > 0) {
    where.push("contract = ?");
    values.push(ssid[0] >>> 0);
  }
  if (ssid.length > 1 && !isWildcard(ssid[1])) {
    where.push("word1 = ?");
    values.push(ssid[1] >>> 0);
  }
  for (let i = 2; i < ssid.length; i++) {
    if (isWildcard(ssid[i])) continue;
    where.push(`substr(ssid, ${i * 4 + 1}, 4) = ?`);
    values.push(encodeWords([ssid[i]]));
  }
  where.push("depth >= ?", "time >= ?", "time <= ?", "expires_at > ?");
  values.push(ssid.length, query.from, query.until, query.now, limit);
  const sql = `SELECT id, ssid, channel, payload, time, expires_at FROM emitter_messages
    WHERE ${where.join(" AND ")} ORDER BY time DESC, seq DESC LIMIT ?`;
  return { sql, values };
}

/**
 * Builds the Emitter part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function d1Emitter(db: D1Connection): EmitterStore {
  return {
    storeEmitterMessage: async (message) => {
      await db.run(
        `INSERT OR REPLACE INTO emitter_messages
           (id, contract, word1, depth, ssid, channel, payload, time, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        messageValues(message),
      );
    },
    queryEmitterMessages: async (query) => {
      const limit = boundedLimit(query);
      if (limit === 0) return [];
      const { sql, values } = querySql(query, limit);
      const rows = await db.all(sql, values);
      return rows.reverse().map((row): EmitterStoredMessage => ({
        id: bytesOf(row.id),
        ssid: decodeWords(bytesOf(row.ssid)),
        channel: String(row.channel),
        payload: bytesOf(row.payload),
        time: Number(row.time),
        expiresAt: Number(row.expires_at),
      }));
    },
    emitterContractUsage: async (contract, now) => {
      const row = await db.first(
        `SELECT count(*) AS messages, coalesce(sum(length(id) + length(payload)), 0) AS bytes
         FROM emitter_messages WHERE contract = ? AND expires_at > ?`,
        [contract >>> 0, now],
      );
      return { messages: Number(row?.messages ?? 0), bytes: Number(row?.bytes ?? 0) };
    },
    setEmitterKeyBan: async (keyHash, banned, now) => {
      if (banned) {
        await db.run(
          `INSERT INTO emitter_key_bans (key_hash, banned_at) VALUES (?, ?)
           ON CONFLICT (key_hash) DO NOTHING`,
          [keyHash, now],
        );
      } else {
        await db.run("DELETE FROM emitter_key_bans WHERE key_hash = ?", [keyHash]);
      }
    },
    listEmitterKeyBans: async () =>
      (await db.all("SELECT key_hash FROM emitter_key_bans")).map((row) => String(row.key_hash)),
    pruneEmitter: (now, limit) =>
      db.run(
        `DELETE FROM emitter_messages WHERE seq IN
           (SELECT seq FROM emitter_messages WHERE expires_at <= ? LIMIT ?)`,
        [now, limit],
      ),
  };
}
