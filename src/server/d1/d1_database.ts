/**
 * The part of Cloudflare's D1 binding that {@linkcode D1Store} uses, typed
 * structurally here so the package depends on no Cloudflare types: a
 * Worker's `env.DB`, or Miniflare's `getD1Database()`, fits it as it is.
 *
 * @module
 */

/** A value D1 binds to a `?`: text, a number, `NULL`, or bytes (a BLOB). */
export type D1Value = string | number | null | ArrayBuffer | ArrayBufferView;

/**
 * What D1 answers for one statement: its rows (for a query) and what it
 * changed.
 *
 * @example Read a statement's outcome
 * ```ts
 * import type { D1Result } from "@edgewire/sdk/server/d1";
 *
 * const result: D1Result = { results: [], meta: { changes: 1 } };
 * console.log(result.meta.changes); // 1
 * ```
 */
export interface D1Result {
  /** The rows, as column-name records; BLOB columns come back as arrays of byte values. */
  results?: Record<string, unknown>[];
  /** What the statement did. */
  meta: {
    /** How many rows an `INSERT`, `UPDATE` or `DELETE` changed. */
    changes?: number;
    /** The database's size in bytes after the statement. */
    size_after?: number;
  };
}

/**
 * A statement prepared on a {@linkcode D1Database}, before or after its
 * values are bound.
 *
 * @example Bind and read one row
 * ```ts
 * import type { D1Database } from "@edgewire/sdk/server/d1";
 *
 * async function meta(db: D1Database, key: string): Promise<unknown> {
 *   return await db.prepare("SELECT value FROM meta WHERE key = ?").bind(key).first();
 * }
 * console.log(typeof meta); // "function"
 * ```
 */
export interface D1PreparedStatement {
  /**
   * Binds the values of the statement's `?` parameters, in order.
   *
   * @param values The values.
   * @returns The bound statement.
   */
  bind(...values: D1Value[]): D1PreparedStatement;
  /**
   * Runs the statement and returns its first row.
   *
   * @returns The row, or `null` when there is none.
   */
  first(): Promise<Record<string, unknown> | null>;
  /**
   * Runs the statement and returns every row.
   *
   * @returns The rows and what the statement changed.
   */
  all(): Promise<D1Result>;
  /**
   * Runs the statement for what it changes.
   *
   * @returns What the statement changed.
   */
  run(): Promise<D1Result>;
}

/**
 * The D1 binding a Worker gets in its `env`, as far as {@linkcode D1Store}
 * uses it. `batch()` runs its statements as one transaction: all of them
 * apply, or, when one fails, none.
 *
 * @example Type a Worker's environment
 * ```ts
 * import type { D1Database } from "@edgewire/sdk/server/d1";
 *
 * interface Env {
 *   DB: D1Database;
 * }
 * const handler = { fetch: (_request: Request, env: Env) => new Response(typeof env.DB) };
 * console.log(typeof handler.fetch); // "function"
 * ```
 */
export interface D1Database {
  /**
   * Prepares one SQL statement.
   *
   * @param query The statement, with `?` for each value.
   * @returns The statement, to bind and run.
   */
  prepare(query: string): D1PreparedStatement;
  /**
   * Runs statements in order as one transaction.
   *
   * @param statements The bound statements.
   * @returns One result per statement, in order.
   */
  batch(statements: D1PreparedStatement[]): Promise<D1Result[]>;
}
