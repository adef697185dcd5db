/**
 * The shared part of {@linkcode SqliteStore}: the `meta` and
 * `used_challenges` tables, and the `idempotency_claims` table of
 * `_idempotency.ts`.
 *
 * @module
 */

import type { SharedStore } from "../common/store.ts";
import type { SqliteConnection } from "./_connection.ts";
import { sqliteIdempotency } from "./_idempotency.ts";

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
`;

/**
 * Creates the shared tables when missing and builds the shared part.
 *
 * @param db The open database.
 * @returns The part; `close()` closes the database.
 */
export function sqliteShared(db: SqliteConnection): SharedStore {
  db.schema(SCHEMA);
  const get = db.prepare("SELECT value FROM meta WHERE key = ?");
  const set = db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const insert = db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)");
  const markUsed = db.prepare(
    "INSERT OR IGNORE INTO used_challenges (id, expires_at) VALUES (?, ?)",
  );
  const prune = db.prepare(
    `DELETE FROM used_challenges WHERE rowid IN
       (SELECT rowid FROM used_challenges WHERE expires_at < ? LIMIT ?)`,
  );
  return {
    ...sqliteIdempotency(db),
    getMeta: (key) => db.read(() => (get.get(key) as { value: string } | undefined)?.value),
    setMeta: (key, value) => db.run(() => void set.run(key, value)),
    ensureMeta: (key, value) =>
      db.run(() => {
        insert.run(key, value);
        return (get.get(key) as { value: string }).value;
      }),
    markChallengeUsed: (id, expiresAt) => db.run(() => markUsed.run(id, expiresAt).changes === 1),
    pruneChallenges: (now, limit) => db.run(() => Number(prune.run(now, limit).changes)),
    close: () => db.close(),
  };
}
