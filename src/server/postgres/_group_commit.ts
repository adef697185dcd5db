/**
 * Group commit for {@linkcode PostgresStore}'s recording writes: the writes
 * that arrive while one transaction commits go together in the next, so a
 * burst of requests takes one transaction and one WAL flush rather than one
 * each, and the counter rows they all update are locked once. One write
 * alone commits at once; under load each commit carries what arrived during
 * the one before it. A group's `BEGIN`, writes and `COMMIT` are sent without
 * waiting for each answer, in one round trip.
 *
 * A write that PostgreSQL refused fails its whole group, which then runs
 * again one write at a time, so only the write at fault fails. A group
 * whose connection broke fails every write in it: whether its commit landed
 * is not known, and running its writes again could count them twice.
 *
 * @module
 */

import type { PostgresPool, PostgresReserved } from "./pool.ts";
import type { Query, Rows } from "./_connection.ts";

/** The most writes one transaction carries; the rest wait for the next. */
export const MAX_GROUP = 256;

/** A write waiting for its group's commit. */
interface Pending {
  readonly text: string;
  readonly params: readonly unknown[];
  readonly resolve: (rows: Rows) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Whether `error` is PostgreSQL refusing a statement or a commit (it has a
 * SQLSTATE): the transaction is then known to be rolled back, so each of its
 * writes may run again.
 */
function refusedByServer(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
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
   */
  constructor(sql: PostgresPool, alone: Query, closed: () => Error | undefined) {
    this.#sql = sql;
    this.#alone = alone;
    this.#closed = closed;
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
    let connection: PostgresReserved;
    try {
      connection = await this.#sql.reserve();
    } catch (error) {
      for (const write of group) write.reject(error);
      return;
    }
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      // BEGIN, the writes and COMMIT sent at once, without waiting for each answer: the driver
      // pipelines them in order, so a group costs one round trip.
      outcomes = await Promise.allSettled([
        connection.unsafe("BEGIN"),
        ...group.map((write) =>
          connection.unsafe(write.text, write.params as never[], { prepare: true })
        ),
        connection.unsafe("COMMIT"),
      ]);
    } finally {
      connection.release();
    }
    const [begin, commit] = [outcomes[0], outcomes[outcomes.length - 1]];
    const writes = outcomes.slice(1, -1);
    if (begin.status === "rejected") {
      // No transaction was opened: each write ran, or failed, on its own.
      writes.forEach((outcome, i) => settle(group[i], outcome));
      return;
    }
    const failure = [...writes, commit].find((outcome) => outcome.status === "rejected");
    // A COMMIT after a failed write ends the transaction as a ROLLBACK, not an error.
    if (
      failure === undefined &&
      (commit as { value: { command?: string } }).value.command === "COMMIT"
    ) {
      this.groups++;
      writes.forEach((outcome, i) => settle(group[i], outcome));
      return;
    }
    const reason = failure?.status === "rejected" ? failure.reason : undefined;
    if (failure !== undefined && !refusedByServer(reason)) {
      for (const write of group) write.reject(reason);
      return;
    }
    await Promise.all(
      group.map((write) => this.#alone(write.text, write.params).then(write.resolve, write.reject)),
    );
  }
}

/** Answers a write with its statement's outcome. */
function settle(write: Pending, outcome: PromiseSettledResult<unknown>): void {
  if (outcome.status === "fulfilled") write.resolve(outcome.value as Rows);
  else write.reject(outcome.reason);
}
