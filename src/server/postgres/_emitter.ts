/**
 * The Emitter part of {@linkcode PostgresStore}: the `emitter_messages` and
 * `emitter_key_bans` tables. A message keeps its contract and first channel
 * word as columns, indexed with its time, so a query reads only the rows of
 * one channel root, newest first, and stops at its limit; its full `ssid` is
 * a `bytea` of 4-byte big-endian words compared word by word for the
 * deeper, non-wildcard words of the query. A message stored again under its
 * id takes a new sequence number, so it sorts as stored again, as in SQLite.
 *
 * @module
 */

import type { EmitterMessageQuery, EmitterStore, EmitterStoredMessage } from "../emitter/store.ts";
import { boundedLimit, isWildcard } from "../emitter/_store_query.ts";
import { decodeWords, encodeWords, messageValues } from "../emitter/_rows.ts";
import type { PostgresConnection } from "./_connection.ts";
import { fromText, toText } from "./_text.ts";

/** How many query shapes keep their SQL text; past it the oldest is dropped. */
const SHAPE_CACHE_SIZE = 64;

/**
 * The SQL of one query shape: which of the query's words are compared (the
 * first two by column, the deeper ones inside the `ssid` bytes), wildcards
 * left out. The driver prepares each text once per connection.
 */
function querySql(s: string, ssid: readonly number[]): { sql: string; compared: number[] } {
  const where: string[] = [];
  const compared: number[] = [];
  let n = 0;
  if (ssid.length > 0) where.push(`contract = $${++n}`);
  if (ssid.length > 1 && !isWildcard(ssid[1])) where.push(`word1 = $${++n}`);
  for (let i = 2; i < ssid.length; i++) {
    if (isWildcard(ssid[i])) continue;
    where.push(`substring(ssid FROM ${i * 4 + 1} FOR 4) = $${++n}`);
    compared.push(i);
  }
  where.push(`depth >= $${++n}`, `time >= $${++n}`, `time <= $${++n}`, `expires_at > $${++n}`);
  const sql = `SELECT id, ssid, channel, payload, time, expires_at FROM ${s}emitter_messages
    WHERE ${where.join(" AND ")} ORDER BY time DESC, seq DESC LIMIT $${++n}`;
  return { sql, compared };
}

/**
 * Builds the Emitter part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function postgresEmitter(db: PostgresConnection): EmitterStore {
  const s = db.s;
  const upsert = `INSERT INTO ${s}emitter_messages AS m
       (id, contract, word1, depth, ssid, channel, payload, time, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET seq = DEFAULT, contract = excluded.contract,
       word1 = excluded.word1, depth = excluded.depth, ssid = excluded.ssid,
       channel = excluded.channel, payload = excluded.payload, time = excluded.time,
       expires_at = excluded.expires_at`;
  const usage = `SELECT count(*) AS messages,
       coalesce(sum(octet_length(id) + octet_length(payload)), 0) AS bytes
     FROM ${s}emitter_messages WHERE contract = $1 AND expires_at > $2`;
  const prune = `DELETE FROM ${s}emitter_messages WHERE seq IN
     (SELECT seq FROM ${s}emitter_messages WHERE expires_at <= $1 LIMIT $2)`;
  const ban = `INSERT INTO ${s}emitter_key_bans (key_hash, banned_at) VALUES ($1, $2)
     ON CONFLICT (key_hash) DO NOTHING`;
  const unban = `DELETE FROM ${s}emitter_key_bans WHERE key_hash = $1`;
  const listBans = `SELECT key_hash FROM ${s}emitter_key_bans`;
  const shapes = new Map<string, { sql: string; compared: number[] }>();

  const query = async (query: EmitterMessageQuery): Promise<EmitterStoredMessage[]> => {
    const limit = boundedLimit(query);
    if (limit === 0) return [];
    const { ssid } = query;
    const shape = ssid.map((word, i) => (i > 0 && isWildcard(word) ? "*" : "w")).join("");
    let entry = shapes.get(shape);
    if (entry === undefined) {
      shapes.set(shape, entry = querySql(s, ssid));
      if (shapes.size > SHAPE_CACHE_SIZE) shapes.delete(shapes.keys().next().value!);
    }
    const parameters: (number | Uint8Array)[] = [];
    if (ssid.length > 0) parameters.push(ssid[0] >>> 0);
    if (ssid.length > 1 && !isWildcard(ssid[1])) parameters.push(ssid[1] >>> 0);
    for (const i of entry.compared) parameters.push(encodeWords([ssid[i]]));
    parameters.push(ssid.length, query.from, query.until, query.now, limit);
    const rows = await db.query(entry.sql, parameters);
    return rows.reverse().map((row) => ({
      id: new Uint8Array(row.id as Uint8Array),
      ssid: decodeWords(row.ssid as Uint8Array),
      channel: fromText(row.channel as string),
      payload: new Uint8Array(row.payload as Uint8Array),
      time: Number(row.time),
      expiresAt: Number(row.expires_at),
    }));
  };

  return {
    storeEmitterMessage: async (message) =>
      void await db.query(upsert, messageValues(message, toText(message.channel))),
    queryEmitterMessages: query,
    emitterContractUsage: async (contract, now) => {
      const [row] = await db.query(usage, [contract >>> 0, now]);
      return { messages: Number(row.messages), bytes: Number(row.bytes) };
    },
    setEmitterKeyBan: async (keyHash, banned, now) =>
      void await (banned
        ? db.query(ban, [toText(keyHash), now])
        : db.query(unban, [toText(keyHash)])),
    listEmitterKeyBans: async () =>
      (await db.query(listBans)).map((row) => fromText(row.key_hash as string)),
    pruneEmitter: async (now, limit) => (await db.query(prune, [now, limit])).count,
  };
}
