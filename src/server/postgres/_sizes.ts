/**
 * The `storeSizes()` of {@linkcode PostgresStore}: the bytes of the store's
 * tables (with their indexes and TOAST) from PostgreSQL's catalog, and row
 * counts of the tables a bound keeps small: partial uploads and key bans by
 * `COUNT(*)`, idempotency keys from the total the counts table keeps.
 * Tables that grow with traffic are never counted. PostgreSQL keeps no cheap
 * figure of free space, so `freeBytes` is left out.
 *
 * @module
 */

import type { StoreSizes } from "../common/store.ts";
import type { PostgresConnection } from "./_connection.ts";

/**
 * Builds `storeSizes()`.
 *
 * @param db The connection.
 * @param schema The schema's name.
 * @returns The method.
 */
export function postgresSizes(
  db: PostgresConnection,
  schema: string,
): { storeSizes(): Promise<StoreSizes> } {
  const s = db.s;
  const sizes = `SELECT
     (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')) AS bytes,
     (SELECT count(*) FROM ${s}honch_partials) AS honch_partials,
     (SELECT n FROM ${s}idempotency_counts WHERE scope = '') AS idempotency_keys,
     (SELECT count(*) FROM ${s}emitter_key_bans) AS emitter_key_bans`;
  return {
    storeSizes: async () => {
      const [row] = await db.query(sizes, [schema]);
      return {
        bytes: Number(row.bytes),
        rows: {
          honch_partials: Number(row.honch_partials),
          idempotency_keys: Number(row.idempotency_keys),
          emitter_key_bans: Number(row.emitter_key_bans),
        },
      };
    },
  };
}
