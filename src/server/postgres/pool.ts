/**
 * What {@linkcode PostgresStore} needs of a pool made with the `postgres`
 * package (porsager/postgres v3), to take one the caller already has: the
 * four methods it calls. A pool from `postgres(url)` has them.
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
 * One connection taken out of a pool for as long as its holder wants, as
 * `sql.reserve()` of the `postgres` package gives it.
 *
 * @example Hold a connection, then give it back
 * ```ts
 * import postgres from "postgres";
 * import type { PostgresReserved } from "@edgewire/sdk/server/postgres";
 *
 * const sql = postgres("postgres://edgewire@127.0.0.1/edgewire");
 * const reserved: PostgresReserved = await sql.reserve();
 * await reserved.unsafe("SELECT 1 AS one");
 * reserved.release();
 * await sql.end();
 * ```
 */
export interface PostgresReserved extends PostgresQueryable {
  /**
   * Gives the connection back to its pool, still open.
   *
   * @returns Nothing.
   * @throws {Error} Never.
   */
  release(): void;
}

/**
 * A pool of the `postgres` package, as {@linkcode PostgresStoreOptions.sql}
 * takes it. A {@linkcode PostgresStore} reserves one of its connections for
 * its whole life (see `reserve`), so a pool passed in needs at least two.
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
   * Takes one connection out of the pool until it is released: the store
   * holds its claims' owner lock on it (a session-level advisory lock).
   *
   * @returns The reserved connection.
   * @throws {Error} When no connection can be opened (rejected).
   */
  reserve(): Promise<PostgresReserved>;
  /**
   * Ends the pool once its running statements finish.
   *
   * @param options `timeout`: seconds to wait before closing connections anyway.
   * @returns Once ended.
   * @throws {Error} Never.
   */
  end(options?: { timeout?: number }): Promise<void>;
}
