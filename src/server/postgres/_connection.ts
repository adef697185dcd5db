/**
 * The PostgreSQL connection pool shared by the per-service parts of
 * {@linkcode PostgresStore}: the schema every table name is qualified with,
 * queries and transactions that wait for the store to open and reject once
 * it is closed, the retry of a transaction PostgreSQL aborted for a
 * deadlock or a serialization failure, and the group commit of recording
 * writes (`_group_commit.ts`).
 *
 * @module
 */

import type { PostgresPool } from "./pool.ts";
import { begin, failedUnsent, unavailableIfGone } from "./_begin.ts";
import { type HeldOwner, holdOwner, releaseOwner } from "./_claim_owner.ts";
import { GroupCommit, type Merge } from "./_group_commit.ts";

/** A row as the driver returns it: column name to value. */
export type Row = Record<string, unknown>;

/** The rows a statement returned, and `count`: how many rows it returned or changed. */
export type Rows = Row[] & { readonly count: number };

/** Runs one write of a group (see {@linkcode PostgresConnection.lane}). */
export type Lane = (text: string, params: readonly unknown[]) => Promise<Rows>;

/** Runs one statement with `$1`-style parameters, prepared once per text. */
export type Query = (text: string, params?: readonly unknown[]) => Promise<Rows>;

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRIED = new Set(["40001", "40P01"]);
/** How many times a transaction runs at most. */
const ATTEMPTS = 5;

/**
 * Whether a statement or transaction that failed with `error` runs again:
 * after a deadlock or a serialization failure, and once after failing
 * before it was sent (the stale error of a connection that closed).
 */
function retried(error: unknown, attempt: number): boolean {
  if (attempt === 1 && failedUnsent(error)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return attempt < ATTEMPTS && typeof code === "string" && RETRIED.has(code);
}

/** How long `close()` waits for the store's running calls before it ends the pool. */
const CLOSE_WAIT_MS = 5_000;

function closedError(): Error {
  return new Error("Cannot use PostgresStore as it is closed: open a new one");
}

/** An open pool, its schema, and the store's lifetime. */
export class PostgresConnection {
  readonly #sql: PostgresPool;
  readonly #owned: boolean;
  #ready: Promise<void> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  #held: Promise<HeldOwner> | undefined;
  /** The store's calls running now, and what settles once there are none. */
  #running = 0;
  #idle: (() => void) | undefined;
  /** The schema, quoted, with a trailing dot: prefix a table name with it. */
  readonly s: string;
  /** The store's random owner id, written into its idempotency claims (see `_claim_owner.ts`). */
  readonly owner: string;

  /**
   * Wraps a pool.
   *
   * @param sql The pool.
   * @param owned Whether `close()` ends it (a pool the caller passed in stays open).
   * @param schema The schema's name, already validated as a plain identifier.
   * @param owner The store's owner id (see `_claim_owner.ts`).
   */
  constructor(sql: PostgresPool, owned: boolean, schema: string, owner: string) {
    this.#sql = sql;
    this.owner = owner;
    this.#owned = owned;
    this.s = `"${schema}".`;
    this.write = this.lane();
  }

  /** The pool itself, for the migrations that run before the store is ready. */
  get sql(): PostgresPool {
    return this.#sql;
  }

  /**
   * Reserves a connection and takes the owner's lock on it, held until
   * `close()`: first of the opening, so no claim is made before it.
   *
   * @returns Once held.
   */
  hold(): Promise<void> {
    this.#held ??= holdOwner(this.#sql, this.owner);
    return this.#held.then(() => {});
  }

  /**
   * Makes every call wait for `opening` (the migrations) and fail with its error.
   *
   * @param opening The store's opening.
   */
  opening(opening: Promise<void>): void {
    this.#ready = opening;
    // Awaited by every call and by `PostgresStore.open`; never an unhandled rejection.
    opening.catch(() => {});
  }

  /** Resolves once open; rejects when opening failed or the store is closed. */
  async ready(): Promise<void> {
    if (this.#closed) throw closedError();
    await this.#ready;
    if (this.#closed) throw closedError();
  }

  /**
   * Runs one statement outside a transaction (it is one), again when
   * PostgreSQL aborted it for a deadlock or a serialization failure.
   *
   * @param text The statement, tables prefixed with {@linkcode s}.
   * @param params Its parameters.
   * @returns The rows.
   */
  query: Query = (text, params = []) =>
    this.#track(async () => {
      await this.ready();
      for (let attempt = 1;; attempt++) {
        try {
          return await this.#sql.unsafe(text, params as never[], {
            prepare: true,
          }) as unknown as Rows;
        } catch (error) {
          if (!retried(error, attempt)) throw unavailableIfGone(error);
        }
      }
    });

  /**
   * Runs one write in a transaction shared with the writes made while the
   * one before commits (see `_group_commit.ts`): for the recording writes of
   * requests, one statement each, whose answers wait for their commit. Its
   * parameters are the statement, tables prefixed with {@linkcode s}, and the
   * statement's parameters; it resolves to the rows, after the commit.
   */
  readonly write: Lane;

  /**
   * A lane of writes grouped as {@linkcode write}'s are, in a queue of its
   * own; with `merge`, each group is one statement that `merge` makes.
   *
   * @param merge Makes a group's statement from its writes' parameters (see `Merge`).
   * @returns Runs one write; its rows, after its group's commit.
   */
  lane(merge?: Merge): Lane {
    const group = new GroupCommit(
      this.#sql,
      this.query,
      () => this.#closed ? closedError() : undefined,
      merge,
    );
    return (text, params) =>
      this.#track(async () => {
        await this.ready();
        try {
          return await group.write(text, params);
        } catch (error) {
          throw unavailableIfGone(error);
        }
      });
  }

  /**
   * Runs `body` in one transaction, again when PostgreSQL aborted it for a
   * deadlock or a serialization failure.
   *
   * @param body The statements, given a query bound to the transaction.
   * @param mode What follows `BEGIN`, such as `ISOLATION LEVEL REPEATABLE READ READ ONLY`.
   * @returns What `body` returned, after the commit.
   */
  transaction<T>(body: (query: Query) => Promise<T>, mode = ""): Promise<T> {
    return this.#track(async () => {
      await this.ready();
      for (let attempt = 1;; attempt++) {
        try {
          return await begin(this.#sql, mode, async (tx) => {
            const query: Query = async (text, params = []) =>
              await tx.unsafe(text, params as never[], { prepare: true }) as unknown as Rows;
            return await body(query);
          });
        } catch (error) {
          if (!retried(error, attempt)) throw unavailableIfGone(error);
        }
      }
    });
  }

  /** Runs one call of the store, counted among the running ones `close()` waits for. */
  async #track<T>(call: () => Promise<T>): Promise<T> {
    this.#running++;
    try {
      return await call();
    } finally {
      if (--this.#running === 0) this.#idle?.();
    }
  }

  /** Settles once no call of the store runs, or after `ms`. */
  #settled(ms: number): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#idle = done;
    });
  }

  /**
   * Closes the store: later calls reject; the owner's lock is let go and its
   * connection given back; a pool the store opened is ended once the store's
   * running calls settle (at most 5 s). Calling it again does nothing.
   *
   * @returns Once closed.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#closing = (async () => {
      await this.#ready.catch(() => {});
      const held = await this.#held?.catch(() => undefined);
      if (held !== undefined) await releaseOwner(this.#sql, held, this.owner).catch(() => {});
      if (!this.#owned) return;
      // Then at once: the driver's own wait for running queries can also wait, until it is
      // used again, for a connection that closed while running a statement.
      await this.#settled(CLOSE_WAIT_MS);
      await this.#sql.end({ timeout: 0 });
    })();
    return this.#closing;
  }
}
