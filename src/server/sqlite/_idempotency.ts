/**
 * The idempotency part of {@linkcode SqliteStore}: the `idempotency_keys`
 * table, one row per scope and key, numbered in claim order so the oldest
 * rows of a scope, or of the table, are the first to go at a bound.
 *
 * How many keys each scope holds, and the whole table (scope `''`), is kept
 * in `idempotency_counts`, so the bounds checked at every claim cost no
 * `COUNT`: a batch reads a scope's count the first time it meets it, keeps
 * it in memory while it holds the write lock (no other process writes
 * meanwhile), and writes the counts it changed once, just before its commit.
 *
 * @module
 */

import type {
  IdempotencyClaim,
  IdempotencyClaimResult,
  IdempotencySettlement,
  IdempotencyStore,
} from "../common/idempotency_store.ts";
import type { SqliteConnection } from "./_connection.ts";
import { IDEMPOTENCY_KEYS, sqliteScript } from "../_sqlite_schema.ts";

const SCHEMA = sqliteScript(IDEMPOTENCY_KEYS);

const COUNTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency_counts (
  scope TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Creates the counts from the keys a database from before them holds, and
 * drops the triggers that kept them per row before the counts moved to
 * each batch, in one transaction.
 */
function createCounts(db: SqliteConnection): void {
  db.transaction(() => {
    const fresh = db.prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'idempotency_counts'",
    ).get() === undefined;
    db.schema(`${COUNTS_SCHEMA}
      DROP TRIGGER IF EXISTS idempotency_keys_counted;
      DROP TRIGGER IF EXISTS idempotency_keys_uncounted;`);
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

/** The values of a claim's new row. */
function claimValues(claim: IdempotencyClaim): [string, string, string, number, number] {
  return [claim.scope, claim.key, claim.fingerprint, claim.expiresAt, claim.leaseExpiresAt];
}

/** The scope of each row a `DELETE … RETURNING scope` removed. */
type Removed = { scope: string }[];

/**
 * Creates the table when missing and builds the idempotency part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteIdempotency(db: SqliteConnection): IdempotencyStore {
  db.schema(SCHEMA);
  createCounts(db);
  const readCount = db.prepare("SELECT n FROM idempotency_counts WHERE scope = ?");
  const writeCount = db.prepare(
    "INSERT INTO idempotency_counts (scope, n) VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET n = excluded.n",
  );
  const dropCount = db.prepare("DELETE FROM idempotency_counts WHERE scope = ?");

  // The counts the open batch read, as they stand with its writes, and what it read first.
  const counts = new Map<string, number>();
  const loaded = new Map<string, number>();
  const countOf = (scope: string): number => {
    let n = counts.get(scope);
    if (n === undefined) {
      const row = readCount.get(scope) as { n: number | bigint } | undefined;
      n = row === undefined ? 0 : Number(row.n);
      counts.set(scope, n);
      loaded.set(scope, n);
    }
    return n;
  };
  const adjust = (scope: string, by: number): void => {
    counts.set(scope, countOf(scope) + by);
    counts.set("", countOf("") + by);
  };
  const forget = (removed: Removed): void => {
    for (const row of removed) adjust(row.scope, -1);
  };
  db.batchState({
    flush: () => {
      for (const [scope, n] of counts) {
        if (n === loaded.get(scope)) continue;
        // The table's own row stays at 0; a scope's row goes with its last key.
        if (n === 0 && scope !== "") dropCount.run(scope);
        else writeCount.run(scope, n);
      }
      counts.clear();
      loaded.clear();
    },
    discard: () => {
      counts.clear();
      loaded.clear();
    },
  });

  // A claim still unanswered when the database opens belonged to a request that died with its
  // process (a crash, a kill -9): its lease would refuse that request's retries for 30 s, and
  // nothing was recorded for it, since the answer commits with the write it acknowledges.
  // (A second process on the same file loses its in-flight claims here, for a few ms.)
  db.transaction(() => {
    const abandoned = db.prepare(
      "DELETE FROM idempotency_keys WHERE status IS NULL RETURNING scope",
    ).all() as Removed;
    const uncount = db.prepare("UPDATE idempotency_counts SET n = n - ? WHERE scope = ?");
    const byScope = new Map<string, number>();
    for (const { scope } of abandoned) byScope.set(scope, (byScope.get(scope) ?? 0) + 1);
    for (const [scope, n] of byScope) uncount.run(n, scope);
    if (abandoned.length > 0) uncount.run(abandoned.length, "");
  });

  const find = db.prepare(
    "SELECT seq, fingerprint, expires_at, lease_expires_at, status, body FROM idempotency_keys WHERE scope = ? AND key = ?",
  );
  const remove = db.prepare("DELETE FROM idempotency_keys WHERE seq = ?");
  const insert = db.prepare(
    "INSERT INTO idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at) VALUES (?, ?, ?, ?, ?)",
  );
  const tryInsert = db.prepare(
    `INSERT INTO idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING`,
  );
  const trimScope = db.prepare(
    "DELETE FROM idempotency_keys WHERE seq IN (SELECT seq FROM idempotency_keys WHERE scope = ? ORDER BY seq LIMIT ?)",
  );
  const trimAll = db.prepare(
    "DELETE FROM idempotency_keys WHERE seq IN (SELECT seq FROM idempotency_keys ORDER BY seq LIMIT ?) RETURNING scope",
  );
  const answer = db.prepare(ANSWER);
  const release = db.prepare("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?");
  // By the expires_at index only: an unanswered row past its lease is replaced by the next claim.
  const prune = db.prepare(
    `DELETE FROM idempotency_keys WHERE seq IN
       (SELECT seq FROM idempotency_keys WHERE expires_at < ? LIMIT ?) RETURNING scope`,
  );
  return {
    // The claim settles before its commit, so the record and the answer that follow join its
    // batch: one commit per request. No claim outlives a crash anyway (see above). A kept
    // answer may be this batch's own: it is replayed once committed, like any read.
    claimIdempotencyKey: (claim) =>
      db.runAhead(
        (): IdempotencyClaimResult => {
          const { scope } = claim;
          // The common case, a new key within both bounds: one insert, which leaves a key
          // already there alone (then it is looked at below).
          if (
            countOf(scope) < claim.maxPerScope && countOf("") < claim.maxTotal &&
            Number(tryInsert.run(...claimValues(claim)).changes) === 1
          ) {
            adjust(scope, 1);
            return { status: "claimed" };
          }
          const row = find.get(scope, claim.key) as Row | undefined;
          if (row !== undefined) {
            const answered = row.status !== null && row.body !== null;
            if (row.expires_at > claim.now && (answered || row.lease_expires_at > claim.now)) {
              return {
                status: "held",
                fingerprint: row.fingerprint,
                answer: answered ? { status: Number(row.status), body: row.body! } : undefined,
              };
            }
          }
          // The counts as they will stand with the new row (a replaced row takes its place).
          const inScope = countOf(scope) + (row === undefined ? 1 : 0);
          const total = countOf("") + (row === undefined ? 1 : 0);
          const claimIt = (): void => {
            if (row !== undefined) remove.run(row.seq);
            insert.run(...claimValues(claim));
            let trimmed = 0;
            if (inScope > claim.maxPerScope) {
              trimmed = Number(trimScope.run(scope, inScope - claim.maxPerScope).changes);
            }
            const evicted = total - trimmed > claim.maxTotal
              ? trimAll.all(total - trimmed - claim.maxTotal) as Removed
              : [];
            // Only once every statement ran: a throw leaves the counts as the savepoint leaves the rows.
            if (row === undefined) adjust(scope, 1);
            if (trimmed > 0) adjust(scope, -trimmed);
            forget(evicted);
          };
          // A replacement or a trim changes several rows: a savepoint keeps them together.
          db.atomic(claimIt);
          return { status: "claimed" };
        },
        false,
        (result) => result.status === "held",
      ),
    settleIdempotencyKey: (scope, key, settled) =>
      db.run(() => {
        if (settled !== undefined) answer.run(settled.status, settled.body, scope, key);
        else if (Number(release.run(scope, key).changes) > 0) adjust(scope, -1);
      }, false),
    pruneIdempotencyKeys: (now, limit) =>
      db.run(() => {
        const removed = prune.all(now, limit) as Removed;
        forget(removed);
        return removed.length;
      }, false),
  };
}
