/**
 * A {@linkcode Storage} over the Web Storage API (`localStorage`), and
 * {@linkcode defaultStorage}, which picks it where it works and memory
 * elsewhere. Web Storage failures (quota, disabled storage) surface as a
 * rejected {@linkcode StorageError}, never as a synchronous throw into the
 * page.
 *
 * @module
 */

import type { StorageOperation } from "../errors.ts";
import { toStorageError } from "./_storage_error.ts";
import type { Storage } from "./types.ts";
import { MemoryStorage } from "./memory.ts";

/** Options of {@linkcode WebStorage}. */
export interface WebStorageOptions {
  /**
   * The Web Storage object to write to. The default is read at each
   * operation, so a store disabled later fails cleanly.
   *
   * @default globalThis.localStorage
   */
  storage?: globalThis.Storage;
  /**
   * A prefix put before every key, so Edgewire's keys do not collide with the page's.
   *
   * @default "edgewire:"
   */
  prefix?: string;
}

/**
 * A {@linkcode Storage} over the Web Storage API (`localStorage` by default).
 * Every failure, including a missing or disabled `localStorage`, becomes a
 * rejected {@linkcode StorageError}.
 *
 * @example
 * ```ts
 * import { WebStorage } from "@edgewire/sdk";
 *
 * const storage = new WebStorage({ prefix: "myapp:" });
 * await storage.set("id", "42").catch((error) => console.warn(error.message));
 * ```
 */
export class WebStorage implements Storage {
  #storage: globalThis.Storage | undefined;
  #prefix: string;

  /**
   * Creates a store; nothing is read until the first operation.
   *
   * @param options The Web Storage object and the key prefix.
   */
  constructor(options: WebStorageOptions = {}) {
    this.#storage = options.storage;
    this.#prefix = options.prefix ?? "edgewire:";
  }

  /**
   * Reads a value.
   *
   * @param key The key to read, without the prefix.
   * @returns The value, or `undefined` when the key is absent.
   * @throws {StorageError} As a rejection, when Web Storage cannot be read.
   */
  get(key: string): Promise<string | undefined> {
    return this.#run("get", key, (storage, fullKey) => storage.getItem(fullKey) ?? undefined);
  }

  /**
   * Writes a value, replacing any previous one.
   *
   * @param key The key to write, without the prefix.
   * @param value The value to store.
   * @returns A promise that resolves once the value is stored.
   * @throws {StorageError} As a rejection, with code `"storage_quota"` when the store is full.
   */
  set(key: string, value: string): Promise<void> {
    return this.#run("set", key, (storage, fullKey) => storage.setItem(fullKey, value));
  }

  /**
   * Removes a key.
   *
   * @param key The key to remove, without the prefix.
   * @returns A promise that resolves once the key is gone.
   * @throws {StorageError} As a rejection, when Web Storage cannot be written.
   */
  delete(key: string): Promise<void> {
    return this.#run("delete", key, (storage, fullKey) => storage.removeItem(fullKey));
  }

  #run<R>(
    operation: StorageOperation,
    key: string,
    action: (storage: globalThis.Storage, fullKey: string) => R,
  ): Promise<R> {
    try {
      // Reading localStorage itself throws a SecurityError where storage is disabled.
      const storage = this.#storage ?? globalThis.localStorage;
      if (storage === undefined || storage === null) {
        throw new TypeError("localStorage is not available in this runtime");
      }
      return Promise.resolve(action(storage, this.#prefix + key));
    } catch (error) {
      return Promise.reject(
        toStorageError(error, operation, key, "Web Storage", "check that Web Storage is enabled"),
      );
    }
  }
}

const PROBE_KEY = "edgewire:__probe__";

/**
 * Picks the best storage this runtime offers: a {@linkcode WebStorage} over
 * `localStorage` when it exists and accepts a write, else a new
 * {@linkcode MemoryStorage}.
 *
 * @param globals Where to look for `localStorage`; tests pass a fake.
 * @returns A storage that works in this runtime.
 *
 * @example
 * ```ts
 * import { defaultStorage } from "@edgewire/sdk";
 *
 * const storage = defaultStorage();
 * await storage.set("seen", "1");
 * ```
 */
export function defaultStorage(globals: object = globalThis): Storage {
  try {
    const storage = (globals as { localStorage?: globalThis.Storage }).localStorage;
    if (
      storage !== undefined && storage !== null && typeof storage.setItem === "function" &&
      typeof storage.getItem === "function" && typeof storage.removeItem === "function"
    ) {
      // Safari's private mode exposes localStorage but throws on every write.
      storage.setItem(PROBE_KEY, "1");
      storage.removeItem(PROBE_KEY);
      return new WebStorage({ storage });
    }
  } catch {
    // Disabled or full storage: memory is the only safe place left.
  }
  return new MemoryStorage();
}
