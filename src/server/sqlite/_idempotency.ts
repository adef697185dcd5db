/**
 * The idempotency part of {@linkcode SqliteStore}. Rows are appended to
 * `idempotency_claims` (see `_idempotency_layout.ts`), each written once
 * with its answer when the request settles in its claim's batch, and a later
 * settle or release touches the row by its number, so a keyed request
 * writes the table's newest page rather than a random page of a key index.
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
} from "../common/idempotency_store.ts";
import { type ClaimEntry, ClaimIndex } from "../common/_claim_index.ts";
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

/** What an unwritten claim's row will hold beyond its key and window. */
interface Unwritten {
  fingerprint: Uint8Array | string;
  leaseExpiresAt: number;
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

/** The settle each database's recording writes call, set up by {@linkcode sqliteIdempotency}. */
const settlers = new WeakMap<SqliteConnection, (settle: IdempotencySettlement) => void>();

/**
 * Prepares the settle a recording write runs in its own transaction (see
 * {@linkcode IdempotencySettlement}).
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
  const insert = db.prepare(
    `INSERT INTO idempotency_claims
       (scope_id, key, fingerprint, expires_at, lease_expires_at, status, body)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
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
  // A claim's row is written once, with its answer when the request settles in the claim's
  // batch (as nearly all do), rather than written and then updated; a claim still unanswered
  // at the commit is written then, unanswered, so other processes see it in flight. Written,
  // a key moves to the newest place, so the index stays in row order.
  const unwritten: Indexed[] = [];
  const write = (entry: Indexed, status: number | null, body: string | null): void => {
    const { expiresAt, claim } = entry.value;
    const seq = Number(
      insert.run(
        entry.scope,
        entry.key,
        claim!.fingerprint,
        expiresAt,
        claim!.leaseExpiresAt,
        status,
        body,
      ).lastInsertRowid,
    );
    indexRow(seq, entry.scope, entry.key, expiresAt);
  };
  const settleEntry = (entry: Indexed, status: number, body: string): void => {
    if (entry.value.seq === 0) write(entry, status, body);
    else answer.run(status, body, entry.value.seq);
  };
  // Keys forgotten at the total bound are the oldest, so their rows are all numbered below the
  // oldest row kept: one range delete rather than a statement per claim, once they fill whole
  // pages (at most 1/64 of the bound and 1,024 rows past it), which SQLite frees for less.
  const removeBelow = db.prepare("DELETE FROM idempotency_claims WHERE seq < ?");
  let trimmed = 0;
  let trimSlack = 0;
  db.batchState({
    flush: () => {
      for (const entry of unwritten) {
        if (index.get(entry.scope, entry.key) === entry) write(entry, null, null);
      }
      unwritten.length = 0;
      if (trimmed === 0 || trimmed <= trimSlack) return;
      trimmed = 0;
      removeBelow.run(index.oldest()?.value.seq ?? lastSeq + 1);
    },
    discard: () => {
      unwritten.length = 0;
      trimmed = 0;
      stale = true;
    },
  });
  const forget = (entry: Indexed): void => {
    if (entry.value.seq !== 0) remove.run(entry.value.seq);
    index.remove(entry);
  };
  settlers.set(db, (settle) => {
    sync();
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
            // Claimed in this batch and not answered yet.
            if (entry!.value.expiresAt > claim.now && mine.leaseExpiresAt > claim.now) {
              return {
                status: "held",
                fingerprint: unpackFingerprint(mine.fingerprint),
                answer: undefined,
              };
            }
          } else if (entry !== undefined) {
            const row = read.get(entry.value.seq) as Row | undefined;
            if (row === undefined) {
              // Deleted by another process (released, pruned or forgotten at a bound).
              index.remove(entry);
              entry = undefined;
            } else {
              const answered = row.status !== null && row.body !== null;
              if (row.expires_at > claim.now && (answered || row.lease_expires_at > claim.now)) {
                return {
                  status: "held",
                  fingerprint: unpackFingerprint(row.fingerprint),
                  answer: answered ? { status: Number(row.status), body: row.body! } : undefined,
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
