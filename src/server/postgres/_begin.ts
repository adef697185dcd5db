/**
 * Transactions that outlive their connection closing under them. When the
 * connection of a transaction closes (PostgreSQL restarts, an operator runs
 * `pg_terminate_backend`, a proxy or the network drops it), the `postgres`
 * driver (3.4.9, the newest release) answers the body's failure by sending
 * `ROLLBACK` on that connection; the write goes to a socket already gone,
 * from a `setImmediate`, and the uncaught `TypeError` ends the process
 * (porsager/postgres#1208). {@linkcode begin} keeps the body's failure from
 * the driver when the connection is gone, so it never sends that
 * `ROLLBACK`: the transaction still rejects, through the driver's own
 * watch on the connection closing, and PostgreSQL rolls back a transaction
 * whose connection ends. What counts as a lost connection is
 * {@linkcode connectionGone}; the store's calls reject with it wrapped in a
 * `StoreUnavailableError` ({@linkcode unavailableIfGone}), which the
 * server answers 503.
 *
 * @module
 */

import type { PostgresPool, PostgresQueryable } from "./pool.ts";
import { StoreUnavailableError } from "../store_unavailable_error.ts";

/**
 * The driver's codes for a connection that closed or could not be used, and
 * a socket's: most of those carry the failing `syscall` too, but not the
 * `EPIPE` of a write to a socket the other side already ended ("This socket
 * has been ended by the other party").
 */
const GONE_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "EPIPE",
  "ECONNRESET",
  "ECONNABORTED",
  "ENOTCONN",
]);

/**
 * Whether `error` says the connection it came from is gone: the driver's
 * connection errors, a socket's errors (`ECONNRESET`, `EPIPE`, any with a
 * `syscall`), or a `FATAL` or `PANIC` from PostgreSQL, which closes the connection
 * after sending it. A statement's own failure (a SQLSTATE of severity
 * `ERROR`) and any other error leave the connection usable.
 *
 * @param error What a statement rejected with.
 * @returns Whether the connection is gone.
 * @example
 * ```ts
 * import { connectionGone } from "./_begin.ts";
 *
 * console.log(connectionGone({ code: "57P01", severity: "FATAL" })); // true
 * console.log(connectionGone({ code: "22012", severity: "ERROR" })); // false
 * ```
 */
export function connectionGone(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, severity, syscall } = error as {
    code?: unknown;
    severity?: unknown;
    syscall?: unknown;
  };
  return (typeof code === "string" && GONE_CODES.has(code)) || typeof syscall === "string" ||
    severity === "FATAL" || severity === "PANIC";
}

/**
 * Whether `error` is a `FATAL` or `PANIC` from PostgreSQL, which the
 * `postgres` driver (3.4.9) hands only to a statement it has not sent, so
 * the statement may be sent again. One that arrives while a statement runs
 * is kept for that statement's `ReadyForQuery`, which never comes, as
 * PostgreSQL then closes the connection: the statement fails with
 * `CONNECTION_CLOSED`, and what was kept goes to the statement that next
 * connects the connection again, before it is sent (the stale `57P01` of a
 * terminated backend). One that arrives while connecting (`57P03` as
 * PostgreSQL starts or stops) fails the statement waiting for the
 * connection. `tests/server/store_disconnect_postgres_test.ts` counts the
 * rows of such a statement sent again.
 *
 * @param error What a statement or transaction rejected with.
 * @returns Whether it failed before being sent.
 * @example
 * ```ts
 * import { failedUnsent } from "./_begin.ts";
 *
 * console.log(failedUnsent({ code: "57P01", severity: "FATAL" })); // true
 * console.log(failedUnsent({ code: "CONNECTION_CLOSED" })); // false
 * ```
 */
export function failedUnsent(error: unknown): boolean {
  const severity = serverSeverity(error);
  return severity === "FATAL" || severity === "PANIC";
}

/**
 * The severity of an error PostgreSQL sent (it has a SQLSTATE and a
 * severity); `undefined` for any other, such as a socket's `EPIPE`, whose
 * five capitals look like a SQLSTATE.
 *
 * @param error What a statement or transaction rejected with.
 * @returns `ERROR`, `FATAL`, `PANIC`…, or `undefined`.
 * @example
 * ```ts
 * import { serverSeverity } from "./_begin.ts";
 *
 * console.log(serverSeverity({ code: "23505", severity: "ERROR" })); // "ERROR"
 * console.log(serverSeverity({ code: "EPIPE" })); // undefined
 * ```
 */
export function serverSeverity(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && typeof severity === "string"
    ? severity
    : undefined;
}

/**
 * What a store call rejects with for `error`: a
 * {@linkcode StoreUnavailableError} (answered 503, retried by clients) when
 * it says the connection is gone or could not be made, else `error` itself.
 *
 * @param error What a statement or transaction rejected with.
 * @returns The error to reject with.
 * @example
 * ```ts
 * import { unavailableIfGone } from "./_begin.ts";
 *
 * const error = unavailableIfGone(Object.assign(new Error("closed"), { code: "CONNECTION_CLOSED" }));
 * console.log((error as Error).name); // "StoreUnavailableError"
 * ```
 */
export function unavailableIfGone(error: unknown): unknown {
  if (!connectionGone(error)) return error;
  // The code only: the driver's message may name the host and user.
  const code = String((error as { code?: unknown }).code);
  return new StoreUnavailableError(
    `Cannot use PostgreSQL as it ended or refused the store's connection (${code}): the request may be sent again once it is back`,
    error,
  );
}

/**
 * Runs `body` in one transaction of `sql`, as `sql.begin` does, but never
 * lets the driver answer a closed connection with a `ROLLBACK` it cannot
 * send (see the module's note). A body that fails on a live connection is
 * rolled back as usual.
 *
 * @param sql The pool.
 * @param mode What follows `BEGIN`, or `""`.
 * @param body The statements, given the transaction.
 * @returns What `body` returned, after the commit.
 * @throws {Error} What `body` or the commit failed with, after the rollback; a connection
 *   error when the connection closed (rejected, not thrown).
 * @example
 * ```ts ignore
 * const [row] = await begin(sql, "", async (tx) =>
 *   await tx.unsafe("UPDATE counts SET n = n + 1 RETURNING n") as { n: number }[]);
 * ```
 */
export async function begin<T>(
  sql: PostgresPool,
  mode: string,
  body: (tx: PostgresQueryable) => Promise<T>,
): Promise<T> {
  return await sql.begin(
    mode,
    (tx) =>
      body(tx).catch((error: unknown) =>
        // A promise that never settles: the driver's transaction waits on it rather than send
        // ROLLBACK to a closed socket. Nothing else refers to it, so it is collected with the
        // transaction's scope (a module-wide one would keep every such scope for good).
        connectionGone(error) ? new Promise<never>(() => {}) : Promise.reject(error)
      ),
  ) as T;
}
