/**
 * One `node:sqlite` database shared by the per-service parts of
 * {@linkcode SqliteStore}: opening (WAL for a file), schemas, prepared
 * statements, group commit, and the closed check every call goes through.
 *
 * Group commit: a write runs at once, inside a transaction that stays open
 * until the I/O already waiting has been handled (or {@linkcode MAX_BATCH} writes),
 * each in its own savepoint so one failing write undoes only itself. Its
 * promise settles after the `COMMIT`, so an answer never leaves before what
 * it acknowledges is in the WAL, and a `kill -9` loses no acknowledged
 * write. One commit then writes each changed page once for the whole
 * batch rather than once per request, which is where the time went.
 *
 * @module
 */

import { closeSync, openSync } from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { afterIo } from "../../core/runtime/timers.ts";

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

/** The most writes one transaction holds before it commits without waiting for the turn's end. */
const MAX_BATCH = 512;

interface Waiter {
  settle(error?: unknown): void;
}

/** An open database; the parts prepare their statements on it. */
export class SqliteConnection {
  readonly #db: DatabaseSync;
  readonly #savepoint: StatementSync;
  readonly #release: StatementSync;
  readonly #undo: StatementSync;
  #closed = false;
  /** The writes of the open transaction, waiting for its commit; `undefined` when none is open. */
  #batch: Waiter[] | undefined;

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
        // In WAL mode a commit survives the process being killed; only a power loss
        // can take the last commits back, which FULL would also cover at an fsync each.
        this.#db.exec("PRAGMA synchronous = NORMAL");
      }
      this.#savepoint = this.#db.prepare("SAVEPOINT edgewire_write");
      this.#release = this.#db.prepare("RELEASE edgewire_write");
      this.#undo = this.#db.prepare("ROLLBACK TO edgewire_write");
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
   * Runs `body` atomically. Inside {@linkcode run} it already is (its
   * savepoint); at set-up, outside any write, it gets its own transaction.
   *
   * @param body The statements to run.
   * @returns What `body` returned.
   */
  transaction<T>(body: () => T): T {
    if (this.#batch !== undefined) return body();
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
   * Runs a write now, in the open batch's transaction (opened when none is),
   * atomically: it is undone whole when it throws.
   *
   * @param body The statements to run.
   * @returns What `body` returned, once the batch is committed.
   */
  run<T>(body: () => T): Promise<T> {
    return this.#write(body, true);
  }

  /**
   * Runs a write like {@linkcode run}, but settles at once rather than after
   * the commit: for a claim that only guards the writes its caller makes
   * next, which then join the same batch, so a request commits once. A
   * crash before the commit loses the claim with the writes it guarded.
   *
   * @param body The statements to run.
   * @returns What `body` returned, before the batch is committed.
   */
  runAhead<T>(body: () => T): Promise<T> {
    return this.#write(body, false);
  }

  #write<T>(body: () => T, afterCommit: boolean): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    let value: T;
    try {
      if (this.#batch === undefined) this.#begin();
      this.#savepoint.run();
      try {
        value = body();
      } catch (error) {
        this.#undo.run();
        this.#release.run();
        return Promise.reject(error);
      }
      this.#release.run();
    } catch (error) {
      return Promise.reject(error);
    }
    return afterCommit ? this.#afterCommit(value) : Promise.resolve(value);
  }

  /**
   * Runs a read now. Inside an open batch it sees that batch's writes, so it
   * settles only after their commit: nothing read is answered before it is durable.
   *
   * @param body The statements to run.
   * @returns What `body` returned.
   */
  read<T>(body: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    let value: T;
    try {
      value = body();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#batch === undefined ? Promise.resolve(value) : this.#afterCommit(value);
  }

  /**
   * Closes the database after committing the open batch. Calling it again does nothing.
   *
   * @returns Once closed.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#commit();
    this.#closed = true;
    try {
      this.#db.close();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #begin(): void {
    this.#db.exec("BEGIN IMMEDIATE");
    this.#batch = [];
    // Once the I/O already waiting has been handled: the requests that arrived together join
    // this commit (about ten under load), and no timer adds its millisecond to every answer.
    afterIo(() => this.#commit());
  }

  #afterCommit<T>(value: T): Promise<T> {
    const batch = this.#batch!;
    const promise = new Promise<T>((resolve, reject) => {
      batch.push({ settle: (error) => error === undefined ? resolve(value) : reject(error) });
    });
    if (batch.length >= MAX_BATCH) this.#commit();
    return promise;
  }

  #commit(): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    this.#batch = undefined;
    let failure: unknown;
    try {
      this.#db.exec("COMMIT");
    } catch (error) {
      failure = error;
      try {
        this.#db.exec("ROLLBACK");
      } catch {
        // SQLite already rolled back (a full disk, an I/O error): nothing is left open.
      }
    }
    for (const waiter of batch) waiter.settle(failure);
  }
}

function closedError(): Error {
  return new Error("Cannot use SqliteStore as it is closed: open a new one");
}
