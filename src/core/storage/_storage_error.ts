/**
 * Turns whatever a store threw into a {@linkcode StorageError} that names the
 * operation and key (never the value), telling a full store apart. Internal:
 * shared by the storage implementations and wrappers.
 *
 * @module
 */

import { StorageError, type StorageOperation } from "../errors.ts";

/** Whether `error` says the store is full, in any engine's words. */
export function isQuotaError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  // Firefox used its own name, old engines only set the legacy code 22, Node says ENOSPC
  return name === "QuotaExceededError" || name === "NS_ERROR_DOM_QUOTA_REACHED" ||
    code === 22 || code === "ENOSPC";
}

/**
 * `error` as a {@linkcode StorageError}: returned as is when it already is
 * one, else wrapped with the original as `cause`.
 *
 * @param error What the store threw or rejected with.
 * @param operation The operation that failed.
 * @param key The key it was about.
 * @param store How the message names the store, such as `"Web Storage"`.
 * @param advice What to do, for the message.
 * @returns The typed error.
 */
export function toStorageError(
  error: unknown,
  operation: StorageOperation,
  key: string,
  store = "the storage",
  advice = "check the storage",
): StorageError {
  if (error instanceof StorageError) return error;
  const quota = isQuotaError(error);
  const reason = quota
    ? "the store is full: free space or lower the queue limits"
    : `${error instanceof Error ? error.name : "an unknown error"} was raised: ${advice}`;
  return new StorageError(`Cannot ${operation} key '${key}' in ${store} as ${reason}`, {
    key,
    operation,
    cause: error,
    code: quota ? "storage_quota" : "storage",
  });
}
