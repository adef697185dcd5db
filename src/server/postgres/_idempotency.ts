/**
 * The idempotency part of {@linkcode PostgresStore}: the `idempotency_keys`
 * table, one row per scope and key, numbered in claim order so the oldest
 * rows of a scope, or of the table, are the first to go at a bound; and
 * `idempotency_counts`, kept by a trigger, so a bound costs a lookup.
 *
 * Every transaction that adds or deletes keys first locks the count row of
 * the whole table (scope `''`): claims, releases and prunes then run one at
 * a time, as in SQLite, and the trigger's count updates never deadlock. A
 * claim is one call of the `claim_idempotency_key` function (one round trip,
 * so the lock is held briefly) and, like a release or a prune, commits
 * without waiting for its WAL flush (`synchronous_commit = off`): a crash
 * may lose it, as it loses SQLite's uncommitted claims, and the write that
 * settles it flushes it with itself. Each claim records its store's owner
 * id; the unanswered claims of owners that died are freed when a store
 * opens (see {@linkcode freeUnansweredClaims}).
 *
 * @module
 */

import type { IdempotencySettlement, IdempotencyStore } from "../common/idempotency_store.ts";
import type { PostgresConnection, Query } from "./_connection.ts";
import { freeDeadOwnersClaims } from "./_claim_owner.ts";
import { fromText, toText } from "./_text.ts";

/** Locks the total's row: the first statement of every transaction that changes the counts. */
function lockCounts(s: string, query: Query, relaxed: boolean): Promise<unknown> {
  return query(
    `SELECT set_config('synchronous_commit', $1, true), n FROM ${s}idempotency_counts
     WHERE scope = '' FOR UPDATE`,
    [relaxed ? "off" : "on"],
  );
}

/**
 * Deletes, when a store opens, the claims still unanswered whose owner died
 * (a crash, a kill -9): their lease would refuse their retries for 30 s, and
 * nothing was recorded for them, since an answer commits with the write it
 * acknowledges. The claims of other live processes on the same schema stay
 * held (see `_claim_owner.ts`).
 *
 * @param s The quoted schema with a trailing dot.
 * @param query A query inside the opening transaction.
 * @returns Once deleted.
 */
export async function freeUnansweredClaims(s: string, query: Query): Promise<void> {
  await lockCounts(s, query, false);
  await freeDeadOwnersClaims(s, query);
}

/** The two texts of a recording write: alone, and settling a key with it. */
export interface RecordingStatement {
  /** The writes alone, as one statement. */
  readonly plain: string;
  /** The writes and the key's answer, as one statement, its parameters after the writes'. */
  readonly settling: string;
}

/**
 * Builds one statement of several writes (as data-modifying `WITH` parts)
 * and, in its settling form, the idempotency answer after them: one
 * statement is one transaction, so the answer commits with what it
 * acknowledges (see {@linkcode IdempotencySettlement}), in one round trip.
 *
 * @param s The quoted schema with a trailing dot.
 * @param writes The writes, using parameters `$1` to `$params`.
 * @param params How many parameters the writes take.
 * @returns The statement's two forms.
 */
export function recordingStatement(
  s: string,
  writes: readonly string[],
  params: number,
): RecordingStatement {
  const parts = (list: readonly string[]) => list.map((write, i) => `w${i} AS (${write})`);
  const last = writes[writes.length - 1];
  const n = params;
  return {
    plain: writes.length === 1 ? last : `WITH ${parts(writes.slice(0, -1)).join(", ")} ${last}`,
    settling: `WITH ${parts(writes).join(", ")}
      UPDATE ${s}idempotency_keys SET status = $${n + 1}, body = $${n + 2}
      WHERE scope = $${n + 3} AND key = $${n + 4}`,
  };
}

/**
 * Runs a {@linkcode RecordingStatement}, settling `settle` with it when given.
 *
 * @param db The connection.
 * @param statement The statement's two forms.
 * @param values The writes' parameters.
 * @param settle The key to settle, or `undefined`.
 * @returns Once committed.
 */
export async function record(
  db: PostgresConnection,
  statement: RecordingStatement,
  values: readonly unknown[],
  settle: IdempotencySettlement | undefined,
): Promise<void> {
  if (settle === undefined) {
    await db.write(statement.plain, values);
    return;
  }
  await db.write(statement.settling, [
    ...values,
    settle.answer.status,
    toText(settle.answer.body),
    toText(settle.scope),
    toText(settle.key),
  ]);
}

/**
 * Builds the idempotency part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function postgresIdempotency(db: PostgresConnection): IdempotencyStore {
  const s = db.s;
  const claimKey = `SELECT held, held_fingerprint, held_status, held_body
     FROM ${s}claim_idempotency_key($1, $2, $3, $4, $5, $6, $7, $8, $9)`;
  // The claims made while one group runs, one call each in their order, in one statement whose
  // one row holds every answer (see `Merge` in _group_commit.ts).
  const claimMany = `SELECT coalesce(json_agg(json_build_object('held', k.held,
       'held_fingerprint', k.held_fingerprint, 'held_status', k.held_status,
       'held_body', k.held_body) ORDER BY c.n), '[]') AS rows
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[],
       $7::bigint[], $8::bigint[]) WITH ORDINALITY
       AS c(scope, key, fingerprint, now, expires_at, lease_expires_at, max_scope, max_total, n),
     LATERAL ${s}claim_idempotency_key(c.scope, c.key, c.fingerprint, c.now, c.expires_at,
       c.lease_expires_at, c.max_scope, c.max_total, $9) AS k`;
  const claim = db.lane((writes) => ({
    text: claimMany,
    params: [
      ...Array.from({ length: 8 }, (_, column) => writes.map((write) => write[column])),
      db.owner,
    ],
  }));
  const answer =
    `UPDATE ${s}idempotency_keys SET status = $1, body = $2 WHERE scope = $3 AND key = $4`;
  const release = `DELETE FROM ${s}idempotency_keys WHERE scope = $1 AND key = $2`;
  // By the expires_at index only: an unanswered row past its lease is replaced by the next claim.
  const prune = `DELETE FROM ${s}idempotency_keys WHERE seq IN
     (SELECT seq FROM ${s}idempotency_keys WHERE expires_at < $1 LIMIT $2)`;
  return {
    // One call of claim_idempotency_key (see _migrations.ts), merged with the claims made while
    // the group before runs: one round trip, and the total's row locked once for them all.
    claimIdempotencyKey: async (wanted) => {
      const [row] = await claim(claimKey, [
        toText(wanted.scope),
        toText(wanted.key),
        toText(wanted.fingerprint),
        wanted.now,
        wanted.expiresAt,
        wanted.leaseExpiresAt,
        wanted.maxPerScope,
        wanted.maxTotal,
        db.owner,
      ]);
      if (row.held !== true) return { status: "claimed" };
      const status = row.held_status as number | null;
      const body = row.held_body as string | null;
      return {
        status: "held",
        fingerprint: fromText(row.held_fingerprint as string),
        answer: status !== null && body !== null ? { status, body: fromText(body) } : undefined,
      };
    },
    settleIdempotencyKey: (scope, key, settled) =>
      settled === undefined
        ? db.transaction(async (query) => {
          await lockCounts(s, query, true);
          await query(release, [toText(scope), toText(key)]);
        })
        : db.query(answer, [settled.status, toText(settled.body), toText(scope), toText(key)])
          .then(() => {}),
    pruneIdempotencyKeys: (now, limit) =>
      db.transaction(async (query) => {
        await lockCounts(s, query, true);
        return (await query(prune, [now, limit])).count;
      }),
  };
}
