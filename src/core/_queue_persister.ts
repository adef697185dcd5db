/**
 * How a {@linkcode BoundedQueue} keeps its state in storage: writes are
 * coalesced (one in flight, at most one more scheduled, which writes the
 * state as it is when it starts), a restore in flight is always read before
 * a write replaces it, and failures are reported, never thrown. Internal to
 * the queue.
 *
 * @module
 */

import type { Storage } from "./storage.ts";

/** What the persister needs from its queue. */
export interface PersisterOptions {
  /** Where to write; `undefined` keeps the queue in memory. */
  storage: Storage | undefined;
  /** The key of the state. */
  key: string;
  /** The queue's state as JSON, when a write starts. */
  snapshot: () => string;
  /** Called for each failed read or write. */
  onError: () => void;
}

/** The write chain and the one restore of one queue. */
export class QueuePersister {
  readonly #options: PersisterOptions;
  #chain: Promise<void> = Promise.resolve();
  #writeQueued = false;
  #writeStarted = false;
  #restore: Promise<void> | undefined;
  #restoring: Promise<void> | undefined;

  /** @param options Storage, key, the state and the error counter. */
  constructor(options: PersisterOptions) {
    this.#options = options;
  }

  /** Schedules a write of the state unless one is already scheduled. */
  schedule(): void {
    if (this.#options.storage === undefined || this.#writeQueued) return;
    this.#writeQueued = true;
    this.#chain = this.#chain.then(() => this.#write());
  }

  /**
   * Reads the stored state once and hands it to `merge`, which answers
   * whether the queue changed (then a write is scheduled). Later calls
   * answer the first call's promise; once this queue has written there is
   * nothing to read. Never rejects.
   */
  restore(merge: (raw: string | undefined) => boolean): Promise<void> {
    if (this.#restore !== undefined) return this.#restore;
    const storage = this.#options.storage;
    if (storage === undefined || this.#writeStarted) {
      this.#restore = Promise.resolve();
      return this.#restore;
    }
    // The read starts now, before any write this tick already scheduled.
    let read: Promise<string | undefined>;
    try {
      read = Promise.resolve(storage.get(this.#options.key));
    } catch (error) {
      read = Promise.reject(error);
    }
    const restoring: Promise<void> = read
      .then((raw) => {
        if (merge(raw)) this.schedule();
      }, () => {
        this.#options.onError();
      })
      .finally(() => {
        if (this.#restoring === restoring) this.#restoring = undefined;
      });
    this.#restoring = restoring;
    this.#restore = restoring;
    return restoring;
  }

  /** Waits for every scheduled write, including ones scheduled while waiting. */
  async persisted(): Promise<void> {
    for (;;) {
      const chain = this.#chain;
      await chain;
      if (this.#restoring !== undefined) await this.#restoring;
      if (chain === this.#chain && this.#restoring === undefined) return;
    }
  }

  /**
   * Writes synchronously through `setSync`, when the storage has it and no
   * stored state can still be waiting to be merged. Answers whether it wrote.
   */
  persistNow(): boolean {
    const storage = this.#options.storage;
    if (typeof storage?.setSync !== "function") return false;
    if (this.#restoring !== undefined || (this.#restore === undefined && !this.#writeStarted)) {
      return false;
    }
    try {
      storage.setSync(this.#options.key, this.#options.snapshot());
      return true;
    } catch {
      this.#options.onError();
      return false;
    }
  }

  async #write(): Promise<void> {
    const storage = this.#options.storage;
    if (storage === undefined) return;
    // A restore in flight must read the old state before this write replaces it.
    while (this.#restoring !== undefined) await this.#restoring;
    this.#writeQueued = false;
    this.#writeStarted = true;
    try {
      await storage.set(this.#options.key, this.#options.snapshot());
    } catch {
      this.#options.onError();
    }
  }
}
