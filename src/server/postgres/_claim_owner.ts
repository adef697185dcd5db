/**
 * Whose idempotency claims are whose, so a store opening frees only the
 * claims of processes that died. Each {@linkcode PostgresStore} gets a random
 * owner id, written into every claim it makes, and holds a session-level
 * advisory lock named after it on one reserved connection for its whole life.
 * A store opening tries each owner's lock (of the owners with unanswered
 * claims): the locks it can take are of owners whose connection is gone, a
 * crashed or killed process, and only their claims are deleted; the claims of
 * live processes stay held. A claim of the same key, on any process, takes
 * over an unanswered claim of a dead owner likewise (see
 * `_migration_claim_owner.ts`). Claims made before owners were recorded
 * (owner NULL) count as dead when a store opens.
 *
 * @module
 */

import type { PostgresPool, PostgresReserved } from "./pool.ts";
import type { Query } from "./_connection.ts";

/**
 * What an owner's id is prefixed with to name its advisory lock (hashed to
 * 64 bits). Written into migration 2's SQL as well: never change it.
 */
export const OWNER_LOCK_PREFIX = "edgewire-claim-owner:";

/**
 * What the `application_name` of each connection of a pool the store opened
 * starts with, the owner's id after it: while a connection of a dead owner
 * is left, a statement of it may still be running, and its claims are not
 * taken over. Written into migration 2's SQL as well: never change it.
 */
export const OWNER_APPLICATION_PREFIX = "edgewire:";

/** The advisory lock's key of an owner, as SQL taking the owner as `$1`. */
const LOCK_KEY = `hashtextextended('${OWNER_LOCK_PREFIX}' || $1, 0)`;

/** A new owner id: random, so no two stores, of any process, share one. */
export function newOwner(): string {
  return crypto.randomUUID();
}

/** A reserved connection holding an owner's lock, and its backend's process id. */
export interface HeldOwner {
  /** The reserved connection. */
  readonly reserved: PostgresReserved;
  /** Its backend's process id, to tell from another connection whether it still lives. */
  readonly pid: number;
}

/**
 * Reserves a connection of `sql` and takes the owner's lock on it, held
 * until {@linkcode releaseOwner} (or until the connection dies with its
 * process).
 *
 * @param sql The pool.
 * @param owner The store's owner id.
 * @returns The reserved connection holding the lock.
 */
export async function holdOwner(sql: PostgresPool, owner: string): Promise<HeldOwner> {
  const reserved = await sql.reserve();
  try {
    // A fresh random id: nobody else holds this lock, so it is taken at once.
    const [row] = await reserved.unsafe(
      `SELECT pg_advisory_lock(${LOCK_KEY}), pg_backend_pid() AS pid`,
      [owner] as never[],
    ) as { pid: number }[];
    return { reserved, pid: row.pid };
  } catch (error) {
    reserved.release();
    throw error;
  }
}

/**
 * Lets the owner's lock go and gives the connection back to its pool, when
 * the connection still holds it. A connection that was cut (its lock gone
 * with it) is left alone: the client has already put it back to reconnect,
 * and a statement sent on it would fail outside any promise.
 *
 * @param sql The pool, to look the lock up from another connection.
 * @param held What {@linkcode holdOwner} answered.
 * @param owner The store's owner id.
 * @returns Once released.
 */
export async function releaseOwner(
  sql: PostgresPool,
  held: HeldOwner,
  owner: string,
): Promise<void> {
  const [row] = await sql.unsafe(
    `SELECT count(*)::int AS n FROM pg_locks l, (SELECT ${LOCK_KEY} AS h) o
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid = $2
       AND l.classid::bigint = (o.h >> 32) & 4294967295 AND l.objid::bigint = o.h & 4294967295`,
    [owner, held.pid] as never[],
  ) as { n: number }[];
  if (row.n === 0) return;
  try {
    await held.reserved.unsafe(`SELECT pg_advisory_unlock(${LOCK_KEY})`, [owner] as never[]);
  } finally {
    held.reserved.release();
  }
}

/**
 * Deletes the unanswered claims of dead owners: owners whose lock this
 * transaction can take (each taken to the commit, so a dead owner stays
 * dead while its claims go) and of whose pool no connection is left, and
 * claims without an owner. Nothing was
 * recorded for them, since an answer commits with the write it
 * acknowledges; their retries would otherwise be refused until the lease
 * ends (30 s). The claims of owners still alive are left alone.
 *
 * @param s The quoted schema with a trailing dot.
 * @param query A query inside the opening transaction, after the counts' row is locked.
 * @returns How many claims were freed.
 */
export async function freeDeadOwnersClaims(s: string, query: Query): Promise<number> {
  const owners = await query(
    `SELECT DISTINCT owner FROM ${s}idempotency_keys WHERE status IS NULL AND owner IS NOT NULL`,
  );
  const dead: string[] = [];
  for (const { owner } of owners) {
    // Dead: its lock is free, and no connection of its pool is left running a statement.
    const [row] = await query(
      `SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AND NOT EXISTS (SELECT 1 FROM
         pg_stat_activity WHERE application_name = '${OWNER_APPLICATION_PREFIX}' || $1) AS dead`,
      [owner],
    );
    if (row.dead === true) dead.push(owner as string);
  }
  const freed = await query(
    `DELETE FROM ${s}idempotency_keys
     WHERE status IS NULL AND (owner IS NULL OR owner = ANY($1::text[]))`,
    [dead],
  );
  return freed.count;
}
