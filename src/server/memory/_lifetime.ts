/**
 * The open-or-closed state the parts of a {@linkcode MemoryStore} share, and
 * the wrapper that turns their synchronous bodies into the store's promises.
 *
 * @module
 */

/** Whether a memory store is still open; every call of its parts goes through {@linkcode Lifetime.run}. */
export class Lifetime {
  #closed = false;

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
}
