/**
 * What `PostgresStore` does when PostgreSQL ends the connection of a
 * transaction under it (`src/server/postgres/_begin.ts`), on a real
 * PostgreSQL (`tests/_helpers/postgres.ts`): the backend terminated as a
 * restart or an operator's `pg_terminate_backend` does, or the TCP
 * connection cut through a relay. The transaction rejects with the driver's
 * connection error (a store call with it wrapped in a `StoreUnavailableError`,
 * which the server answers 503), the process goes on (the `postgres` driver
 * would otherwise end it from a `setImmediate`, porsager/postgres#1208), and
 * the pool answers again. A statement's own failure still rolls back. The
 * store's next call is answered at once, though the driver hands it the
 * stale error of the connection that closed, and `close()` does not wait
 * for that connection.
 * Ignored without PostgreSQL unless EDGEWIRE_REQUIRE_RUNTIMES=1, but for the
 * classification of errors, which needs none.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import {
  begin,
  connectionGone,
  failedUnsent,
  unavailableIfGone,
} from "../../src/server/postgres/_begin.ts";
import { GroupCommit, refusedByServer } from "../../src/server/postgres/_group_commit.ts";
import type { Query, Rows } from "../../src/server/postgres/_connection.ts";
import type { PostgresPool } from "../../src/server/postgres/pool.ts";
import { StoreUnavailableError } from "../../src/server/mod.ts";
import { onFreshStore, postgresForFile } from "../_helpers/postgres.ts";
import { startTcpRelay } from "../_helpers/tcp_relay.ts";

// Started here, outside any test, so no test's resource check counts the server process.
const { ignore, stopAfterTests, title, url } = await postgresForFile();

/** The advisory lock the transactions below wait on, held by another connection. */
const LOCK = 424_242;

type Sql = postgres.Sql;

/**
 * A pool of one connection: the next statement reuses the connection that
 * closed, which connects again. (The driver's `end()` waits for a closed
 * connection that was running a statement until it is used again.)
 */
function pool(target: string): Sql {
  return postgres(target, { max: 1, onnotice: () => {} });
}

/** The pids of the backends waiting on a lock while running a statement that contains `marker`. */
async function waitingBackends(sql: Sql, marker: string): Promise<number[]> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const rows = await sql.unsafe(
      `SELECT pid FROM pg_stat_activity
       WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0 AND pid <> pg_backend_pid()`,
      [marker],
    );
    if (rows.length > 0) return rows.map((row) => row.pid as number);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`no backend came to wait on '${marker}'`);
}

/** Terminates the backends waiting on `marker`, as a restart or an operator would. */
async function terminateWaiting(sql: Sql, marker: string): Promise<void> {
  const pids = await waitingBackends(sql, marker);
  await sql.unsafe("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [pids]);
}

/**
 * Lets the turns after a rejection run: the driver's crash came from a
 * `setImmediate` queued as the transaction failed, and an uncaught error fails the test.
 */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Begins a transaction that waits on {@linkcode LOCK} in a statement named
 * by `marker`, and expects it to fail with `CONNECTION_CLOSED`: the check
 * is attached now, and awaited once the test has ended the connection.
 */
function refusedWhileWaiting(sql: Sql, marker: string): Promise<void> {
  return assert.rejects(
    begin(
      sql as unknown as PostgresPool,
      "",
      (tx) => Promise.resolve(tx.unsafe(`SELECT pg_advisory_xact_lock(${LOCK}) AS ${marker}`)),
    ),
    isClosed,
  );
}

/** Runs `body` with `holder` holding {@linkcode LOCK}. */
async function whileLocked(holder: Sql, body: () => Promise<void>): Promise<void> {
  await holder.unsafe(`SELECT pg_advisory_lock(${LOCK})`);
  try {
    await body();
  } finally {
    await holder.unsafe(`SELECT pg_advisory_unlock(${LOCK})`);
  }
}

const isClosed = (error: unknown) => (error as { code?: string }).code === "CONNECTION_CLOSED";

/** The driver's error, or the one a store call wrapped in a {@linkcode StoreUnavailableError}. */
const driverError = (error: unknown) =>
  (error instanceof StoreUnavailableError ? error.cause : error) as { code?: string };

/**
 * Runs `attempt` until it answers, at most twice. The first statement on a
 * connection whose backend was terminated mid-statement can fail with that
 * stale `57P01` once it connects again: the `postgres` driver (3.4.9) keeps
 * the `FATAL` it read before the close and hands it to the next statement.
 * Any other failure, or a second one, fails the test.
 */
async function answersAgain<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    assert.equal(driverError(error).code, "57P01");
    return await attempt();
  }
}

Deno.test("connectionGone() tells a closed connection from a statement's own failure", () => {
  for (const code of ["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECTION_ENDED"]) {
    assert.equal(connectionGone(Object.assign(new Error(code), { code })), true, code);
  }
  const reset = Object.assign(new Error("reset"), { code: "ECONNRESET", syscall: "read" });
  assert.equal(connectionGone(reset), true);
  // A write after the other side ended the socket: no syscall (seen once in a test run).
  const ended = new Error("This socket has been ended by the other party");
  assert.equal(connectionGone(Object.assign(ended, { code: "EPIPE" })), true);
  assert.equal(connectionGone({ code: "57P01", severity: "FATAL" }), true);
  assert.equal(connectionGone({ code: "XX000", severity: "PANIC" }), true);
  assert.equal(connectionGone({ code: "22012", severity: "ERROR" }), false);
  assert.equal(connectionGone({ code: "UNDEFINED_VALUE" }), false);
  assert.equal(connectionGone(new TypeError("a bug")), false);
  assert.equal(connectionGone(undefined), false);
  assert.equal(connectionGone("CONNECTION_CLOSED"), false);
});

Deno.test("failedUnsent() takes only PostgreSQL's FATAL and PANIC for a statement never sent", () => {
  assert.equal(failedUnsent({ code: "57P01", severity: "FATAL" }), true);
  assert.equal(failedUnsent({ code: "57P03", severity: "FATAL" }), true);
  assert.equal(failedUnsent({ code: "XX000", severity: "PANIC" }), true);
  // The driver's own codes and a socket's errors come after a statement may have run.
  assert.equal(failedUnsent({ code: "CONNECTION_CLOSED" }), false);
  assert.equal(failedUnsent({ code: "ECONNRESET", syscall: "read", severity: "FATAL" }), false);
  assert.equal(failedUnsent({ code: "40001", severity: "ERROR" }), false);
  assert.equal(failedUnsent(undefined), false);
});

Deno.test("refusedByServer() takes PostgreSQL's errors only, not a socket's EPIPE", () => {
  assert.equal(refusedByServer({ code: "23505", severity: "ERROR" }), true);
  assert.equal(refusedByServer({ code: "57P01", severity: "FATAL" }), true);
  // Five capitals like a SQLSTATE, but whether the group committed is not known.
  assert.equal(refusedByServer(Object.assign(new Error("ended"), { code: "EPIPE" })), false);
  assert.equal(refusedByServer({ code: "CONNECTION_CLOSED" }), false);
  assert.equal(refusedByServer(undefined), false);
});

Deno.test("unavailableIfGone() wraps only a lost connection, naming its code and no more", () => {
  const refused = { code: "23505", severity: "ERROR" };
  assert.equal(unavailableIfGone(refused), refused);
  const lost = Object.assign(new Error("connect ECONNREFUSED 10.0.0.9:5432 as user ops"), {
    code: "ECONNREFUSED",
    syscall: "connect",
  });
  const wrapped = unavailableIfGone(lost);
  assert.ok(wrapped instanceof StoreUnavailableError);
  assert.equal(wrapped.code, "store_unavailable");
  assert.equal(wrapped.cause, lost);
  assert.match(wrapped.message, /\(ECONNREFUSED\)/);
  assert.ok(!/10\.0\.0\.9|ops/.test(wrapped.message), wrapped.message);
});

Deno.test({
  name: `${title}: a transaction whose backend is terminated rejects and the process goes on`,
  ignore,
  async fn() {
    const sql = pool(url());
    const holder = pool(url());
    try {
      await whileLocked(holder, async () => {
        const marker = "terminated_tx";
        const refused = refusedWhileWaiting(sql, marker);
        await terminateWaiting(holder, marker);
        await refused;
        await settle();
      });
      assert.deepEqual([...await answersAgain(() => sql.unsafe("SELECT 1 AS answered"))], [
        { answered: 1 },
      ]);
    } finally {
      await holder.end();
      await sql.end();
    }
  },
});

Deno.test({
  name: `${title}: a transaction whose TCP connection is cut rejects and the pool connects again`,
  ignore,
  async fn() {
    const target = new URL(url());
    const through = startTcpRelay({ hostname: target.hostname, port: Number(target.port) });
    target.port = String(through.port);
    const sql = pool(target.href);
    const holder = pool(url());
    try {
      await whileLocked(holder, async () => {
        const marker = "cut_tx";
        const refused = refusedWhileWaiting(sql, marker);
        await waitingBackends(holder, marker);
        through.cut();
        through.restore();
        await refused;
        await settle();
      });
      // PostgreSQL rolled back the transaction whose connection ended, and let its lock go.
      for (let attempt = 0; attempt < 500; attempt++) {
        const [{ n }] = await holder.unsafe(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE strpos(query, 'cut_tx') > 0 AND pid <> pg_backend_pid()",
        );
        if (n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual([...await sql.unsafe("SELECT 2 AS answered")], [{ answered: 2 }]);
    } finally {
      await holder.end();
      await sql.end();
      await through.close();
    }
  },
});

Deno.test({
  name: `${title}: a statement's own failure still rolls its transaction back on a live connection`,
  ignore,
  async fn() {
    // One connection: a transaction left open on it would refuse every later statement.
    const sql = pool(url());
    try {
      await sql.unsafe("DROP TABLE IF EXISTS begin_rollback");
      await sql.unsafe("CREATE TABLE begin_rollback (v integer)");
      await assert.rejects(
        begin(sql as unknown as PostgresPool, "", async (tx) => {
          await tx.unsafe("INSERT INTO begin_rollback VALUES (1)");
          await tx.unsafe("SELECT 1 / 0");
        }),
        (error: unknown) => (error as { code?: string }).code === "22012",
      );
      assert.deepEqual([...await sql.unsafe("SELECT count(*)::int AS n FROM begin_rollback")], [
        { n: 0 },
      ]);
      await sql.unsafe("DROP TABLE begin_rollback");
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name: `${title}: a group whose backend is terminated fails whole and the next write commits`,
  ignore,
  async fn() {
    const sql = pool(url());
    const holder = pool(url());
    try {
      await sql.unsafe("DROP TABLE IF EXISTS begin_grouped");
      await sql.unsafe("CREATE TABLE begin_grouped (v integer)");
      const alone: Query = async (text, params = []) =>
        await sql.unsafe(text, params as never[], { prepare: true }) as unknown as Rows;
      const group = new GroupCommit(sql as unknown as PostgresPool, alone, () => undefined);
      const insert = "INSERT INTO begin_grouped VALUES ($1) RETURNING v";
      await whileLocked(holder, async () => {
        const marker = "grouped_wait";
        const writes = Promise.allSettled([
          group.write(insert, [1]),
          group.write(`SELECT pg_advisory_xact_lock(${LOCK}) AS ${marker}`, []),
          group.write(insert, [2]),
        ]);
        await terminateWaiting(holder, marker);
        for (const write of await writes) {
          assert.equal(write.status, "rejected");
          assert.ok(isClosed(write.reason));
        }
        await settle();
      });
      assert.deepEqual((await answersAgain(() => group.write(insert, [3])))[0], { v: 3 });
      assert.deepEqual([...await sql.unsafe("SELECT v FROM begin_grouped")], [{ v: 3 }]);
      await sql.unsafe("DROP TABLE begin_grouped");
    } finally {
      await holder.end();
      await sql.end();
    }
  },
});

/**
 * Runs a store call while `table` is locked by another connection, then
 * terminates the backend the call waits on: the call must reject with a
 * `StoreUnavailableError` for the lost connection (the driver's
 * `CONNECTION_CLOSED`, or `ECONNRESET` when the socket saw the close first).
 */
async function terminatedUnder(
  schema: string,
  table: string,
  call: () => Promise<unknown>,
): Promise<void> {
  const holder = pool(url());
  const observer = pool(url());
  try {
    await holder.begin(async (tx) => {
      await tx.unsafe(`LOCK TABLE "${schema}".${table} IN ACCESS EXCLUSIVE MODE`);
      const refused = assert.rejects(
        call(),
        (error) => error instanceof StoreUnavailableError && connectionGone(error.cause),
      );
      await terminateWaiting(observer, table);
      await refused;
      await settle();
    });
  } finally {
    await observer.end();
    await holder.end();
  }
}

/** An mkStats event count, recorded by the write tests below. */
const EVENT = { pluginId: "p", event: "opened", version: "1.0.0", day: "2026-11-26", count: 1 };

/**
 * A store of one query connection, so the call after a terminated one
 * reuses the connection that closed.
 */
const ONE_CONNECTION = { prefix: "disconnect", max: 1 };

Deno.test({
  name:
    `${title}: PostgresStore answers the next transaction at once after one lost its connection`,
  ignore,
  async fn() {
    await onFreshStore(url(), ONE_CONNECTION, async (store, schema) => {
      const registration = { project: "acme/tool", latestVersion: "1.0.0", now: 0 };
      await terminatedUnder(
        schema,
        "migas_projects",
        () => store.registerMigasProject(registration),
      );
      // The driver hands this call the stale 57P01 before sending it; the store sends it again.
      assert.equal(await store.registerMigasProject(registration), true);
      assert.equal((await store.findMigasProject("acme/tool"))?.latestVersion, "1.0.0");
    });
  },
});

Deno.test({
  name: `${title}: a PostgresStore write after a terminated one is stored exactly once`,
  ignore,
  async fn() {
    await onFreshStore(url(), ONE_CONNECTION, async (store, schema) => {
      await store.addEventCount(EVENT);
      await terminatedUnder(schema, "event_counts", () => store.addEventCount(EVENT));
      await store.addEventCount(EVENT);
      // The first and the last: the terminated write rolled back, the last ran once.
      assert.deepEqual((await store.getStats("p")).events, [
        { event: "opened", version: "1.0.0", count: 2 },
      ]);
    });
  },
});

Deno.test({
  name:
    `${title}: PostgresStore.close() does not wait for a connection that closed under a statement`,
  ignore,
  async fn() {
    await onFreshStore(url(), ONE_CONNECTION, async (store, schema) => {
      await terminatedUnder(schema, "event_counts", () => store.addEventCount(EVENT));
      // The driver's end() waits for that connection until it is used again, which here it
      // never is: the store ended the pool only after its 5 s timeout.
      const started = performance.now();
      await store.close();
      const took = performance.now() - started;
      assert.ok(took < 2_000, `close() took ${Math.round(took)} ms`);
    });
  },
});

stopAfterTests();
