/**
 * Shared helpers of the {@linkcode BoundedQueue} tests: a size function that
 * measures strings by their length, and a storage that records writes and
 * can be told to fail.
 *
 * @module
 */

import { MemoryStorage, type Storage, StorageError } from "../../src/core/storage.ts";

/** Measures strings by their length, so byte bounds are easy to reason about. */
export const byLength = (item: string): number => item.length;

/** A storage that records writes and can be told to fail. */
export class RecordingStorage implements Storage {
  readonly writes: string[] = [];
  readonly inner = new MemoryStorage();
  failSet = false;
  failGet = false;
  active = 0;
  maxActive = 0;

  async get(key: string): Promise<string | undefined> {
    if (this.failGet) {
      throw new StorageError("Cannot get", { key, operation: "get" });
    }
    return await this.inner.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      // Two awaits so overlapping writes would be visible in maxActive.
      await Promise.resolve();
      await Promise.resolve();
      if (this.failSet) {
        throw new StorageError("Cannot set", { key, operation: "set", code: "storage_quota" });
      }
      this.writes.push(value);
      await this.inner.set(key, value);
    } finally {
      this.active--;
    }
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}
