/**
 * A request the killed process had taken but not recorded, retried on
 * another process, in the cluster test on PostgreSQL. The test holds a lock
 * on `migas_breadcrumbs` so a breadcrumb POSTed to the victim claims its
 * `Idempotency-Key` and then waits in the database; the victim is killed.
 * Its retry on a live process must be refused as in use (409) while the dead
 * process's statement may still commit; once that statement is gone (its
 * backend ended, as `client_connection_check_interval` ends it), the next
 * retry must take the claim over at once, not after the 30 s lease, and
 * record the breadcrumb, which the test then finds once.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { CLUSTER_MIGAS_PROJECT } from "./_cluster_node.ts";

/** The version of the breadcrumb sent in flight: no other breadcrumb has it. */
export const IN_FLIGHT_VERSION = "9.9.9";
const KEY = "cluster-in-flight-breadcrumb";
const BODY = JSON.stringify({
  project: CLUSTER_MIGAS_PROJECT,
  project_version: IN_FLIGHT_VERSION,
  language: "python",
  language_version: "3.12.1",
  platform: "linux",
  container: "docker",
  is_ci: false,
});

/** POSTs the breadcrumb; a retry that hangs (blocked on the lock) fails after 5 s. */
function post(origin: string, timeout = true): Promise<Response> {
  return fetch(`${origin}/api/breadcrumb`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": KEY },
    body: BODY,
    signal: timeout ? AbortSignal.timeout(5000) : undefined,
  });
}

const step = (what: string) => {
  if (Deno.env.get("CLUSTER_VERBOSE") === "1") console.log(`in flight: ${what}`);
};

/** A breadcrumb claimed by the victim and waiting on a lock the test holds. */
export class InFlightOnVictim {
  readonly #sql: postgres.Sql;
  readonly #application: string;
  readonly #release: () => void;
  readonly #locked: Promise<unknown>;
  readonly #sent: Promise<unknown>;

  private constructor(
    sql: postgres.Sql,
    application: string,
    release: () => void,
    locked: Promise<unknown>,
    sent: Promise<unknown>,
  ) {
    this.#sql = sql;
    this.#application = application;
    this.#release = release;
    this.#locked = locked;
    this.#sent = sent;
  }

  /**
   * Locks the table, sends the breadcrumb to the victim and waits until it waits on the lock.
   *
   * @param databaseUrl The cluster's database.
   * @param victim The victim's index: the processes started in order, so its store holds the
   * owner lock taken in that place.
   * @param origin The victim's origin.
   * @returns The request in flight.
   */
  static async start(
    databaseUrl: string,
    victim: number,
    origin: string,
  ): Promise<InFlightOnVictim> {
    const sql = postgres(databaseUrl, { max: 3, onnotice: () => {} });
    // Each store's owner lock, oldest first: the stores opened in the processes' order.
    const holders = await sql.unsafe(
      `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'edgewire:%'
       ORDER BY a.backend_start`,
    );
    step(`owner locks held by ${holders.map((row) => row.application_name).join(", ")}`);
    assert.equal(holders.length, 3, "one owner lock per process");
    const application = holders[victim].application_name as string;
    let release!: () => void;
    let isLocked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (isLocked = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    const locked = sql.begin(async (tx) => {
      await tx.unsafe("LOCK TABLE edgewire.migas_breadcrumbs IN EXCLUSIVE MODE");
      isLocked();
      await held;
    });
    await Promise.race([lockTaken, locked]);
    step("table locked");
    const sent = post(origin, false).then((response) => response.body?.cancel(), () => {});
    const waiting = async () => {
      const [{ n }] = await sql.unsafe(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1
         AND wait_event_type = 'Lock' AND query LIKE '%migas_breadcrumbs%'`,
        [application],
      );
      return n as number;
    };
    const request = new InFlightOnVictim(sql, application, release, locked, sent);
    let n = 0;
    for (let i = 0; i < 500 && n === 0; i++) {
      n = await waiting();
      if (n === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (n === 0) {
      await request.end();
      assert.fail("the breadcrumb sent to the victim never waited on the lock");
    }
    return request;
  }

  /**
   * Once the victim was killed: the retries on live processes, then the lock let go.
   *
   * @param origins Live processes' origins.
   * @returns Once the breadcrumb was recorded by a retry.
   */
  async retry(origins: string[]): Promise<void> {
    await this.#sent;
    step("the victim's request ended");
    const sql = this.#sql;
    // The victim's owner lock goes with its process
    const owner = this.#application.slice("edgewire:".length);
    const lockHeld = async () =>
      Number(
        (await sql.unsafe(
          `SELECT count(*) AS n FROM pg_locks l,
             (SELECT hashtextextended('edgewire-claim-owner:' || $1, 0) AS h) o
           WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
             AND l.classid::bigint = (o.h >> 32) & 4294967295
             AND l.objid::bigint = o.h & 4294967295`,
          [owner],
        ))[0].n,
      );
    let free = false;
    for (let i = 0; i < 500 && !free; i++) {
      free = await lockHeld() === 0;
      if (!free) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(free, "the victim's owner lock went with its process");
    step("the victim's owner lock is free");
    // Its statement still waits, and may commit: the key is in use
    const first = await post(origins[0]);
    await first.body?.cancel();
    assert.equal(first.status, 409, "a claim whose dead owner still runs a statement is held");
    // The database ends the dead client's backends; the retry takes the claim over at once
    await sql.unsafe(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
      [
        this.#application,
      ],
    );
    let left = 1;
    for (let i = 0; i < 500 && left > 0; i++) {
      [{ n: left }] = await sql.unsafe(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
        [this.#application],
      ) as unknown as { n: number }[];
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(left, 0, "the victim's backends ended");
    step("the victim's backends ended");
    await this.end();
    const second = await post(origins[1 % origins.length]);
    await second.body?.cancel();
    // migas answers a recorded breadcrumb 202
    assert.equal(second.status, 202, "the retry took the dead process's claim over");
  }

  /**
   * Lets the lock go and closes the connection; calling it again does nothing.
   *
   * @returns Once closed.
   */
  async end(): Promise<void> {
    this.#release();
    await this.#locked.catch(() => {});
    await this.#sql.end({ timeout: 1 });
  }
}
