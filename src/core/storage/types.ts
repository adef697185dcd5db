/**
 * The {@linkcode Storage} interface alone, so the implementations beside it
 * and the module that re-exports them all depend on it without a cycle.
 *
 * @module
 */

/**
 * The asynchronous key-value store Edgewire clients persist state through.
 * Implement it to keep state somewhere else (IndexedDB, a file, KV).
 *
 * @example A storage over a Map
 * ```ts
 * import type { Storage } from "@edgewire/sdk";
 *
 * const map = new Map<string, string>();
 * const storage: Storage = {
 *   get: (key) => Promise.resolve(map.get(key)),
 *   set: (key, value) => Promise.resolve(void map.set(key, value)),
 *   delete: (key) => Promise.resolve(void map.delete(key)),
 * };
 * await storage.set("edgewire:id", "42");
 * ```
 */
export interface Storage {
  /**
   * Reads a value.
   *
   * @param key The key to read.
   * @returns The value, or `undefined` when the key is absent.
   */
  get(key: string): Promise<string | undefined>;
  /**
   * Writes a value, replacing any previous one.
   *
   * @param key The key to write.
   * @param value The value to store.
   * @returns A promise that resolves once the value is stored.
   */
  set(key: string, value: string): Promise<void>;
  /**
   * Removes a key; removing an absent key is not an error.
   *
   * @param key The key to remove.
   * @returns A promise that resolves once the key is gone.
   */
  delete(key: string): Promise<void>;
  /**
   * Optional: writes a value before returning, for a program that is ending
   * on an uncaught error, when no promise will settle any more. Stores that
   * cannot write synchronously leave it out. A queue calls it only for its
   * last words, after its asynchronous writes.
   *
   * @param key The key to write.
   * @param value The value to store.
   * @throws {unknown} When the write fails.
   */
  setSync?(key: string, value: string): void;
}
