/**
 * The idempotency part of {@linkcode SqliteStore}: the `idempotency_keys`
 * table, one row per scope and key, numbered in claim order so the oldest
 * rows of a scope, or of the table, are the first to go at a bound.
 *
 * @module
 */

import type { IdempotencyClaimResult, IdempotencyStore } from "../common/idempotency_store.ts";
import type { SqliteConnection } from "./_connection.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency_keys (
  seq INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  status INTEGER,
  body TEXT,
  UNIQUE (scope, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_scope ON idempotency_keys (scope, seq);
CREATE INDEX IF NOT EXISTS idempotency_keys_expires_at ON idempotency_keys (expires_at);
`;

interface Row {
  seq: number;
  fingerprint: string;
  expires_at: number;
  lease_expires_at: number;
  status: number | null;
  body: string | null;
}

/**
 * Creates the table when missing and builds the idempotency part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteIdempotency(db: SqliteConnection): IdempotencyStore {
  db.schema(SCHEMA);
  const find = db.prepare(
    "SELECT seq, fingerprint, expires_at, lease_expires_at, status, body FROM idempotency_keys WHERE scope = ? AND key = ?",
  );
  const remove = db.prepare("DELETE FROM idempotency_keys WHERE seq = ?");
  const insert = db.prepare(
    "INSERT INTO idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at) VALUES (?, ?, ?, ?, ?)",
  );
  const countScope = db.prepare("SELECT COUNT(*) AS n FROM idempotency_keys WHERE scope = ?");
  const trimScope = db.prepare(
    "DELETE FROM idempotency_keys WHERE seq IN (SELECT seq FROM idempotency_keys WHERE scope = ? ORDER BY seq LIMIT ?)",
  );
  const countAll = db.prepare("SELECT COUNT(*) AS n FROM idempotency_keys");
  const trimAll = db.prepare(
    "DELETE FROM idempotency_keys WHERE seq IN (SELECT seq FROM idempotency_keys ORDER BY seq LIMIT ?)",
  );
  const answer = db.prepare(
    "UPDATE idempotency_keys SET status = ?, body = ? WHERE scope = ? AND key = ?",
  );
  const release = db.prepare("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?");
  const prune = db.prepare(
    "DELETE FROM idempotency_keys WHERE expires_at < ? OR (status IS NULL AND lease_expires_at < ?)",
  );
  const count = (statement: ReturnType<SqliteConnection["prepare"]>, ...args: string[]) =>
    Number((statement.get(...args) as { n: number | bigint }).n);
  return {
    claimIdempotencyKey: (claim) =>
      db.run(() =>
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
      ),
    settleIdempotencyKey: (scope, key, settled) =>
      db.run(() => {
        if (settled === undefined) release.run(scope, key);
        else answer.run(settled.status, settled.body, scope, key);
      }),
    pruneIdempotencyKeys: (now) => db.run(() => void prune.run(now, now)),
  };
}
