/**
 * What the parts of a {@linkcode MemoryStore} share: the open-or-closed
 * state, the wrapper that turns their synchronous bodies into the store's
 * promises, and the row counts each part registers for `storeSizes()`.
 *
 * @module
 */

import type { StoreSizes } from "../common/store.ts";
import type { IdempotencySettlement } from "../common/idempotency_store.ts";

/** Settles an idempotency key after the write that recorded its request, when there is one. */
export type SettleKey = (settle: IdempotencySettlement | undefined) => Promise<void>;

/** Whether a memory store is still open; every call of its parts goes through {@linkcode Lifetime.run}. */
export class Lifetime {
  #closed = false;
  readonly #counts = new Map<string, () => number>();

  /** Whether the store was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Marks the store closed; later calls reject. */
  close(): void {
    this.#closed = true;
  }

  /**
   * Runs a store operation, rejecting once the store is closed.
   *
   * @param body The synchronous operation.
   * @returns Its result, or its error, as a promise.
   */
  run<T>(body: () => T): Promise<T> {
    try {
      if (this.#closed) throw new Error("Cannot use MemoryStore as it is closed: create a new one");
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Registers one collection's row count, named as the SQLite store's table.
   *
   * @param table The name it is reported under.
   * @param count Reads the count; it must be cheap, such as a map's `size`.
   */
  count(table: string, count: () => number): void {
    this.#counts.set(table, count);
  }

  /**
   * Reads every registered count.
   *
   * @returns The sizes: rows by table; a memory store has no database bytes.
   */
  sizes(): StoreSizes {
    const rows: Record<string, number> = {};
    for (const [table, count] of this.#counts) rows[table] = count();
    return { rows };
  }
}
