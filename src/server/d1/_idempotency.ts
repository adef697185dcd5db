/**
 * The idempotency part of {@linkcode D1Store}: the `idempotency_keys` table,
 * one row per scope and key, numbered in claim order, with
 * `idempotency_counts` kept by triggers. A claim is one `batch()`: forget a
 * row that no longer holds, insert unless one does, trim the oldest rows
 * beyond the bounds, and read the row back; whether the insert returned a row
 * tells `claimed` from `held`.
 *
 * Unlike the SQLite store, opening forgets no unanswered claim: other
 * isolates' requests may hold them. A claim whose request died is taken over
 * once its lease (30 s at most) passes.
 *
 * @module
 */

import type {
  IdempotencyClaimResult,
  IdempotencySettlement,
  IdempotencyStore,
} from "../common/idempotency_store.ts";
import type { D1PreparedStatement } from "./d1_database.ts";
import { type D1Connection, rowsOf } from "./_connection.ts";

/** A row that no longer holds: its window ended, or it is unanswered and its lease ended. */
const FORGET_STALE = `DELETE FROM idempotency_keys WHERE scope = ? AND key = ?
  AND (expires_at <= ? OR ((status IS NULL OR body IS NULL) AND lease_expires_at <= ?))`;

const INSERT = `INSERT INTO idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at)
  VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING RETURNING seq`;

// The oldest rows beyond a bound, the claimed key aside (it is the newest, or the one held).
// A LIMIT below 0 means no limit in SQLite, hence the max(0, …).
const TRIM_SCOPE = `DELETE FROM idempotency_keys WHERE seq IN (
  SELECT seq FROM idempotency_keys WHERE scope = ? AND key != ? ORDER BY seq
  LIMIT max(0, COALESCE((SELECT n FROM idempotency_counts WHERE scope = ?), 0) - ?))`;

const TRIM_ALL = `DELETE FROM idempotency_keys WHERE seq IN (
  SELECT seq FROM idempotency_keys WHERE NOT (scope = ? AND key = ?) ORDER BY seq
  LIMIT max(0, COALESCE((SELECT n FROM idempotency_counts WHERE scope = ''), 0) - ?))`;

const FIND = "SELECT fingerprint, status, body FROM idempotency_keys WHERE scope = ? AND key = ?";

const ANSWER = "UPDATE idempotency_keys SET status = ?, body = ? WHERE scope = ? AND key = ?";

/**
 * The statement that keeps a claimed key's answer, for a recording write to
 * put in its own `batch()` (see {@linkcode IdempotencySettlement}).
 *
 * @param db The connection.
 * @param settle The settlement, or `undefined` when the request carries no key.
 * @returns The statements to append to the write's batch: none, or one.
 */
export function settleStatements(
  db: D1Connection,
  settle: IdempotencySettlement | undefined,
): D1PreparedStatement[] {
  if (settle === undefined) return [];
  const { scope, key, answer } = settle;
  return [db.statement(ANSWER, [answer.status, answer.body, scope, key])];
}

/**
 * Builds the idempotency part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function d1Idempotency(db: D1Connection): IdempotencyStore {
  return {
    claimIdempotencyKey: async (claim): Promise<IdempotencyClaimResult> => {
      const { scope, key, now } = claim;
      const results = await db.batch([
        db.statement(FORGET_STALE, [scope, key, now, now]),
        db.statement(INSERT, [
          scope,
          key,
          claim.fingerprint,
          claim.expiresAt,
          claim.leaseExpiresAt,
        ]),
        db.statement(TRIM_SCOPE, [scope, key, scope, claim.maxPerScope]),
        db.statement(TRIM_ALL, [scope, key, claim.maxTotal]),
        db.statement(FIND, [scope, key]),
      ]);
      // D1's change counts include the counting triggers' rows: the inserted row itself tells.
      if (rowsOf(results[1]).length === 1) return { status: "claimed" };
      const row = rowsOf(results[4])[0] as
        | { fingerprint: string; status: number | null; body: string | null }
        | undefined;
      if (row === undefined) return { status: "claimed" };
      const answered = row.status !== null && row.body !== null;
      return {
        status: "held",
        fingerprint: row.fingerprint,
        answer: answered ? { status: Number(row.status), body: row.body! } : undefined,
      };
    },
    settleIdempotencyKey: async (scope, key, settled) => {
      if (settled === undefined) {
        await db.run("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?", [scope, key]);
      } else {
        await db.run(ANSWER, [settled.status, settled.body, scope, key]);
      }
    },
    // By the expires_at index only: an unanswered row past its lease is replaced by the next claim.
    pruneIdempotencyKeys: async (now, limit) =>
      (await db.all(
        `DELETE FROM idempotency_keys WHERE seq IN
           (SELECT seq FROM idempotency_keys WHERE expires_at < ? LIMIT ?) RETURNING seq`,
        [now, limit],
      )).length,
  };
}
