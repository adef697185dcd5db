/**
 * The idempotency part of {@linkcode MemoryStore}: its keys in a
 * {@linkcode ClaimIndex}, so the oldest key overall and the oldest of a
 * scope are both found without a scan.
 *
 * @module
 */

import type {
  IdempotencyClaimResult,
  IdempotencyStore,
  IdempotentAnswer,
} from "../common/idempotency_store.ts";
import { ClaimIndex } from "../common/_claim_index.ts";
import type { Lifetime } from "./_lifetime.ts";

interface Row {
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
  const rows = new ClaimIndex<Row>();
  life.count("idempotency_keys", () => rows.size);
  const live = (row: Row, now: number) =>
    row.expiresAt > now && (row.answer !== undefined || row.leaseExpiresAt > now);
  return {
    claimIdempotencyKey: (claim) =>
      life.run((): IdempotencyClaimResult => {
        const existing = rows.get(claim.scope, claim.key)?.value;
        if (existing !== undefined && live(existing, claim.now)) {
          return { status: "held", fingerprint: existing.fingerprint, answer: existing.answer };
        }
        rows.add(claim.scope, claim.key, {
          fingerprint: claim.fingerprint,
          expiresAt: claim.expiresAt,
          leaseExpiresAt: claim.leaseExpiresAt,
          answer: undefined,
        });
        while (rows.scopeSize(claim.scope) > claim.maxPerScope) {
          rows.remove(rows.oldestOf(claim.scope)!);
        }
        while (rows.size > claim.maxTotal) rows.remove(rows.oldest()!);
        return { status: "claimed" };
      }),
    settleIdempotencyKey: (scope, key, answer) =>
      life.run(() => {
        const entry = rows.get(scope, key);
        if (entry === undefined) return;
        if (answer === undefined) rows.remove(entry);
        else entry.value.answer = { status: answer.status, body: answer.body };
      }),
    pruneIdempotencyKeys: (now, limit) =>
      life.run(() => {
        let removed = 0;
        for (let entry = rows.oldest(); entry !== undefined && removed < limit;) {
          const next = entry.newer;
          if (entry.value.expiresAt < now) {
            rows.remove(entry);
            removed++;
          }
          entry = next;
        }
        return removed;
      }),
  };
}
