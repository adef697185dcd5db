/**
 * The mkStats event queue as a delivery source. An item aggregates counts
 * per event name until it is formed into a request: forming gives it an
 * idempotency key, which freezes it (new counts go to a new item), and the
 * request carries at most {@linkcode MAX_EVENT_COUNT}; when the server takes
 * a part of a larger count, the rest stays queued as a new item.
 *
 * @module
 */

import type { DeliverySource } from "../core/delivery/engine.ts";
import { newIdempotencyKey } from "../core/delivery/idempotency.ts";
import type { BoundedQueue } from "../core/queue.ts";
import { MAX_EVENT_COUNT } from "./_policy.ts";

/** One queued event name and its count; `key` is set once a request was formed from it. */
export interface QueuedEvent {
  event: string;
  count: number;
  key?: string;
}

/** One `POST /event` request, as formed. */
export interface EventBatch {
  event: string;
  count: number;
  key: string;
}

/** Adds `count` to the unfrozen item of `name`, or queues a new one. */
export function addEvent(queue: BoundedQueue<QueuedEvent>, name: string, count: number): void {
  queue.upsert(
    (item) => item.event === name && item.key === undefined,
    (existing) => ({ event: name, count: (existing?.count ?? 0) + count }),
  );
}

/**
 * Queues a count whose request was already formed under `key` (a direct send
 * that failed in a way a retry may fix, after which the server may or may not
 * have counted it): frozen, so the flush resends it under the same key and the
 * server records it once.
 */
export function addFormedEvent(
  queue: BoundedQueue<QueuedEvent>,
  name: string,
  count: number,
  key: string,
): void {
  queue.push({ event: name, count, key });
}

/**
 * Builds the source over `queue`; `restored` is awaited before the first
 * batch, and `onSent` hears each count the server took.
 */
export function eventSource(
  queue: BoundedQueue<QueuedEvent>,
  restored: Promise<void>,
  onSent: (count: number) => void,
): DeliverySource<EventBatch> {
  const replaceHead = (item: QueuedEvent) => {
    queue.shift(1);
    queue.unshiftMany([item]);
  };
  return {
    async next() {
      await restored;
      const [head] = queue.peek(1);
      if (head === undefined) return undefined;
      let key = head.key;
      if (key === undefined) {
        key = newIdempotencyKey();
        replaceHead({ event: head.event, count: head.count, key });
      }
      return { event: head.event, count: Math.min(head.count, MAX_EVENT_COUNT), key };
    },
    settle(batch, outcome) {
      const [head] = queue.peek(1);
      // Overflow may have pushed it out meanwhile; then there is nothing left to remove
      if (head === undefined || head.key !== batch.key) return;
      if (outcome.kind === "dropped") {
        queue.drop(1, outcome.reason);
        return;
      }
      onSent(batch.count);
      if (head.count > batch.count) {
        replaceHead({ event: head.event, count: head.count - batch.count });
      } else {
        queue.shift(1);
      }
    },
  };
}
