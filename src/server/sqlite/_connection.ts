/**
 * One `node:sqlite` database shared by the per-service parts of
 * {@linkcode SqliteStore}: opening (WAL for a file), schemas, prepared
 * statements, transactions, and the closed check every call goes through.
 *
 * @module
 */

import { closeSync, openSync } from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";

/**
 * Creates a missing database file readable by its owner only (0600), before
 * SQLite opens it: it holds the challenge secret. SQLite gives the `-wal` and
 * `-shm` files it creates beside it the same mode. An existing file keeps
 * the mode its operator gave it; on Windows the mode is ignored.
 */
function createPrivately(path: string): void {
  if (path === ":memory:" || path.startsWith("file:")) return;
  try {
    // "wx" fails when the file exists, so an existing file is never touched.
    closeSync(openSync(path, "wx", 0o600));
  } catch {
    // It exists, or cannot be created: SQLite then opens it or reports why it cannot.
  }
}

/** An open database; the parts prepare their statements on it. */
export class SqliteConnection {
  readonly #db: DatabaseSync;
  #closed = false;

  /**
   * Opens or creates a database.
   *
   * @param path A file path, or `":memory:"`.
   * @throws {Error} When SQLite cannot open the file.
   */
  constructor(path: string) {
    createPrivately(path);
    this.#db = new DatabaseSync(path);
    try {
      // Several server processes may share one file: wait for locks rather than fail.
      this.#db.exec("PRAGMA busy_timeout = 5000");
      if (path !== ":memory:") {
        this.#db.exec("PRAGMA journal_mode = WAL");
        this.#db.exec("PRAGMA synchronous = NORMAL");
      }
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /**
   * Creates tables and indexes when missing.
   *
   * @param schema `CREATE … IF NOT EXISTS` statements.
   */
  schema(schema: string): void {
    this.#db.exec(schema);
  }

  /**
   * Prepares one statement.
   *
   * @param sql The statement.
   * @returns The prepared statement, reused for every call.
   */
  prepare(sql: string): StatementSync {
    return this.#db.prepare(sql);
  }

  /**
   * Runs `body` in one `BEGIN IMMEDIATE` transaction, rolled back when it throws.
   *
   * @param body The statements to run.
   * @returns What `body` returned.
   */
  transaction<T>(body: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * Runs a store operation: `node:sqlite` is synchronous, and this keeps the
   * store's async contract, errors included.
   *
   * @param body The operation.
   * @returns Its result as a promise, rejected once the store is closed.
   */
  run<T>(body: () => T): Promise<T> {
    try {
      if (this.#closed) throw new Error("Cannot use SqliteStore as it is closed: open a new one");
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Closes the database. Calling it again does nothing.
   *
   * @returns Once closed.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    try {
      this.#db.close();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
