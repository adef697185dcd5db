/**
 * The shared part of {@linkcode D1Store}: the `meta` and `used_challenges`
 * tables, the `idempotency_keys` of `_idempotency.ts`, and `storeSizes()`
 * from D1's own report of the database's size and the row counts of the
 * tables a bound keeps small.
 *
 * @module
 */

import type { SharedStore, StoreSizes } from "../common/store.ts";
import { type D1Connection, rowsOf } from "./_connection.ts";
import { d1Idempotency } from "./_idempotency.ts";

/**
 * Builds the shared part.
 *
 * @param db The connection.
 * @returns The part; `close()` closes the connection (the binding stays the Worker's).
 */
export function d1Shared(db: D1Connection): SharedStore {
  return {
    ...d1Idempotency(db),
    getMeta: async (key) => {
      const row = await db.first("SELECT value FROM meta WHERE key = ?", [key]);
      return row === undefined ? undefined : String(row.value);
    },
    setMeta: async (key, value) => {
      await db.run(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
      );
    },
    ensureMeta: async (key, value) => {
      const [, read] = await db.batch([
        db.statement("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", [key, value]),
        db.statement("SELECT value FROM meta WHERE key = ?", [key]),
      ]);
      return String(rowsOf(read)[0].value);
    },
    markChallengeUsed: async (id, expiresAt) =>
      await db.run("INSERT OR IGNORE INTO used_challenges (id, expires_at) VALUES (?, ?)", [
        id,
        expiresAt,
      ]) === 1,
    pruneChallenges: (now, limit) =>
      db.run(
        `DELETE FROM used_challenges WHERE rowid IN
           (SELECT rowid FROM used_challenges WHERE expires_at < ? LIMIT ?)`,
        [now, limit],
      ),
    storeSizes: async (): Promise<StoreSizes> => {
      // The tables a bound keeps small: partial uploads by the Honch quotas, idempotency keys
      // by idempotencyMaxKeys (their count kept by triggers), key bans by hand.
      const results = await db.batch([
        db.statement("SELECT COUNT(*) AS n FROM honch_partials"),
        db.statement(
          "SELECT COALESCE((SELECT n FROM idempotency_counts WHERE scope = ''), 0) AS n",
        ),
        db.statement("SELECT COUNT(*) AS n FROM emitter_key_bans"),
      ]);
      const [partials, keys, bans] = results.map((result) => Number(rowsOf(result)[0].n));
      const sizes: StoreSizes = {
        rows: { honch_partials: partials, idempotency_keys: keys, emitter_key_bans: bans },
      };
      const bytes = results[results.length - 1].meta.size_after;
      if (typeof bytes === "number") sizes.bytes = bytes;
      return sizes;
    },
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}
