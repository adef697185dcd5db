/**
 * The `idempotency_claims` table of {@linkcode SqliteStore}, and the upgrade
 * from the two layouts before it: rows appended in claim order under a
 * number SQLite never reuses, with no index but that number (the store
 * keeps one by key in memory, and prunes through it), a fixed-size scope id
 * rather than the scope text, and a hex fingerprint kept as its 32 bytes.
 *
 * @module
 */

import { base64urlnopad, hex } from "@scure/base";
import { sha256TextBytes } from "../_sha256_text.ts";
import type { SqliteConnection } from "./_connection.ts";

// AUTOINCREMENT: a number is never given twice, even after the newest row is deleted, so a
// process that has read every row up to n finds every row committed since by `seq > n`.
const TABLE = `
CREATE TABLE IF NOT EXISTS idempotency_claims (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  scope_id TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint BLOB NOT NULL,
  expires_at INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  status INTEGER,
  body TEXT
);
`;

/** The scope ids met lately, so a claim and its settle hash the scope once. */
const scopeIds = new Map<string, string>();
const SCOPE_IDS_KEPT = 4096;

/**
 * The fixed-size id a scope is stored under: the first 16 bytes of its
 * SHA-256, as base64url (22 characters).
 *
 * @param scope The scope.
 * @returns Its id.
 */
export function scopeId(scope: string): string {
  let id = scopeIds.get(scope);
  if (id === undefined) {
    id = base64urlnopad.encode(sha256TextBytes(scope).subarray(0, 16));
    if (scopeIds.size >= SCOPE_IDS_KEPT) scopeIds.clear();
    scopeIds.set(scope, id);
  }
  return id;
}

const HEX_DIGEST = /^[0-9a-f]{64}$/;

/**
 * A fingerprint as stored: a hex digest (the server's) as its bytes, any other text as it is.
 *
 * @param fingerprint The fingerprint.
 * @returns What the row keeps.
 */
export function packFingerprint(fingerprint: string): Uint8Array | string {
  return HEX_DIGEST.test(fingerprint) ? hex.decode(fingerprint) : fingerprint;
}

/**
 * A stored fingerprint as the text it was given as.
 *
 * @param stored What the row keeps.
 * @returns The fingerprint.
 */
export function unpackFingerprint(stored: Uint8Array | string): string {
  return typeof stored === "string" ? stored : hex.encode(stored);
}

/** A row of an earlier `idempotency_keys` layout: the scope as text, or as its id. */
interface EarlierRow {
  scope?: string;
  scope_id?: string;
  key: string;
  fingerprint: Uint8Array | string;
  expires_at: number | bigint;
  lease_expires_at: number | bigint;
  status: number | bigint | null;
  body: string | null;
}

/**
 * Creates the table when missing, in one transaction with the upgrade of a
 * database written by an earlier layout (`idempotency_keys`, with the scope
 * as text or as its id, and its count tables and triggers): its rows move
 * over in their order, with their answers, so a retry whose first attempt
 * it kept is still recognised, and the earlier tables go.
 *
 * @param db The open database.
 */
export function createIdempotencyTable(db: SqliteConnection): void {
  db.transaction(() => {
    db.schema(TABLE);
    const earlier = db.prepare(
      "SELECT name FROM pragma_table_info('idempotency_keys') WHERE name IN ('scope', 'scope_id')",
    ).get() as { name: string } | undefined;
    if (earlier === undefined) return;
    const rows = db.prepare(
      `SELECT ${earlier.name}, key, fingerprint, expires_at, lease_expires_at, status, body
         FROM idempotency_keys ORDER BY seq`,
    ).all() as unknown as EarlierRow[];
    const insert = db.prepare(
      `INSERT INTO idempotency_claims
         (scope_id, key, fingerprint, expires_at, lease_expires_at, status, body)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const row of rows) {
      insert.run(
        row.scope_id ?? scopeId(row.scope!),
        row.key,
        typeof row.fingerprint === "string" ? packFingerprint(row.fingerprint) : row.fingerprint,
        row.expires_at,
        row.lease_expires_at,
        row.status,
        row.body,
      );
    }
    // Their indexes and triggers go with them.
    db.schema(`
      DROP TABLE idempotency_keys;
      DROP TABLE IF EXISTS idempotency_counts;
      DROP TABLE IF EXISTS idempotency_scope_counts;
    `);
  });
}
