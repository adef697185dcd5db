/**
 * {@linkcode resilientStorage}: a {@linkcode Storage} that never rejects and
 * never throws. The first failure of the store underneath (a rejection, a
 * synchronous throw, a missing method) becomes a typed, counted
 * {@linkcode StorageError} handed to `onError`, and from then on the values
 * live in memory for the rest of the process, starting from the last values
 * the store was seen to hold. Clients wrap whatever storage they are given in
 * it, so a broken store can never crash a constructor through an unhandled
 * rejection.
 *
 * @module
 */

import type { StorageError, StorageOperation } from "../errors.ts";
import type { Storage } from "./types.ts";
import { optionalFunction, optionalObject } from "../validate.ts";
import { toStorageError } from "./_storage_error.ts";

/** Options of {@linkcode resilientStorage}. */
export interface ResilientStorageOptions {
  /**
   * Called once per failed operation with the typed error, after the value
   * has gone to memory. Whatever it throws is ignored.
   *
   * @default undefined
   */
  onError?: (error: StorageError) => void;
}

/** A {@linkcode Storage} that falls back to memory, with what it has seen go wrong. */
export interface ResilientStorage extends Storage {
  /** How many operations of the store underneath failed. */
  readonly errors: number;
  /** Whether the values now live in memory because the store failed. */
  readonly degraded: boolean;
  /** The latest failure, if any. */
  readonly lastError: StorageError | undefined;
}

/**
 * Wraps `storage` so that no operation ever rejects. While the store works,
 * every operation goes to it, and the values read and written are mirrored
 * in memory. At the first failure the wrapper counts it, tells `onError`,
 * and turns to the mirror for good: the failed write lands there, reads
 * answer from there, and the process carries on as if the store had been
 * memory all along. `setSync`, when the store has it, always tries the store
 * (it is a crashing program's last chance) and throws on failure, as the
 * {@linkcode Storage} contract says.
 *
 * @param storage The store to protect.
 * @param options Who hears about failures.
 * @returns A storage that never rejects, with its failure count.
 * @throws {InvalidArgumentError} When `storage` is not an object with get, set and delete, or `onError` is not a function.
 *
 * @example A store whose every call fails
 * ```ts
 * import { resilientStorage, type Storage } from "@edgewire/sdk";
 *
 * const broken: Storage = {
 *   get: () => Promise.reject(new Error("disk gone")),
 *   set: () => Promise.reject(new Error("disk gone")),
 *   delete: () => Promise.reject(new Error("disk gone")),
 * };
 * const storage = resilientStorage(broken, { onError: (error) => console.warn(error.message) });
 * await storage.set("id", "42");
 * console.log(await storage.get("id"), storage.errors, storage.degraded); // "42" 1 true
 * ```
 */
export function resilientStorage(
  storage: Storage,
  options: ResilientStorageOptions = {},
): ResilientStorage {
  const action = "make a resilient storage";
  optionalObject(action, "storage", storage ?? null, ["get", "set", "delete"]);
  const onError = optionalFunction<(error: StorageError) => void>(
    action,
    "onError",
    options.onError,
  );
  const mirror = new Map<string, string>();
  let errors = 0;
  let degraded = false;
  let lastError: StorageError | undefined;

  const fail = (error: unknown, operation: StorageOperation, key: string): void => {
    const typed = toStorageError(error, operation, key);
    errors++;
    degraded = true;
    lastError = typed;
    try {
      onError?.(typed);
    } catch {
      // A failing listener must not turn a handled storage failure into a crash
    }
  };
  /** Runs one operation on the store; `false` when it failed (and was counted). */
  const attempt = async <R>(
    operation: StorageOperation,
    key: string,
    run: () => Promise<R>,
  ): Promise<{ ok: true; value: R } | { ok: false }> => {
    try {
      return { ok: true, value: await run() };
    } catch (error) {
      fail(error, operation, key);
      return { ok: false };
    }
  };
  const remember = (key: string, value: string | undefined): void => {
    if (value === undefined) mirror.delete(key);
    else mirror.set(key, value);
  };

  const resilient: ResilientStorage = {
    get errors() {
      return errors;
    },
    get degraded() {
      return degraded;
    },
    get lastError() {
      return lastError;
    },
    async get(key) {
      if (!degraded) {
        const read = await attempt("get", key, () => storage.get(key));
        // A store that answers something other than a string is treated as holding nothing
        if (read.ok) {
          const value = typeof read.value === "string" ? read.value : undefined;
          if (!degraded) remember(key, value);
          return value;
        }
      }
      return mirror.get(key);
    },
    async set(key, value) {
      if (!degraded) await attempt("set", key, () => storage.set(key, value));
      remember(key, value);
    },
    async delete(key) {
      if (!degraded) await attempt("delete", key, () => storage.delete(key));
      remember(key, undefined);
    },
  };
  if (typeof storage.setSync === "function") {
    resilient.setSync = (key, value) => {
      remember(key, value);
      try {
        storage.setSync!(key, value);
      } catch (error) {
        fail(error, "set", key);
        throw lastError;
      }
    };
  }
  return resilient;
}
