/**
 * The shared part of {@linkcode PostgresStore}: the `meta` and
 * `used_challenges` tables, the idempotency keys of `_idempotency.ts`, and
 * closing the store.
 *
 * @module
 */

import type { SharedStore } from "../common/store.ts";
import type { PostgresConnection } from "./_connection.ts";
import { postgresIdempotency } from "./_idempotency.ts";
import { fromText, toText } from "./_text.ts";

/**
 * Builds the shared part.
 *
 * @param db The connection.
 * @returns The part; `close()` closes the store.
 */
export function postgresShared(db: PostgresConnection): SharedStore {
  const s = db.s;
  const get = `SELECT value FROM ${s}meta WHERE key = $1`;
  const set = `INSERT INTO ${s}meta (key, value) VALUES ($1, $2)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
  const insert = `INSERT INTO ${s}meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`;
  const markUsed = `INSERT INTO ${s}used_challenges (id, expires_at) VALUES ($1, $2)
     ON CONFLICT (id) DO NOTHING`;
  const prune = `DELETE FROM ${s}used_challenges WHERE id IN
     (SELECT id FROM ${s}used_challenges WHERE expires_at < $1 LIMIT $2)`;
  const read = async (key: string): Promise<string | undefined> => {
    const [row] = await db.query(get, [toText(key)]);
    return row === undefined ? undefined : fromText(row.value as string);
  };
  return {
    ...postgresIdempotency(db),
    getMeta: (key) => read(key),
    setMeta: async (key, value) => void await db.query(set, [toText(key), toText(value)]),
    ensureMeta: async (key, value) => {
      // Two statements: the read sees a row another process committed while the insert waited.
      await db.query(insert, [toText(key), toText(value)]);
      return (await read(key))!;
    },
    markChallengeUsed: async (id, expiresAt) =>
      (await db.query(markUsed, [toText(id), expiresAt])).count === 1,
    pruneChallenges: async (now, limit) => (await db.query(prune, [now, limit])).count,
    close: () => db.close(),
  };
}
