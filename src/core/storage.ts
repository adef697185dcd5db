/**
 * A three-method asynchronous key-value {@linkcode Storage} that clients use
 * to keep queues and identities across restarts, with an in-memory
 * implementation and one over the Web Storage API (`localStorage`). Web
 * Storage failures (quota, disabled storage) surface as a rejected
 * {@linkcode StorageError}, never as a synchronous throw into the page.
 *
 * @module
 */

import { EdgewireError, type EdgewireErrorOptions } from "./errors.ts";

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

/** The storage operation a {@linkcode StorageError} comes from. */
export type StorageOperation = "get" | "set" | "delete";

/** Fields of a {@linkcode StorageError} beyond its message. */
export interface StorageErrorOptions extends EdgewireErrorOptions {
  /** The key the failed operation was about. */
  key: string;
  /** The operation that failed. */
  operation: StorageOperation;
}

/**
 * A storage operation failed. `code` is `"storage_quota"` when the store is
 * full and `"storage"` otherwise; `cause` holds the underlying error. The
 * message never contains the value being stored.
 *
 * @example Tell a full store apart
 * ```ts
 * import { StorageError, WebStorage } from "@edgewire/sdk";
 *
 * try {
 *   await new WebStorage().set("queue", "[]");
 * } catch (error) {
 *   if (error instanceof StorageError && error.code === "storage_quota") console.log("full");
 * }
 * ```
 */
export class StorageError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "StorageError";

  /** The key the failed operation was about. */
  readonly key: string;
  /** The operation that failed. */
  readonly operation: StorageOperation;

  /**
   * Creates a storage error.
   *
   * @param message What failed and what to do about it.
   * @param options The key, the operation, the cause and the code (default `"storage"`).
   */
  constructor(message: string, options: StorageErrorOptions) {
    super(message, { cause: options.cause, code: options.code ?? "storage" });
    this.key = options.key;
    this.operation = options.operation;
  }
}

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
      return Promise.reject(toStorageError(error, operation, key));
    }
  }
}

function isQuotaError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  // Firefox used its own name, and old engines only set the legacy code 22.
  return name === "QuotaExceededError" || name === "NS_ERROR_DOM_QUOTA_REACHED" || code === 22;
}

function toStorageError(error: unknown, operation: StorageOperation, key: string): StorageError {
  const quota = isQuotaError(error);
  const reason = quota
    ? "the store is full: free space or lower the queue limits"
    : `${error instanceof Error ? error.name : "an unknown error"} was raised: ` +
      "check that Web Storage is enabled";
  return new StorageError(`Cannot ${operation} key '${key}' in Web Storage as ${reason}`, {
    key,
    operation,
    cause: error,
    code: quota ? "storage_quota" : "storage",
  });
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
