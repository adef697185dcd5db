/**
 * The {@linkcode Storage} interface clients keep queues and identities in
 * across restarts, and everything built on it: {@linkcode MemoryStorage},
 * {@linkcode WebStorage} over `localStorage`, {@linkcode keyed} views under
 * a prefix, {@linkcode getOrCreate} for stable ids, and
 * {@linkcode resilientStorage}, which turns a failing store into typed,
 * counted {@linkcode StorageError}s and memory, so no storage failure ever
 * reaches a constructor. `privateFileStorage` (in the runtime shim) keeps
 * the same interface in a file.
 *
 * @example
 * ```ts
 * import { getOrCreate, keyed, MemoryStorage, resilientStorage } from "@edgewire/sdk";
 *
 * const storage = resilientStorage(keyed(new MemoryStorage(), "myapp:"));
 * const id = await getOrCreate(storage, "device_id", () => crypto.randomUUID());
 * console.log(id === await getOrCreate(storage, "device_id", () => "other")); // true
 * ```
 *
 * @module
 */

export { StorageError, type StorageErrorOptions, type StorageOperation } from "./errors.ts";
export { MemoryStorage } from "./storage/memory.ts";
export { defaultStorage, WebStorage, type WebStorageOptions } from "./storage/web_storage.ts";
export { getOrCreate, type GetOrCreateOptions, keyed } from "./storage/keyed.ts";
export {
  type ResilientStorage,
  resilientStorage,
  type ResilientStorageOptions,
} from "./storage/resilient.ts";
export type { Storage } from "./storage/types.ts";
