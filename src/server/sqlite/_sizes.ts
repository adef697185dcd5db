/**
 * The `storeSizes()` of {@linkcode SqliteStore}: the database's bytes from
 * `PRAGMA page_count`, `page_size` and `freelist_count` (read from the
 * header, whatever the tables hold), and row counts of the tables a bound
 * keeps small. Tables that grow with traffic (events, breadcrumbs, tokens)
 * are never counted: a `COUNT(*)` over them on every scrape would be the
 * scan the server refuses on the request path.
 *
 * @module
 */

import type { StoreSizes } from "../common/store.ts";
import type { SqliteConnection } from "./_connection.ts";

/**
 * The tables counted, each bounded, by the name they are reported under:
 * partial uploads by the Honch quotas, idempotency keys by
 * `idempotencyMaxKeys`, key bans by hand.
 */
const BOUNDED_TABLES = [
  ["honch_partials", "honch_partials"],
  ["idempotency_keys", "idempotency_claims"],
  ["emitter_key_bans", "emitter_key_bans"],
] as const;

/**
 * Builds `storeSizes()` on a database whose tables exist already.
 *
 * @param db The open database, its schema created.
 * @returns The method.
 */
export function sqliteSizes(db: SqliteConnection): { storeSizes(): Promise<StoreSizes> } {
  const pageCount = db.prepare("PRAGMA page_count");
  const pageSize = db.prepare("PRAGMA page_size");
  const freePages = db.prepare("PRAGMA freelist_count");
  const counts = BOUNDED_TABLES.map(([name, table]) =>
    [name, db.prepare(`SELECT COUNT(*) AS n FROM ${table}`)] as const
  );
  const value = (statement: ReturnType<SqliteConnection["prepare"]>): number =>
    Number(Object.values(statement.get() as Record<string, number | bigint>)[0]);
  return {
    storeSizes: () =>
      db.read(() => {
        const size = value(pageSize);
        const rows: Record<string, number> = {};
        for (const [name, statement] of counts) rows[name] = value(statement);
        return { bytes: value(pageCount) * size, freeBytes: value(freePages) * size, rows };
      }),
  };
}
