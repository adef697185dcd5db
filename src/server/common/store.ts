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
   * Deletes at most `limit` marks of spent challenges that expired before
   * `now`. The server calls it again while it deletes `limit`, so one call
   * stays short.
   *
   * @param now The server's current time, in milliseconds.
   * @param limit The most marks one call deletes, at least 1.
   * @returns How many it deleted.
   */
  pruneChallenges(now: number, limit: number): Promise<number>;
  /**
   * Reports how big the store is, for the `edgewire_store_*` gauges of
   * `GET /metrics`. Optional: a store without it reports nothing. It runs on
   * every scrape, so it must stay cheap: no count of a table that grows
   * without bound.
   *
   * @returns The sizes the store can tell cheaply.
   */
  storeSizes?(): Promise<StoreSizes>;
  /** Releases the store. Calling it again does nothing; other calls afterwards reject. */
  close(): Promise<void>;
}

/**
 * How big a store is, as far as it can tell cheaply: what
 * {@linkcode SharedStore.storeSizes} answers.
 *
 * @example A database's answer
 * ```ts
 * import type { StoreSizes } from "@edgewire/sdk/server";
 *
 * const sizes: StoreSizes = { bytes: 4096 * 25, freeBytes: 4096, rows: { honch_partials: 3 } };
 * console.log(sizes.rows.honch_partials); // 3
 * ```
 */
export interface StoreSizes {
  /** The database's size in bytes (free pages included), when the store has one. */
  bytes?: number;
  /** The bytes of free pages inside it, reused before the file grows. */
  freeBytes?: number;
  /** Rows by table (or collection) name, for the tables whose count is cheap. */
  rows: Record<string, number>;
}
