/**
 * The idempotency part of {@linkcode SqliteStore}. Rows are appended to
 * `idempotency_claims` (see `_idempotency_layout.ts`) at the commit of
 * their claim's batch, all of the batch's in one statement, each with its
 * answer when the request settled in that batch; a later settle or release
 * touches the row by its number. A keyed request so writes the table's
 * newest page rather than a random page of a key index.
 * Which key has which row lives in memory (`../common/_claim_index.ts`), at
 * most `idempotencyMaxKeys` rows of a few hundred bytes.
 *
 * Every claim runs in a write batch, under SQLite's write lock, so no other
 * process commits meanwhile: a batch that sees `PRAGMA data_version` moved
 * first reads the rows numbered after the last it knows, and a key found in
 * memory is read back by its number, so a row another process settled,
 * released or deleted is seen as it stands. Two processes on one file then
 * never both claim a key.
 *
 * @module
 */

import { InvalidArgumentError } from "../../core/errors.ts";
import type {
  IdempotencyClaim,
  IdempotencyClaimResult,
  IdempotencySettlement,
  IdempotencyStore,
  IdempotentAnswer,
} from "../common/idempotency_store.ts";
import { type ClaimEntry, ClaimIndex } from "../common/_claim_index.ts";
import type { SQLInputValue, StatementSync } from "node:sqlite";
import type { SqliteConnection } from "./_connection.ts";
import {
  createIdempotencyTable,
  packFingerprint,
  scopeId,
  unpackFingerprint,
} from "./_idempotency_layout.ts";

interface Row {
  fingerprint: Uint8Array | string;
  expires_at: number;
  lease_expires_at: number;
  status: number | null;
  body: string | null;
}

interface IndexedRow {
  seq: number | bigint;
  scope_id: string;
  key: string;
  expires_at: number | bigint;
}

/**
 * A key's row as the index keeps it: its number, and the end of its window;
 * a claim of the open batch not written yet has number 0 and what its row
 * will hold.
 */
type Indexed = ClaimEntry<{ seq: number; expiresAt: number; claim?: Unwritten }>;

/** What an unwritten claim's row will hold beyond its key and window; its answer once settled. */
interface Unwritten {
  fingerprint: Uint8Array | string;
  leaseExpiresAt: number;
  status?: number;
  body?: string;
}

/** Whether a claim's row can be written: text where text goes, whole numbers for the times. */
function validClaim(claim: IdempotencyClaim): boolean {
  return typeof claim.scope === "string" && typeof claim.key === "string" &&
    typeof claim.fingerprint === "string" && Number.isSafeInteger(claim.expiresAt) &&
    Number.isSafeInteger(claim.leaseExpiresAt);
}

function invalidClaim(): InvalidArgumentError {
  return new InvalidArgumentError(
    "claim",
    "Cannot claim the idempotency key as 'scope', 'key' and 'fingerprint' must be strings and 'expiresAt' and 'leaseExpiresAt' safe integers: pass a valid claim",
  );
}

/** The most claims one statement writes at a commit. */
const ROWS_PER_INSERT = 32;

/** The settle each database's recording writes call, set up by {@linkcode sqliteIdempotency}. */
const settlers = new WeakMap<SqliteConnection, (settle: IdempotencySettlement) => void>();

/**
 * Prepares the settle a recording write runs in its own transaction (see
 * {@linkcode IdempotencySettlement}). Call it last in the write, after every
 * statement that may throw: the answer of a key claimed in the open batch is
 * kept in memory until the commit, where the write's savepoint cannot undo it.
 *
 * @param db The open database, whose idempotency part is built first.
 * @returns A function to call inside the write's `db.run`.
 */
export function idempotencySettler(
  db: SqliteConnection,
): (settle: IdempotencySettlement | undefined) => void {
  return (settle) => {
    if (settle !== undefined) settlers.get(db)!(settle);
  };
}

/**
 * Creates the table when missing (upgrading an earlier layout) and builds
 * the idempotency part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteIdempotency(db: SqliteConnection): IdempotencyStore {
  createIdempotencyTable(db);
  // A claim still unanswered when the database opens belonged to a request that died with its
  // process (a crash, a kill -9): its lease would refuse that request's retries for 30 s, and
  // nothing was recorded for it, since the answer commits with the write it acknowledges.
  // (A second process on the same file loses its in-flight claims here, for a few ms.)
  db.transaction(() => db.prepare("DELETE FROM idempotency_claims WHERE status IS NULL").run());

  const after = db.prepare(
    "SELECT seq, scope_id, key, expires_at FROM idempotency_claims WHERE seq > ? ORDER BY seq",
  );
  const read = db.prepare(
    `SELECT fingerprint, expires_at, lease_expires_at, status, body FROM idempotency_claims
       WHERE seq = ?`,
  );
  // One statement per commit for up to ROWS_PER_INSERT rows, prepared for each count once.
  const inserts: StatementSync[] = [];
  const insertOf = (rows: number): StatementSync =>
    inserts[rows] ??= db.prepare(
      `INSERT INTO idempotency_claims
         (scope_id, key, fingerprint, expires_at, lease_expires_at, status, body)
       VALUES ${Array(rows).fill("(?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
    );
  const remove = db.prepare("DELETE FROM idempotency_claims WHERE seq = ?");
  const answer = db.prepare("UPDATE idempotency_claims SET status = ?, body = ? WHERE seq = ?");

  const index = new ClaimIndex<Indexed["value"]>();
  // The highest row number read or written: rows committed by others since are numbered above.
  let lastSeq = 0;
  const indexRow = (seq: number, id: string, key: string, expiresAt: number): void => {
    if (seq > lastSeq) lastSeq = seq;
    const known = index.get(id, key);
    // A row read twice, or older than the key's row already known, changes nothing.
    if (known === undefined || known.value.seq < seq) index.add(id, key, { seq, expiresAt });
  };
  const readAfter = (seq: number): void => {
    for (const row of after.all(seq) as unknown as IndexedRow[]) {
      indexRow(Number(row.seq), row.scope_id, row.key, Number(row.expires_at));
    }
  };
  // Read whole at the first write, and again after a batch rolls back.
  let stale = true;
  let syncedBatch = 0;
  let version = NaN;
  // Called first in every write: the batch holds the write lock, so what it reads stays true.
  const sync = (): void => {
    if (stale) {
      index.clear();
      lastSeq = 0;
      readAfter(0);
      stale = false;
    } else if (db.openBatch === syncedBatch) return;
    syncedBatch = db.openBatch;
    const current = db.dataVersion();
    if (current !== version) readAfter(lastSeq);
    version = current;
  };
  // A claim's row is written once, at its batch's commit, with its answer when the request
  // settled in the batch (as nearly all do) rather than written and then updated, and with the
  // batch's other claims in one statement; one still unanswered is written unanswered, so other
  // processes see it in flight. Written, a key moves to the newest place, so the index stays in
  // row order.
  const unwritten: Indexed[] = [];
  const values: unknown[] = [];
  const writeUnwritten = (): void => {
    let live = 0;
    for (const entry of unwritten) {
      if (index.get(entry.scope, entry.key) === entry) unwritten[live++] = entry;
    }
    for (let from = 0; from < live; from += ROWS_PER_INSERT) {
      const rows = Math.min(ROWS_PER_INSERT, live - from);
      values.length = 0;
      for (let i = from; i < from + rows; i++) {
        const { scope, key, value: { expiresAt, claim } } = unwritten[i];
        values.push(
          scope,
          key,
          claim!.fingerprint,
          expiresAt,
          claim!.leaseExpiresAt,
          claim!.status ?? null,
          claim!.body ?? null,
        );
      }
      // One statement's rows take consecutive numbers, in order, under the write lock.
      const last = Number(insertOf(rows).run(...(values as SQLInputValue[])).lastInsertRowid);
      for (let i = 0; i < rows; i++) {
        const { scope, key, value } = unwritten[from + i];
        indexRow(last - rows + 1 + i, scope, key, value.expiresAt);
      }
    }
    unwritten.length = 0;
  };
  // The answers of keys written in an earlier batch, also written at the commit.
  const lateAnswers = new Map<Indexed, IdempotentAnswer>();
  // Kept in memory until the commit, so a settle runs no statement and cannot fail: it comes
  // last in a recording write, which then needs no savepoint for it, and nothing after it in
  // the write can throw and leave an answer for what was not recorded.
  const settleEntry = (entry: Indexed, status: number, body: string): void => {
    const claim = entry.value.claim;
    if (claim === undefined) lateAnswers.set(entry, { status, body });
    else {
      claim.status = status;
      claim.body = body;
    }
  };
  // Keys forgotten at the total bound are the oldest, so their rows are all numbered below the
  // oldest row kept: one range delete rather than a statement per claim, once they fill whole
  // pages (at most 1/64 of the bound and 1,024 rows past it), which SQLite frees for less.
  const removeBelow = db.prepare("DELETE FROM idempotency_claims WHERE seq < ?");
  let trimmed = 0;
  let trimSlack = 0;
  db.batchState({
    flush: () => {
      writeUnwritten();
      for (const [entry, { status, body }] of lateAnswers) {
        answer.run(status, body, entry.value.seq);
      }
      lateAnswers.clear();
      if (trimmed === 0 || trimmed <= trimSlack) return;
      trimmed = 0;
      removeBelow.run(index.oldest()?.value.seq ?? lastSeq + 1);
    },
    discard: () => {
      unwritten.length = 0;
      lateAnswers.clear();
      trimmed = 0;
      stale = true;
    },
  });
  const forget = (entry: Indexed): void => {
    if (entry.value.seq !== 0) remove.run(entry.value.seq);
    index.remove(entry);
    lateAnswers.delete(entry);
  };
  // No sync: it may read, and this runs last in a recording write, where nothing may throw. A
  // key claimed here is in the index; a row another process took over since is left alone.
  settlers.set(db, (settle) => {
    const entry = index.get(scopeId(settle.scope), settle.key);
    if (entry !== undefined) settleEntry(entry, settle.answer.status, settle.answer.body);
  });

  return {
    // The claim settles before its commit, so the record and the answer that follow join its
    // batch: one commit per request. No claim outlives a crash anyway (see above). A kept
    // answer may be this batch's own: it is replayed once committed, like any read.
    claimIdempotencyKey: (claim) =>
      // Checked now: its row may be written only at the commit, where a refusal would undo
      // every write of the batch.
      !validClaim(claim) ? Promise.reject(invalidClaim()) : db.runAhead(
        (): IdempotencyClaimResult => {
          sync();
          const id = scopeId(claim.scope);
          let entry = index.get(id, claim.key);
          const mine = entry?.value.claim;
          if (mine !== undefined) {
            // Claimed in this batch, so not written yet.
            const answered = mine.status !== undefined;
            if (
              entry!.value.expiresAt > claim.now && (answered || mine.leaseExpiresAt > claim.now)
            ) {
              return {
                status: "held",
                fingerprint: unpackFingerprint(mine.fingerprint),
                answer: answered ? { status: mine.status!, body: mine.body! } : undefined,
              };
            }
          } else if (entry !== undefined) {
            const row = read.get(entry.value.seq) as Row | undefined;
            if (row === undefined) {
              // Deleted by another process (released, pruned or forgotten at a bound).
              index.remove(entry);
              entry = undefined;
            } else {
              const late = lateAnswers.get(entry);
              const answered = late !== undefined || (row.status !== null && row.body !== null);
              if (row.expires_at > claim.now && (answered || row.lease_expires_at > claim.now)) {
                return {
                  status: "held",
                  fingerprint: unpackFingerprint(row.fingerprint),
                  answer: late ??
                    (answered ? { status: Number(row.status), body: row.body! } : undefined),
                };
              }
            }
          }
          // Room first, then the row: each step leaves memory and rows agreeing (but for the rows
          // beyond the total bound, which wait for their range delete), so a statement that
          // throws undoes nothing another needs (what it forgot was due to go), and no savepoint
          // is needed.
          if (entry !== undefined) forget(entry);
          while (index.scopeSize(id) >= claim.maxPerScope && index.scopeSize(id) > 0) {
            forget(index.oldestOf(id)!);
          }
          while (index.size >= claim.maxTotal && index.size > 0) {
            index.remove(index.oldest()!);
            trimmed++;
            trimSlack = Math.min(1024, Math.floor(claim.maxTotal / 64));
          }
          unwritten.push(index.add(id, claim.key, {
            seq: 0,
            expiresAt: claim.expiresAt,
            claim: {
              fingerprint: packFingerprint(claim.fingerprint),
              leaseExpiresAt: claim.leaseExpiresAt,
            },
          }));
          return { status: "claimed" };
        },
        false,
        (result) => result.status === "held",
      ),
    settleIdempotencyKey: (scope, key, settled) =>
      db.run(() => {
        sync();
        const entry = index.get(scopeId(scope), key);
        if (entry === undefined) return;
        if (settled !== undefined) settleEntry(entry, settled.status, settled.body);
        else forget(entry);
      }, false),
    // Through the index, oldest first: every row is in it once this process has written since
    // the row's commit, and under one window setting the oldest rows are the first to end.
    pruneIdempotencyKeys: (now, limit) =>
      db.run(() => {
        sync();
        let removed = 0;
        let entry = index.oldest();
        // A bounded walk: rows kept under a longer window (before a restart) wait for a bound.
        for (let walked = 0; entry !== undefined && removed < limit && walked < 4 * limit;) {
          const next = entry.newer;
          if (entry.value.expiresAt < now) {
            forget(entry);
            removed++;
          }
          entry = next;
          walked++;
        }
        return removed;
      }, false),
  };
}
