/**
 * The Honch client's queue: a bounded, persisted queue of events, plus the
 * events tracked before the persisted queue was restored, held in order
 * and appended after it (and after the start events) once it is.
 *
 * @module
 */

import { BoundedQueue } from "../core/queue.ts";
import type { Storage } from "../core/storage.ts";
import type { QueuedEvent } from "./_capture_batch.ts";
import { utf8ByteLength } from "../core/utf8.ts";

/** Where the queue persists. */
export const KEY_QUEUE = "honch:queue";

type Pending = { kind: "push"; event: QueuedEvent; deferIdentity: boolean } | { kind: "clear" };

/** What {@linkcode EventQueue.stats} counts. */
export interface EventQueueStats {
  queued: number;
  bytes: number;
  dropped: number;
  droppedByReason: Record<string, number>;
  persistErrors: number;
}

/** The events waiting for upload, oldest first. */
export class EventQueue {
  readonly #queue: BoundedQueue<QueuedEvent>;
  #open = false;
  #pending: Pending[] = [];

  /**
   * Creates the queue; nothing is read from storage yet.
   *
   * @param maxItems The most events kept; more drop the oldest as `overflow`.
   * @param maxEventBytes The largest event, to bound the bytes kept.
   * @param storage Where the queue persists.
   */
  constructor(maxItems: number, maxEventBytes: number, storage: Storage) {
    this.#queue = new BoundedQueue<QueuedEvent>({
      maxItems,
      maxBytes: maxItems * maxEventBytes,
      storage,
      storageKey: KEY_QUEUE,
    });
  }

  /** How many events the restored queue holds (not counting those held before it opened). */
  get length(): number {
    return this.#queue.length;
  }

  /**
   * Restores the persisted queue.
   *
   * @returns A promise that settles once it is restored.
   */
  restore(): Promise<void> {
    return this.#queue.restore();
  }

  /**
   * Appends the start events, then what was tracked meanwhile.
   *
   * @param startEvents The events that open the start.
   * @param restoredId The distinct id for events tracked before the id was known.
   */
  open(startEvents: readonly QueuedEvent[], restoredId: string): void {
    for (const event of startEvents) this.#queue.push(event);
    this.#open = true;
    const pending = this.#pending;
    this.#pending = [];
    for (const item of pending) {
      if (item.kind === "clear") {
        this.#queue.clear();
      } else {
        if (item.deferIdentity) item.event.distinctId = restoredId;
        this.#queue.push(item.event);
      }
    }
  }

  /**
   * Queues an event, or holds it until the queue opens.
   *
   * @param event The event.
   * @param deferIdentity Whether its distinct id is to be replaced by the restored one.
   */
  push(event: QueuedEvent, deferIdentity: boolean): void {
    if (this.#open) {
      this.#queue.push(event);
    } else {
      this.#pending.push({ kind: "push", event, deferIdentity });
    }
  }

  /** Forgets every queued event, including the persisted ones once restored. */
  clear(): void {
    if (this.#open) {
      this.#queue.clear();
    } else {
      this.#pending = [{ kind: "clear" }];
    }
  }

  /**
   * The oldest events, without removing them.
   *
   * @param count How many at most.
   * @returns The events, oldest first.
   */
  peek(count: number): QueuedEvent[] {
    return this.#queue.peek(count);
  }

  /**
   * Removes the first `count` events as sent.
   *
   * @param count How many.
   */
  shift(count: number): void {
    this.#queue.shift(count);
  }

  /**
   * Removes the first `count` events as dropped, counted under `reason`.
   *
   * @param count How many.
   * @param reason Why.
   */
  drop(count: number, reason: string): void {
    this.#queue.drop(count, reason);
  }

  /** Writes the queue synchronously when the storage can. */
  persistNow(): void {
    this.#queue.persistNow();
  }

  /**
   * Waits for the writes in flight.
   *
   * @returns A promise that settles once the queue is persisted.
   */
  persisted(): Promise<void> {
    return this.#queue.persisted();
  }

  /**
   * Counts the queue, with the events held before it opened.
   *
   * @returns Events and bytes queued, drops by reason and persistence failures.
   */
  stats(): EventQueueStats {
    const stats = this.#queue.stats();
    let queued = stats.queued;
    let bytes = stats.bytes;
    for (const pending of this.#pending) {
      if (pending.kind === "clear") {
        queued = 0;
        bytes = 0;
      } else {
        queued++;
        bytes += utf8ByteLength(JSON.stringify(pending.event));
      }
    }
    return {
      queued,
      bytes,
      dropped: stats.dropped,
      droppedByReason: stats.droppedByReason,
      persistErrors: stats.persistErrors,
    };
  }
}
