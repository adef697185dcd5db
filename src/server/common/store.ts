/**
 * What every service of the reference server keeps in common: server
 * settings (the generated challenge secret) and spent proof-of-work
 * challenges, and the `Idempotency-Key`s of recording requests
 * ({@linkcode IdempotencyStore}). Times are milliseconds since the epoch,
 * passed in by the server, so a store never reads a clock of its own.
 *
 * @module
 */

import type { IdempotencyStore } from "./idempotency_store.ts";

/**
 * The shared part of a server store: settings, spent challenges,
 * idempotency keys, and the store's own lifetime. Implementations must be safe to call concurrently.
 *
 * @example Keep a setting
 * ```ts
 * import { MemoryStore, type SharedStore } from "@edgewire/sdk/server";
 *
 * const store: SharedStore = new MemoryStore();
 * console.log(await store.ensureMeta("greeting", "hello")); // "hello"
 * console.log(await store.ensureMeta("greeting", "bye")); // "hello"
 * await store.close();
 * ```
 */
export interface SharedStore extends IdempotencyStore {
  /**
   * Reads a server setting.
   *
   * @param key The setting's name.
   * @returns Its value, or `undefined` when unset.
   */
  getMeta(key: string): Promise<string | undefined>;
  /**
   * Writes a server setting, replacing any previous value.
   *
   * @param key The setting's name.
   * @param value Its new value.
   */
  setMeta(key: string, value: string): Promise<void>;
  /**
   * Writes a server setting unless it already has a value, atomically, so
   * two servers starting together agree on one generated secret.
   *
   * @param key The setting's name.
   * @param value The value to store when the key is unset.
   * @returns The value stored afterwards: `value`, or the one already there.
   */
  ensureMeta(key: string, value: string): Promise<string>;
  /**
   * Marks a proof-of-work challenge as spent, so it cannot be replayed, even
   * after a restart.
   *
   * @param id The challenge's identifier.
   * @param expiresAt When the challenge expires, in milliseconds; the mark may be dropped after it.
   * @returns `true` on first use, `false` when the challenge was already spent.
   */
  markChallengeUsed(id: string, expiresAt: number): Promise<boolean>;
  /**
   * Deletes the marks of spent challenges that expired before `now`.
   *
   * @param now The server's current time, in milliseconds.
   */
  pruneChallenges(now: number): Promise<void>;
  /** Releases the store. Calling it again does nothing; other calls afterwards reject. */
  close(): Promise<void>;
}
