/**
 * The Emitter part of {@linkcode SqliteStore}: the `emitter_messages` and
 * `emitter_key_bans` tables. A message keeps its contract and first channel
 * word as columns, indexed with its time, so a query reads only the rows of
 * one channel root, newest first, and stops at its limit; its full `ssid` is
 * a BLOB of 4-byte big-endian words that SQLite compares word by word for
 * the deeper, non-wildcard words of the query.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type { EmitterMessageQuery, EmitterStore, EmitterStoredMessage } from "../emitter/store.ts";
import { boundedLimit, isWildcard } from "../emitter/_store_query.ts";
import { decodeWords, encodeWords, messageValues } from "../emitter/_rows.ts";
import type { SqliteConnection } from "./_connection.ts";
import { EMITTER_MESSAGES, sqliteScript } from "../_sqlite_schema.ts";

const SCHEMA = `${sqliteScript(EMITTER_MESSAGES)}CREATE TABLE IF NOT EXISTS emitter_key_bans (
  key_hash TEXT PRIMARY KEY,
  banned_at INTEGER NOT NULL
);
`;

/** How many query shapes keep a prepared statement; past it the oldest is dropped. */
const STATEMENT_CACHE_SIZE = 64;

interface MessageRow {
  id: Uint8Array;
  ssid: Uint8Array;
  channel: string;
  payload: Uint8Array;
  time: number;
  expires_at: number;
}

/**
 * The SQL of one query shape: which of the query's words are compared (the
 * first two by column, the deeper ones inside the `ssid` BLOB), wildcards
 * left out.
 */
function querySql(ssid: readonly number[]): { sql: string; compared: number[] } {
  const where: string[] = [];
  const compared: number[] = [];
  if (ssid.length > 0) where.push("contract = ?");
  if (ssid.length > 1 && !isWildcard(ssid[1])) where.push("word1 = ?");
  for (let i = 2; i < ssid.length; i++) {
    if (isWildcard(ssid[i])) continue;
    where.push(`substr(ssid, ${i * 4 + 1}, 4) = ?`);
    compared.push(i);
  }
  where.push("depth >= ?", "time >= ?", "time <= ?", "expires_at > ?");
  const sql = `SELECT id, ssid, channel, payload, time, expires_at FROM emitter_messages
    WHERE ${where.join(" AND ")} ORDER BY time DESC, seq DESC LIMIT ?`;
  return { sql, compared };
}

/**
 * Creates the Emitter tables when missing and builds the Emitter part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteEmitter(db: SqliteConnection): EmitterStore {
  db.schema(SCHEMA);
  const insert = db.prepare(
    `INSERT OR REPLACE INTO emitter_messages
       (id, contract, word1, depth, ssid, channel, payload, time, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const usage = db.prepare(
    `SELECT count(*) AS messages, coalesce(sum(length(id) + length(payload)), 0) AS bytes
       FROM emitter_messages WHERE contract = ? AND expires_at > ?`,
  );
  const prune = db.prepare(
    `DELETE FROM emitter_messages WHERE seq IN
       (SELECT seq FROM emitter_messages WHERE expires_at <= ? LIMIT ?)`,
  );
  const ban = db.prepare(
    "INSERT INTO emitter_key_bans (key_hash, banned_at) VALUES (?, ?) ON CONFLICT (key_hash) DO NOTHING",
  );
  const unban = db.prepare("DELETE FROM emitter_key_bans WHERE key_hash = ?");
  const listBans = db.prepare("SELECT key_hash FROM emitter_key_bans");
  const statements = new Map<string, { statement: StatementSync; compared: number[] }>();

  const prepared = (ssid: readonly number[]) => {
    const shape = ssid.map((word, i) => (i > 0 && isWildcard(word) ? "*" : "w")).join("");
    let entry = statements.get(shape);
    if (entry === undefined) {
      const { sql, compared } = querySql(ssid);
      entry = { statement: db.prepare(sql), compared };
      statements.set(shape, entry);
      if (statements.size > STATEMENT_CACHE_SIZE) {
        statements.delete(statements.keys().next().value!);
      }
    }
    return entry;
  };

  const query = (query: EmitterMessageQuery): EmitterStoredMessage[] => {
    const limit = boundedLimit(query);
    if (limit === 0) return [];
    const { ssid } = query;
    const { statement, compared } = prepared(ssid);
    const parameters: (number | Uint8Array)[] = [];
    if (ssid.length > 0) parameters.push(ssid[0] >>> 0);
    if (ssid.length > 1 && !isWildcard(ssid[1])) parameters.push(ssid[1] >>> 0);
    for (const i of compared) parameters.push(encodeWords([ssid[i]]));
    parameters.push(ssid.length, query.from, query.until, query.now, limit);
    const rows = statement.all(...parameters) as unknown as MessageRow[];
    return rows.reverse().map((row) => ({
      id: row.id,
      ssid: decodeWords(row.ssid),
      channel: row.channel,
      payload: row.payload,
      time: row.time,
      expiresAt: row.expires_at,
    }));
  };

  return {
    storeEmitterMessage: (message) => db.run(() => void insert.run(...messageValues(message))),
    queryEmitterMessages: (request) => db.run(() => query(request)),
    emitterContractUsage: (contract, now) =>
      db.run(() => {
        const row = usage.get(contract >>> 0, now) as unknown as {
          messages: number;
          bytes: number;
        };
        return { messages: Number(row.messages), bytes: Number(row.bytes) };
      }),
    setEmitterKeyBan: (keyHash, banned, now) =>
      db.run(() => void (banned ? ban.run(keyHash, now) : unban.run(keyHash))),
    listEmitterKeyBans: () =>
      db.run(() =>
        (listBans.all() as unknown as { key_hash: string }[]).map((row) => row.key_hash)
      ),
    pruneEmitter: (now, limit) => db.run(() => Number(prune.run(now, limit).changes)),
  };
}
