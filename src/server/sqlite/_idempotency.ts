/**
 * The idempotency part of {@linkcode SqliteStore}: the `idempotency_keys`
 * table, one row per scope and key, numbered in claim order so the oldest
 * rows of a scope, or of the table, are the first to go at a bound.
 *
 * A row keeps its scope as a fixed-size digest (`scope_id`, 22 characters
 * of base64url: the first 16 bytes of its SHA-256) rather than its text, and
 * a hex fingerprint as its 32 bytes: the scope is in the table and both
 * indexes by scope, so each keyed write touches fewer pages. A database
 * written with the scope text is rewritten on open, in one transaction.
 *
 * How many keys each scope holds, and the whole table (scope id `''`), is
 * kept in `idempotency_scope_counts`, so the bounds checked at every claim
 * cost no `COUNT`: a batch reads a scope's count the first time it meets
 * it, keeps it in memory while it holds the write lock (no other process
 * writes meanwhile), and writes the counts it changed once, just before its
 * commit.
 *
 * @module
 */

import { base64urlnopad, hex } from "@scure/base";
import type {
  IdempotencyClaim,
  IdempotencyClaimResult,
  IdempotencySettlement,
  IdempotencyStore,
} from "../common/idempotency_store.ts";
import { sha256TextBytes } from "../_sha256_text.ts";
import type { SqliteConnection } from "./_connection.ts";

// The columns and index names differ from the text layout's (D1's, `IDEMPOTENCY_KEYS` in
// `../_sqlite_schema.ts`), so a process still running that layout fails loudly on this file.
const TABLE = `
CREATE TABLE IF NOT EXISTS idempotency_keys (
  seq INTEGER PRIMARY KEY,
  scope_id TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint BLOB NOT NULL,
  expires_at INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  status INTEGER,
  body TEXT
);
CREATE TABLE IF NOT EXISTS idempotency_scope_counts (
  scope_id TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) WITHOUT ROWID;
`;

// Created after an upgrade's rows are in: building an index at once is quicker than row by row.
const INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS idempotency_keys_scope_key ON idempotency_keys (scope_id, key);
CREATE INDEX IF NOT EXISTS idempotency_keys_scope_seq ON idempotency_keys (scope_id, seq);
CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON idempotency_keys (expires_at);
`;

/** The scope ids met lately, so a claim and its settle hash the scope once. */
const scopeIds = new Map<string, string>();
const SCOPE_IDS_KEPT = 4096;

/**
 * The fixed-size id a scope is stored under: the first 16 bytes of its
 * SHA-256, as base64url. Never `''`, the whole table's count.
 */
function scopeId(scope: string): string {
  let id = scopeIds.get(scope);
  if (id === undefined) {
    id = base64urlnopad.encode(sha256TextBytes(scope).subarray(0, 16));
    if (scopeIds.size >= SCOPE_IDS_KEPT) scopeIds.clear();
    scopeIds.set(scope, id);
  }
  return id;
}

const HEX_DIGEST = /^[0-9a-f]{64}$/;

/** A fingerprint as stored: a hex digest (the server's) as its bytes, any other text as it is. */
function packFingerprint(fingerprint: string): Uint8Array | string {
  return HEX_DIGEST.test(fingerprint) ? hex.decode(fingerprint) : fingerprint;
}

/** A stored fingerprint as the text it was given as. */
function unpackFingerprint(stored: Uint8Array | string): string {
  return typeof stored === "string" ? stored : hex.encode(stored);
}

/** A row of the text layout, as the store wrote it before `scope_id`. */
interface TextRow {
  seq: number | bigint;
  scope: string;
  key: string;
  fingerprint: string;
  expires_at: number | bigint;
  lease_expires_at: number | bigint;
  status: number | bigint | null;
  body: string | null;
}

/**
 * Creates the tables when missing, in one transaction with the upgrade of a
 * database written with the scope text: its rows are rewritten with their
 * scope ids, keeping their numbers and answers, so a retry whose first
 * attempt it kept is still recognised; its counts, and the triggers that
 * kept them before the counts moved to each batch, go with the old table.
 * The counts are then counted afresh from the rows, once.
 */
function createTables(db: SqliteConnection): void {
  db.transaction(() => {
    const textLayout = db.prepare(
      "SELECT 1 FROM pragma_table_info('idempotency_keys') WHERE name = 'scope'",
    ).get() !== undefined;
    const counted = db.prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'idempotency_scope_counts'",
    ).get() !== undefined;
    let rows: TextRow[] = [];
    if (textLayout) {
      rows = db.prepare(
        `SELECT seq, scope, key, fingerprint, expires_at, lease_expires_at, status, body
           FROM idempotency_keys ORDER BY seq`,
      ).all() as unknown as TextRow[];
      // Its indexes and triggers go with it.
      db.schema("DROP TABLE idempotency_keys; DROP TABLE IF EXISTS idempotency_counts;");
    }
    db.schema(TABLE);
    const insert = db.prepare(
      `INSERT INTO idempotency_keys
         (seq, scope_id, key, fingerprint, expires_at, lease_expires_at, status, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const row of rows) {
      insert.run(
        row.seq,
        scopeId(row.scope),
        row.key,
        packFingerprint(row.fingerprint),
        row.expires_at,
        row.lease_expires_at,
        row.status,
        row.body,
      );
    }
    db.schema(INDEXES);
    if (counted && !textLayout) return;
    db.schema(`
      DELETE FROM idempotency_scope_counts;
      INSERT INTO idempotency_scope_counts (scope_id, n)
        SELECT scope_id, COUNT(*) FROM idempotency_keys GROUP BY scope_id;
      INSERT INTO idempotency_scope_counts (scope_id, n) SELECT '', COUNT(*) FROM idempotency_keys;
    `);
  });
}

interface Row {
  seq: number;
  fingerprint: Uint8Array | string;
  expires_at: number;
  lease_expires_at: number;
  status: number | null;
  body: string | null;
}

const ANSWER = "UPDATE idempotency_keys SET status = ?, body = ? WHERE scope_id = ? AND key = ?";

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
      answer.run(settle.answer.status, settle.answer.body, scopeId(settle.scope), settle.key);
    }
  };
}

/** The values of a claim's new row, under its scope id. */
function claimValues(
  id: string,
  claim: IdempotencyClaim,
): [string, string, Uint8Array | string, number, number] {
  return [id, claim.key, packFingerprint(claim.fingerprint), claim.expiresAt, claim.leaseExpiresAt];
}

/** The scope id of each row a `DELETE … RETURNING scope_id` removed. */
type Removed = { scope_id: string }[];

/**
 * Creates the tables when missing (upgrading a database written with the
 * scope text) and builds the idempotency part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteIdempotency(db: SqliteConnection): IdempotencyStore {
  createTables(db);
  const readCount = db.prepare("SELECT n FROM idempotency_scope_counts WHERE scope_id = ?");
  const writeCount = db.prepare(
    `INSERT INTO idempotency_scope_counts (scope_id, n) VALUES (?, ?)
       ON CONFLICT (scope_id) DO UPDATE SET n = excluded.n`,
  );
  const dropCount = db.prepare("DELETE FROM idempotency_scope_counts WHERE scope_id = ?");

  // The counts the open batch read, by scope id, as they stand with its writes, and what it read first.
  const counts = new Map<string, number>();
  const loaded = new Map<string, number>();
  const countOf = (id: string): number => {
    let n = counts.get(id);
    if (n === undefined) {
      const row = readCount.get(id) as { n: number | bigint } | undefined;
      n = row === undefined ? 0 : Number(row.n);
      counts.set(id, n);
      loaded.set(id, n);
    }
    return n;
  };
  const adjust = (id: string, by: number): void => {
    counts.set(id, countOf(id) + by);
    counts.set("", countOf("") + by);
  };
  const forget = (removed: Removed): void => {
    for (const row of removed) adjust(row.scope_id, -1);
  };
  db.batchState({
    flush: () => {
      for (const [id, n] of counts) {
        if (n === loaded.get(id)) continue;
        // The table's own row stays at 0; a scope's row goes with its last key.
        if (n === 0 && id !== "") dropCount.run(id);
        else writeCount.run(id, n);
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
      "DELETE FROM idempotency_keys WHERE status IS NULL RETURNING scope_id",
    ).all() as Removed;
    const uncount = db.prepare(
      "UPDATE idempotency_scope_counts SET n = n - ? WHERE scope_id = ?",
    );
    const byScope = new Map<string, number>();
    for (const { scope_id } of abandoned) byScope.set(scope_id, (byScope.get(scope_id) ?? 0) + 1);
    for (const [id, n] of byScope) uncount.run(n, id);
    if (abandoned.length > 0) uncount.run(abandoned.length, "");
  });

  const find = db.prepare(
    `SELECT seq, fingerprint, expires_at, lease_expires_at, status, body FROM idempotency_keys
       WHERE scope_id = ? AND key = ?`,
  );
  const remove = db.prepare("DELETE FROM idempotency_keys WHERE seq = ?");
  const insert = db.prepare(
    `INSERT INTO idempotency_keys (scope_id, key, fingerprint, expires_at, lease_expires_at)
       VALUES (?, ?, ?, ?, ?)`,
  );
  const tryInsert = db.prepare(
    `INSERT INTO idempotency_keys (scope_id, key, fingerprint, expires_at, lease_expires_at)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope_id, key) DO NOTHING`,
  );
  const trimScope = db.prepare(
    `DELETE FROM idempotency_keys WHERE seq IN
       (SELECT seq FROM idempotency_keys WHERE scope_id = ? ORDER BY seq LIMIT ?)`,
  );
  const trimAll = db.prepare(
    `DELETE FROM idempotency_keys WHERE seq IN
       (SELECT seq FROM idempotency_keys ORDER BY seq LIMIT ?) RETURNING scope_id`,
  );
  const answer = db.prepare(ANSWER);
  const release = db.prepare("DELETE FROM idempotency_keys WHERE scope_id = ? AND key = ?");
  // By the expires_at index only: an unanswered row past its lease is replaced by the next claim.
  const prune = db.prepare(
    `DELETE FROM idempotency_keys WHERE seq IN
       (SELECT seq FROM idempotency_keys WHERE expires_at < ? LIMIT ?) RETURNING scope_id`,
  );
  return {
    // The claim settles before its commit, so the record and the answer that follow join its
    // batch: one commit per request. No claim outlives a crash anyway (see above). A kept
    // answer may be this batch's own: it is replayed once committed, like any read.
    claimIdempotencyKey: (claim) =>
      db.runAhead(
        (): IdempotencyClaimResult => {
          const id = scopeId(claim.scope);
          // The common case, a new key within both bounds: one insert, which leaves a key
          // already there alone (then it is looked at below).
          if (
            countOf(id) < claim.maxPerScope && countOf("") < claim.maxTotal &&
            Number(tryInsert.run(...claimValues(id, claim)).changes) === 1
          ) {
            adjust(id, 1);
            return { status: "claimed" };
          }
          const row = find.get(id, claim.key) as Row | undefined;
          if (row !== undefined) {
            const answered = row.status !== null && row.body !== null;
            if (row.expires_at > claim.now && (answered || row.lease_expires_at > claim.now)) {
              return {
                status: "held",
                fingerprint: unpackFingerprint(row.fingerprint),
                answer: answered ? { status: Number(row.status), body: row.body! } : undefined,
              };
            }
          }
          // The counts as they will stand with the new row (a replaced row takes its place).
          const inScope = countOf(id) + (row === undefined ? 1 : 0);
          const total = countOf("") + (row === undefined ? 1 : 0);
          const claimIt = (): void => {
            if (row !== undefined) remove.run(row.seq);
            insert.run(...claimValues(id, claim));
            let trimmed = 0;
            if (inScope > claim.maxPerScope) {
              trimmed = Number(trimScope.run(id, inScope - claim.maxPerScope).changes);
            }
            const evicted = total - trimmed > claim.maxTotal
              ? trimAll.all(total - trimmed - claim.maxTotal) as Removed
              : [];
            // Only once every statement ran: a throw leaves the counts as the savepoint leaves the rows.
            if (row === undefined) adjust(id, 1);
            if (trimmed > 0) adjust(id, -trimmed);
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
        const id = scopeId(scope);
        if (settled !== undefined) answer.run(settled.status, settled.body, id, key);
        else if (Number(release.run(id, key).changes) > 0) adjust(id, -1);
      }, false),
    pruneIdempotencyKeys: (now, limit) =>
      db.run(() => {
        const removed = prune.all(now, limit) as Removed;
        forget(removed);
        return removed.length;
      }, false),
  };
}
