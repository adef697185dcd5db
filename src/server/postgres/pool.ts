/**
 * What {@linkcode PostgresStore} needs of a pool made with the `postgres`
 * package (porsager/postgres v3), to take one the caller already has: the
 * three methods it calls. A pool from `postgres(url)` has them.
 *
 * @module
 */

/** A statement's rows, and `count`: how many it returned or changed. */
export type PostgresRows = Record<string, unknown>[] & { readonly count: number };

/**
 * A connection running statements: the pool itself, or one of its transactions.
 *
 * @example Run a statement on a pool
 * ```ts
 * import postgres from "postgres";
 * import type { PostgresQueryable } from "@edgewire/sdk/server/postgres";
 *
 * const sql: PostgresQueryable = postgres("postgres://edgewire@127.0.0.1/edgewire");
 * const pending = sql.unsafe("SELECT 1 AS one", [], { prepare: true });
 * console.log(typeof pending.then); // "function"
 * ```
 */
export interface PostgresQueryable {
  /**
   * Runs a statement given as text, with `$1`-style parameters.
   *
   * @param query The statement.
   * @param parameters Its parameters.
   * @param options `prepare`: prepare the statement once per connection.
   * @returns Its rows.
   * @throws {Error} When the statement fails (rejected, not thrown).
   */
  unsafe(
    query: string,
    parameters?: never[],
    options?: { prepare?: boolean },
  ): PromiseLike<unknown>;
}

/**
 * A pool of the `postgres` package, as {@linkcode PostgresStoreOptions.sql}
 * takes it.
 *
 * @example Pass a pool of your own
 * ```ts
 * import postgres from "postgres";
 * import { type PostgresPool, PostgresStore } from "@edgewire/sdk/server/postgres";
 *
 * const sql: PostgresPool = postgres("postgres://edgewire@127.0.0.1/edgewire");
 * const store = await PostgresStore.open({ sql });
 * await store.close(); // the pool stays open
 * await sql.end();
 * ```
 */
export interface PostgresPool extends PostgresQueryable {
  /**
   * Runs `body` in a transaction: `BEGIN` then `options`, `COMMIT` after it, `ROLLBACK` when it throws.
   *
   * @param options What follows `BEGIN`, or `""`.
   * @param body The statements, given the transaction.
   * @returns What `body` returned.
   * @throws {Error} Whatever `body` or the database failed with, after the rollback (rejected).
   */
  begin<T>(options: string, body: (tx: PostgresQueryable) => Promise<T>): Promise<unknown>;
  /**
   * Ends the pool once its running statements finish.
   *
   * @param options `timeout`: seconds to wait before closing connections anyway.
   * @returns Once ended.
   * @throws {Error} Never.
   */
  end(options?: { timeout?: number }): Promise<void>;
}
