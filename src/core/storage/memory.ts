/**
 * {@linkcode MemoryStorage}: the {@linkcode Storage} every client falls back
 * to, held in a `Map` and gone when the process ends.
 *
 * @module
 */

import type { Storage } from "./types.ts";

/**
 * A {@linkcode Storage} held in memory: fast, always available, and gone when
 * the process ends.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@edgewire/sdk";
 *
 * const storage = new MemoryStorage();
 * await storage.set("a", "1");
 * console.log(await storage.get("a"), storage.size); // "1" 1
 * ```
 */
export class MemoryStorage implements Storage {
  #entries = new Map<string, string>();

  /** Creates an empty store. */
  constructor() {}

  /** How many keys the store holds. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Reads a value.
   *
   * @param key The key to read.
   * @returns The value, or `undefined` when the key is absent.
   */
  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#entries.get(key));
  }

  /**
   * Writes a value, replacing any previous one.
   *
   * @param key The key to write.
   * @param value The value to store.
   * @returns A promise that resolves once the value is stored.
   */
  set(key: string, value: string): Promise<void> {
    this.#entries.set(key, value);
    return Promise.resolve();
  }

  /**
   * Removes a key.
   *
   * @param key The key to remove.
   * @returns A promise that resolves once the key is gone.
   */
  delete(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }
}
