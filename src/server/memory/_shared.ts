/**
 * The shared part of {@linkcode MemoryStore}: settings and spent challenges
 * in two maps, and the idempotency keys of `_idempotency.ts`.
 *
 * @module
 */

import type { SharedStore } from "../common/store.ts";
import { memoryIdempotency } from "./_idempotency.ts";
import type { Lifetime } from "./_lifetime.ts";

/**
 * Builds the shared part of a memory store.
 *
 * @param life The store's open-or-closed state.
 * @returns The part, closing `life` on `close()`.
 */
export function memoryShared(life: Lifetime): SharedStore {
  const meta = new Map<string, string>();
  const used = new Map<string, number>();
  life.count("used_challenges", () => used.size);
  return {
    ...memoryIdempotency(life),
    getMeta: (key) => life.run(() => meta.get(key)),
    setMeta: (key, value) => life.run(() => void meta.set(key, value)),
    ensureMeta: (key, value) =>
      life.run(() => {
        if (!meta.has(key)) meta.set(key, value);
        return meta.get(key)!;
      }),
    markChallengeUsed: (id, expiresAt) =>
      life.run(() => {
        if (used.has(id)) return false;
        used.set(id, expiresAt);
        return true;
      }),
    pruneChallenges: (now, limit) =>
      life.run(() => {
        let removed = 0;
        for (const [id, expiresAt] of used) {
          if (removed >= limit) break;
          if (expiresAt < now && used.delete(id)) removed++;
        }
        return removed;
      }),
    close: () => {
      life.close();
      return Promise.resolve();
    },
  };
}
