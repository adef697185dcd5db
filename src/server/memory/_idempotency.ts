/**
 * The idempotency part of {@linkcode MemoryStore}: one map of rows in the
 * order they were claimed, and one set per scope, so the oldest row overall
 * and the oldest of a scope are both found without a scan.
 *
 * @module
 */

import type {
  IdempotencyClaimResult,
  IdempotencyStore,
  IdempotentAnswer,
} from "../common/idempotency_store.ts";
import type { Lifetime } from "./_lifetime.ts";

interface Row {
  scope: string;
  fingerprint: string;
  expiresAt: number;
  leaseExpiresAt: number;
  answer: IdempotentAnswer | undefined;
}

/**
 * Builds the idempotency part of a memory store.
 *
 * @param life The store's open-or-closed state.
 * @returns The part.
 */
export function memoryIdempotency(life: Lifetime): IdempotencyStore {
  // Insertion order is claim order: a Map's first entry is the oldest row.
  const rows = new Map<string, Row>();
  const scopes = new Map<string, Set<string>>();
  life.count("idempotency_keys", () => rows.size);
  const id = (scope: string, key: string) => `${scope}\u0000${key}`;
  const forget = (rowId: string): void => {
    const row = rows.get(rowId);
    if (row === undefined) return;
    rows.delete(rowId);
    const ids = scopes.get(row.scope)!;
    ids.delete(rowId);
    if (ids.size === 0) scopes.delete(row.scope);
  };
  const live = (row: Row, now: number) =>
    row.expiresAt > now && (row.answer !== undefined || row.leaseExpiresAt > now);
  return {
    claimIdempotencyKey: (claim) =>
      life.run((): IdempotencyClaimResult => {
        const rowId = id(claim.scope, claim.key);
        const existing = rows.get(rowId);
        if (existing !== undefined && live(existing, claim.now)) {
          return { status: "held", fingerprint: existing.fingerprint, answer: existing.answer };
        }
        forget(rowId);
        rows.set(rowId, {
          scope: claim.scope,
          fingerprint: claim.fingerprint,
          expiresAt: claim.expiresAt,
          leaseExpiresAt: claim.leaseExpiresAt,
          answer: undefined,
        });
        let ids = scopes.get(claim.scope);
        if (ids === undefined) scopes.set(claim.scope, ids = new Set());
        ids.add(rowId);
        while (ids.size > claim.maxPerScope) forget(ids.values().next().value!);
        while (rows.size > claim.maxTotal) forget(rows.keys().next().value!);
        return { status: "claimed" };
      }),
    settleIdempotencyKey: (scope, key, answer) =>
      life.run(() => {
        const rowId = id(scope, key);
        const row = rows.get(rowId);
        if (row === undefined) return;
        if (answer === undefined) forget(rowId);
        else row.answer = { status: answer.status, body: answer.body };
      }),
    pruneIdempotencyKeys: (now, limit) =>
      life.run(() => {
        let removed = 0;
        for (const [rowId, row] of rows) {
          if (removed >= limit) break;
          if (row.expiresAt < now) {
            forget(rowId);
            removed++;
          }
        }
        return removed;
      }),
  };
}
