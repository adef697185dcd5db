/**
 * The idempotency part of {@linkcode SqliteStore}: the `idempotency_keys`
 * table, one row per scope and key, numbered in claim order so the oldest
 * rows of a scope, or of the table, are the first to go at a bound.
 *
 * @module
 */

import type {
  IdempotencyClaimResult,
  IdempotencySettlement,
  IdempotencyStore,
} from "../common/idempotency_store.ts";
import type { SqliteConnection } from "./_connection.ts";
import { IDEMPOTENCY_KEYS, sqliteScript } from "../_sqlite_schema.ts";

const SCHEMA = sqliteScript(IDEMPOTENCY_KEYS);

// How many keys each scope holds, and the whole table under the scope '': kept by triggers,
// so the bounds checked at every claim cost a lookup rather than a COUNT over the keys.
const COUNTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency_counts (
  scope TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS idempotency_keys_counted AFTER INSERT ON idempotency_keys BEGIN
  INSERT INTO idempotency_counts (scope, n) VALUES (NEW.scope, 1), ('', 1)
    ON CONFLICT (scope) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS idempotency_keys_uncounted AFTER DELETE ON idempotency_keys BEGIN
  UPDATE idempotency_counts SET n = n - 1 WHERE scope IN (OLD.scope, '');
END;
`;

/** Creates the counts, from the keys a database from before them holds, in one transaction. */
function createCounts(db: SqliteConnection): void {
  db.transaction(() => {
    const fresh = db.prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'idempotency_counts'",
    ).get() === undefined;
    db.schema(COUNTS_SCHEMA);
    if (!fresh) return;
    db.schema(`
      INSERT INTO idempotency_counts (scope, n)
        SELECT scope, COUNT(*) FROM idempotency_keys GROUP BY scope;
      INSERT INTO idempotency_counts (scope, n) SELECT '', COUNT(*) FROM idempotency_keys;
    `);
  });
}

interface Row {
  seq: number;
  fingerprint: string;
  expires_at: number;
  lease_expires_at: number;
  status: number | null;
  body: string | null;
}

const ANSWER = "UPDATE idempotency_keys SET status = ?, body = ? WHERE scope = ? AND key = ?";

/**
 * Prepares the settle a recording write runs in its own transaction (see
 * {@linkcode IdempotencySettlement}). Call it after the part is built.
 *
 * @param db The open database.
 * @returns A function to call inside the write's `db.run`.
 */
export function idempotencySettler(
  db: SqliteConnection,
): (settle: IdempotencySettlement | undefined) => void {
  const answer = db.prepare(ANSWER);
  return (settle) => {
    if (settle !== undefined) {
      answer.run(settle.answer.status, settle.answer.body, settle.scope, settle.key);
    }
  };
}

/**
 * Creates the table when missing and builds the idempotency part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteIdempotency(db: SqliteConnection): IdempotencyStore {
  db.schema(SCHEMA);
  createCounts(db);
  // A claim still unanswered when the database opens belonged to a request that died with its
  // process (a crash, a kill -9): its lease would refuse that request's retries for 30 s, and
  // nothing was recorded for it, since the answer commits with the write it acknowledges.
  // (A second process on the same file loses its in-flight claims here, for a few ms.)
  db.schema("DELETE FROM idempotency_keys WHERE status IS NULL");
  const find = db.prepare(
    "SELECT seq, fingerprint, expires_at, lease_expires_at, status, body FROM idempotency_keys WHERE scope = ? AND key = ?",
  );
  const remove = db.prepare("DELETE FROM idempotency_keys WHERE seq = ?");
  const insert = db.prepare(
    "INSERT INTO idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at) VALUES (?, ?, ?, ?, ?)",
  );
  const countScope = db.prepare("SELECT n FROM idempotency_counts WHERE scope = ?");
  const trimScope = db.prepare(
    "DELETE FROM idempotency_keys WHERE seq IN (SELECT seq FROM idempotency_keys WHERE scope = ? ORDER BY seq LIMIT ?)",
  );
  const countAll = db.prepare("SELECT n FROM idempotency_counts WHERE scope = ''");
  const trimAll = db.prepare(
    "DELETE FROM idempotency_keys WHERE seq IN (SELECT seq FROM idempotency_keys ORDER BY seq LIMIT ?)",
  );
  const answer = db.prepare(ANSWER);
  const release = db.prepare("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?");
  // By the expires_at index only: an unanswered row past its lease is replaced by the next claim.
  const prune = db.prepare(
    `DELETE FROM idempotency_keys WHERE seq IN
       (SELECT seq FROM idempotency_keys WHERE expires_at < ? LIMIT ?)`,
  );
  const count = (statement: ReturnType<SqliteConnection["prepare"]>, ...args: string[]) =>
    Number((statement.get(...args) as { n: number | bigint }).n);
  return {
    // The claim settles before its commit, so the record and the answer that follow join its
    // batch: one commit per request. No claim outlives a crash anyway (see above).
    claimIdempotencyKey: (claim) =>
      db.runAhead(() =>
        db.transaction((): IdempotencyClaimResult => {
          const row = find.get(claim.scope, claim.key) as Row | undefined;
          if (row !== undefined) {
            const answered = row.status !== null && row.body !== null;
            if (row.expires_at > claim.now && (answered || row.lease_expires_at > claim.now)) {
              return {
                status: "held",
                fingerprint: row.fingerprint,
                answer: answered ? { status: Number(row.status), body: row.body! } : undefined,
              };
            }
            remove.run(row.seq);
          }
          insert.run(
            claim.scope,
            claim.key,
            claim.fingerprint,
            claim.expiresAt,
            claim.leaseExpiresAt,
          );
          const inScope = count(countScope, claim.scope);
          if (inScope > claim.maxPerScope) trimScope.run(claim.scope, inScope - claim.maxPerScope);
          const total = count(countAll);
          if (total > claim.maxTotal) trimAll.run(total - claim.maxTotal);
          return { status: "claimed" };
        })
      ).then((result): IdempotencyClaimResult | Promise<IdempotencyClaimResult> =>
        // A kept answer may be this batch's own: it is replayed once committed, like any read.
        result.status === "held" ? db.read(() => result) : result
      ),
    settleIdempotencyKey: (scope, key, settled) =>
      db.run(() => {
        if (settled === undefined) release.run(scope, key);
        else answer.run(settled.status, settled.body, scope, key);
      }),
    pruneIdempotencyKeys: (now, limit) => db.run(() => Number(prune.run(now, limit).changes)),
  };
}
