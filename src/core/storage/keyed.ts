/**
 * Two small ways to use one {@linkcode Storage} for many things:
 * {@linkcode keyed}, a view whose keys all carry a prefix, so clients
 * sharing a store never collide, and {@linkcode getOrCreate}, the one copy
 * of "read a stable id, or make and keep one".
 *
 * @module
 */

import type { Storage } from "./types.ts";
import { nonEmptyString } from "../validate.ts";
import { toStorageError } from "./_storage_error.ts";

/**
 * A view of `storage` in which every key is `prefix + key`. It has `setSync`
 * exactly when `storage` has it, so a queue's crash write still reaches a
 * file. Views nest: `keyed(keyed(s, "a:"), "b:")` writes `a:b:key`.
 *
 * @param storage The store to write through.
 * @param prefix What to put before every key, such as `"mkstats:my_plugin:"`.
 * @returns The prefixed view.
 * @throws {InvalidArgumentError} When `prefix` is not a non-empty string.
 *
 * @example
 * ```ts
 * import { keyed, MemoryStorage } from "@edgewire/sdk";
 *
 * const shared = new MemoryStorage();
 * await keyed(shared, "honch:").set("distinct_id", "u1");
 * console.log(await shared.get("honch:distinct_id")); // "u1"
 * ```
 */
export function keyed(storage: Storage, prefix: string): Storage {
  nonEmptyString("make a keyed storage", "prefix", prefix, undefined, { reveal: true });
  const view: Storage = {
    get: (key) => storage.get(prefix + key),
    set: (key, value) => storage.set(prefix + key, value),
    delete: (key) => storage.delete(prefix + key),
  };
  if (typeof storage.setSync === "function") {
    view.setSync = (key, value) => storage.setSync!(prefix + key, value);
  }
  return view;
}

/** Options of {@linkcode getOrCreate}. */
export interface GetOrCreateOptions {
  /**
   * Whether a stored value is usable; one that is not is replaced by a new
   * one, as a missing value is.
   *
   * @default the value is a non-empty string
   */
  accept?: (value: string) => boolean;
}

// Calls in flight per store and key, so two concurrent callers get the same new id
const PENDING = new WeakMap<Storage, Map<string, Promise<string>>>();

/**
 * Reads `key`; when it is missing (or not accepted), makes a value with
 * `make`, stores it and returns it. Concurrent calls for one store and key
 * share one read and one write, so they all get the same value.
 *
 * Wrap the store in `resilientStorage` to have an id even when the store
 * fails (kept in memory for this process, the failure counted).
 *
 * @param storage The store to keep the value in.
 * @param key The key of the value.
 * @param make Makes a new value, such as `() => crypto.randomUUID()`.
 * @param options Which stored values are usable.
 * @returns The stored or new value.
 * @throws {StorageError} As a rejection, when the store cannot be read or written.
 *
 * @example A device id kept across runs
 * ```ts
 * import { getOrCreate, MemoryStorage } from "@edgewire/sdk";
 *
 * const storage = new MemoryStorage();
 * const first = await getOrCreate(storage, "device_id", () => crypto.randomUUID());
 * const again = await getOrCreate(storage, "device_id", () => crypto.randomUUID());
 * console.log(first === again); // true
 * ```
 */
export function getOrCreate(
  storage: Storage,
  key: string,
  make: () => string | Promise<string>,
  options: GetOrCreateOptions = {},
): Promise<string> {
  let pending = PENDING.get(storage);
  if (pending === undefined) {
    pending = new Map();
    PENDING.set(storage, pending);
  }
  const inFlight = pending.get(key);
  if (inFlight !== undefined) return inFlight;
  const accept = options.accept ?? ((value: string) => value !== "");
  const result = (async () => {
    let stored: string | undefined;
    try {
      stored = await storage.get(key);
    } catch (error) {
      throw toStorageError(error, "get", key);
    }
    if (typeof stored === "string" && accept(stored)) return stored;
    const made = await make();
    try {
      await storage.set(key, made);
    } catch (error) {
      throw toStorageError(error, "set", key);
    }
    return made;
  })();
  const calls = pending;
  calls.set(key, result);
  const forget = () => void calls.delete(key);
  result.then(forget, forget);
  return result;
}
