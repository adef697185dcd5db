/**
 * Group commit for {@linkcode PostgresStore}'s recording writes: the writes
 * that arrive while one transaction commits go together in the next, so a
 * burst of requests takes one transaction and one WAL flush rather than one
 * each, and the counter rows they all update are locked once. One write
 * alone commits at once; under load each commit carries what arrived during
 * the one before it. A group's writes are sent without waiting for each
 * answer, in one round trip between its `BEGIN` and its `COMMIT`.
 *
 * A write that PostgreSQL refused fails its whole group, which then runs
 * again one write at a time, so only the write at fault fails. A group
 * whose connection broke fails every write in it: whether its commit landed
 * is not known, and running its writes again could count them twice.
 *
 * @module
 */

import type { PostgresPool } from "./pool.ts";
import { begin, serverSeverity } from "./_begin.ts";
import type { Query, Row, Rows } from "./_connection.ts";

/** The most writes one transaction carries; the rest wait for the next. */
export const MAX_GROUP = 256;

/**
 * Makes one statement of a group of writes of one statement's text: given
 * each write's parameters, the merged statement and its parameters. The
 * statement answers one row, whose column `rows` is a JSON array of the
 * writes' rows in order, one each: a statement that failed after sending
 * some of its rows leaves the driver (`postgres` 3.4.9) placing the next
 * statement's rows on that connection after as many empty slots.
 */
export type Merge = (writes: readonly (readonly unknown[])[]) => {
  text: string;
  params: readonly unknown[];
};

/** A write waiting for its group's commit. */
interface Pending {
  readonly text: string;
  readonly params: readonly unknown[];
  readonly resolve: (rows: Rows) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Whether `error` is PostgreSQL refusing a statement or a commit: the
 * transaction is then known to be rolled back, so each of its writes may
 * run again. A socket's error leaves that unknown.
 *
 * @param error What the group's transaction rejected with.
 * @returns Whether PostgreSQL refused it.
 */
export function refusedByServer(error: unknown): boolean {
  return serverSeverity(error) !== undefined;
}

/**
 * Queues writes and commits them in groups, one group in flight at a time.
 *
 * @example Two writes made in one turn share a transaction
 * ```ts ignore
 * const group = new GroupCommit(pool, alone, () => undefined);
 * await Promise.all([
 *   group.write("INSERT INTO t (v) VALUES ($1)", [1]),
 *   group.write("INSERT INTO t (v) VALUES ($1)", [2]),
 * ]);
 * console.log(group.groups); // 1
 * ```
 */
export class GroupCommit {
  readonly #sql: PostgresPool;
  readonly #alone: Query;
  readonly #closed: () => Error | undefined;
  readonly #merge: Merge | undefined;
  #queue: Pending[] = [];
  #running = false;
  /** How many transactions committed a group of two or more writes, for the tests. */
  groups = 0;

  /**
   * Makes an empty queue.
   *
   * @param sql The pool each group's transaction runs on.
   * @param alone Runs one write in its own transaction, retried as a query is: for the
   *   writes of a group PostgreSQL refused.
   * @param closed The error to fail waiting writes with once the store is closed, or
   *   `undefined` while it is open.
   * @param merge For writes that all run one statement, each answered by one row: makes a
   *   group one statement, its own transaction, rather than a transaction of statements.
   */
  constructor(
    sql: PostgresPool,
    alone: Query,
    closed: () => Error | undefined,
    merge?: Merge,
  ) {
    this.#sql = sql;
    this.#alone = alone;
    this.#closed = closed;
    this.#merge = merge;
  }

  /**
   * Adds a write to the next group.
   *
   * @param text The statement, one write (it may hold several as `WITH` parts).
   * @param params Its parameters.
   * @returns Its rows, once its group committed.
   * @throws {Error} Whatever PostgreSQL or the connection failed the write with, or the
   *   closed store's error (rejected, not thrown).
   */
  write(text: string, params: readonly unknown[]): Promise<Rows> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ text, params, resolve, reject });
      if (this.#running) return;
      this.#running = true;
      // The writes made in the same turn as this one join its group.
      queueMicrotask(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.length <= MAX_GROUP
          ? this.#queue
          : this.#queue.slice(0, MAX_GROUP);
        this.#queue = group === this.#queue ? [] : this.#queue.slice(MAX_GROUP);
        const closed = this.#closed();
        if (closed !== undefined) {
          for (const write of group) write.reject(closed);
          continue;
        }
        await this.#commit(group);
      }
    } finally {
      this.#running = false;
    }
  }

  async #commit(group: Pending[]): Promise<void> {
    if (group.length === 1) {
      const [write] = group;
      await this.#alone(write.text, write.params).then(write.resolve, write.reject);
      return;
    }
    if (this.#merge !== undefined) return await this.#commitMerged(group, this.#merge);
    let rows: Rows[];
    try {
      // The driver's transaction, not BEGIN and COMMIT sent by hand on a reserved connection:
      // pipelined prepared statements left on a connection that closes never settle, and only
      // its transaction fails them then.
      rows = await begin(this.#sql, "", (tx) =>
        // Sent without waiting for each answer: the driver pipelines them in order.
        Promise.all(group.map((write) =>
          tx.unsafe(write.text, write.params as never[], { prepare: true }) as Promise<Rows>
        )));
    } catch (error) {
      await this.#failed(group, error);
      return;
    }
    this.groups++;
    group.forEach((write, i) => write.resolve(rows[i]));
  }

  /** Runs a group as one merged statement: one round trip, no `BEGIN` or `COMMIT`. */
  async #commitMerged(group: Pending[], merge: Merge): Promise<void> {
    const { text, params } = merge(group.map((write) => write.params));
    let rows: Row[];
    try {
      rows = (await this.#alone(text, params))[0].rows as Row[];
    } catch (error) {
      await this.#failed(group, error);
      return;
    }
    this.groups++;
    group.forEach((write, i) => write.resolve(Object.assign([rows[i]], { count: 1 })));
  }

  /**
   * Answers a group whose transaction failed: each write runs again alone when PostgreSQL
   * refused it (so it rolled back), and fails with the group when the connection broke.
   */
  async #failed(group: Pending[], error: unknown): Promise<void> {
    if (!refusedByServer(error)) {
      for (const write of group) write.reject(error);
      return;
    }
    await Promise.all(
      group.map((write) => this.#alone(write.text, write.params).then(write.resolve, write.reject)),
    );
  }
}
