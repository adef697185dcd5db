/**
 * One `node:sqlite` database shared by the per-service parts of
 * {@linkcode SqliteStore}: opening (WAL for a file), schemas, prepared
 * statements, group commit, and the closed check every call goes through.
 *
 * Group commit: a write runs at once, inside a transaction that stays open
 * until the I/O already waiting has been handled (or {@linkcode MAX_BATCH} writes),
 * each in its own savepoint (or none, for a write of one statement) so one
 * failing write undoes only itself. Its promise settles after the `COMMIT`,
 * so an answer never leaves before what it acknowledges is in the WAL, and a
 * `kill -9` loses no acknowledged write. One commit then writes each changed
 * page once for the whole batch rather than once per request, which is where
 * the time went. A part may also keep counters in memory for the batch and
 * write them once per key just before its `COMMIT` (see {@linkcode BatchState}).
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

/** The open transaction: its number, its writes so far, and the promise its commit settles. */
interface Batch {
  id: number;
  size: number;
  /** The data version read in this batch, which no other connection can change while it is open. */
  dataVersion?: number;
  done: Promise<void>;
  settle(error?: unknown): void;
}

/**
 * What a part keeps in memory for the open batch: `flush` writes it inside
 * the transaction just before its `COMMIT` (or before a read that needs
 * it); `discard` forgets it when the batch rolls back.
 */
export interface BatchState {
  /** Writes what is pending; runs inside the open transaction. */
  flush(): void;
  /** Forgets what is pending and anything learned in the batch that rolled back. */
  discard(): void;
}

/** An open database; the parts prepare their statements on it. */
export class SqliteConnection {
  readonly #db: DatabaseSync;
  readonly #savepoint: StatementSync;
  readonly #release: StatementSync;
  readonly #undo: StatementSync;
  readonly #dataVersion: StatementSync;
  readonly #states: BatchState[] = [];
  #closed = false;
  #batches = 0;
  /** The data version read in this turn of the event loop, if any. */
  #turnVersion: number | undefined;
  /** The open transaction, whose writes wait for its commit; `undefined` when none is open. */
  #batch: Batch | undefined;

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
      this.#dataVersion = this.#db.prepare("PRAGMA data_version");
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
   * Registers what a part keeps in memory for a batch: flushed before each
   * commit, discarded when a batch rolls back.
   *
   * @param state The part's flush and discard.
   */
  batchState(state: BatchState): void {
    this.#states.push(state);
  }

  /**
   * The number of the open batch, `0` when none is open: a fact read in
   * batch `n` is durable once batch `n` is no longer open (a batch that
   * rolls back has every part discard what it learned in it).
   */
  get openBatch(): number {
    return this.#batch?.id ?? 0;
  }

  /**
   * A number that changes when another connection (another process on the
   * same file) commits; this connection's own commits leave it as it is.
   * Read once per batch, after it takes the write lock (while it holds it,
   * no one else commits), and otherwise at most once per turn of the event loop.
   *
   * @returns SQLite's `PRAGMA data_version`; `NaN` once closed, unlike any version.
   */
  dataVersion(): number {
    if (this.#closed) return NaN;
    const batch = this.#batch;
    if (batch !== undefined && batch.dataVersion !== undefined) return batch.dataVersion;
    // In a batch, read afresh: a version read earlier in the turn, before the write lock was
    // taken, may miss a commit made just before it.
    let version = batch === undefined ? this.#turnVersion : undefined;
    if (version === undefined) {
      version = Number(Object.values(this.#dataVersion.get()!)[0]);
      // Read once per turn of the event loop, not per request (a statement each): a commit by
      // another process is then seen from the next turn, as if this turn's reads came first.
      if (this.#turnVersion === undefined) afterIo(() => this.#turnVersion = undefined);
      this.#turnVersion = version;
    }
    if (batch !== undefined) batch.dataVersion = version;
    return version;
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
   * Runs `body` in its own savepoint, undone whole when it throws: for a
   * write that {@linkcode run} runs without one (`atomic` false) and that
   * sometimes changes more than one row.
   *
   * @param body The statements to run.
   * @returns What `body` returned.
   */
  atomic<T>(body: () => T): T {
    this.#savepoint.run();
    let value: T;
    try {
      value = body();
    } catch (error) {
      this.#undo.run();
      this.#release.run();
      throw error;
    }
    this.#release.run();
    return value;
  }

  /**
   * Runs a write now, in the open batch's transaction (opened when none is),
   * atomically: it is undone whole when it throws.
   *
   * @param body The statements to run.
   * @param atomic `false` when `body` makes at most one change that can fail (one statement,
   *   then only in-memory work), which SQLite already undoes whole: no savepoint then.
   * @returns What `body` returned, once the batch is committed.
   */
  run<T>(body: () => T, atomic = true): Promise<T> {
    return this.#write(body, atomic, true);
  }

  /**
   * Runs a write like {@linkcode run}, but settles at once rather than after
   * the commit: for a claim that only guards the writes its caller makes
   * next, which then join the same batch, so a request commits once. A
   * crash before the commit loses the claim with the writes it guarded.
   *
   * @param body The statements to run.
   * @param atomic As for {@linkcode run}.
   * @param durable Whether a value `body` returned must wait for the commit after all (such as
   *   an answer read from the batch's own rows).
   * @returns What `body` returned, before the batch is committed unless `durable` says so.
   */
  runAhead<T>(body: () => T, atomic = true, durable?: (value: T) => boolean): Promise<T> {
    return this.#write(body, atomic, durable ?? false);
  }

  #write<T>(
    body: () => T,
    atomic: boolean,
    afterCommit: boolean | ((value: T) => boolean),
  ): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    let value: T;
    try {
      if (this.#batch === undefined) this.#begin();
      value = atomic ? this.atomic(body) : body();
    } catch (error) {
      return Promise.reject(error);
    }
    const wait = typeof afterCommit === "function" ? afterCommit(value) : afterCommit;
    return wait ? this.#afterCommit(value) : Promise.resolve(value);
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
   * Answers a value a part remembers: at once when it was learned outside
   * the open batch (it is committed), after the commit when learned in it.
   *
   * @param value The value.
   * @param batch The {@linkcode openBatch} it was learned in.
   * @returns The value, once durable.
   */
  remembered<T>(value: T, batch: number): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    return batch !== 0 && batch === this.#batch?.id
      ? this.#afterCommit(value)
      : Promise.resolve(value);
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
    let settle!: (error?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (error) => error === undefined ? resolve() : reject(error);
    });
    // Each write's own promise carries a failure to its caller; this one must not go unhandled.
    done.catch(() => {});
    this.#batch = { id: ++this.#batches, size: 0, done, settle };
    // Once the I/O already waiting has been handled: the requests that arrived together join
    // this commit (about ten under load), and no timer adds its millisecond to every answer.
    afterIo(() => this.#commit());
  }

  #afterCommit<T>(value: T): Promise<T> {
    const batch = this.#batch!;
    const promise = batch.done.then(() => value);
    if (++batch.size >= MAX_BATCH) this.#commit();
    return promise;
  }

  #commit(): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    let failure: unknown;
    try {
      for (const state of this.#states) state.flush();
      this.#batch = undefined;
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#batch = undefined;
      failure = error;
      try {
        this.#db.exec("ROLLBACK");
      } catch {
        // SQLite already rolled back (a full disk, an I/O error): nothing is left open.
      }
      for (const state of this.#states) state.discard();
    }
    batch.settle(failure);
  }
}

function closedError(): Error {
  return new Error("Cannot use SqliteStore as it is closed: open a new one");
}
