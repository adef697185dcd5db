/**
 * What the Honch client's methods answer: the outcome of one upload step
 * ({@linkcode DeliveryStep}, {@linkcode TickResult}), of a whole flush
 * ({@linkcode FlushResult}), and the queue counters
 * ({@linkcode HonchQueueStats}). Types only, so the delivery and the client
 * can share them without importing each other.
 *
 * @example Branch on what a tick did
 * ```ts
 * import type { TickResult } from "@edgewire/sdk/honch";
 *
 * function describe(result: TickResult): string {
 *   return result.kind === "sent" ? `${result.events} sent` : result.kind;
 * }
 * console.log(describe({ kind: "sent", events: 3 })); // "3 sent"
 * ```
 *
 * @module
 */

import type { HonchError } from "./errors.ts";

/**
 * What a {@linkcode HonchClient.prototype.flush} did.
 *
 * @example
 * ```ts
 * import type { FlushResult } from "@edgewire/sdk/honch";
 *
 * const result: FlushResult = { sent: 3, dropped: 0, remaining: 0, stopped: "drained" };
 * console.log(result.stopped); // "drained"
 * ```
 */
export interface FlushResult {
  /** How many events capture accepted. */
  sent: number;
  /** How many events were dropped: rejected by capture or too large to send. */
  dropped: number;
  /** How many events are still queued. */
  remaining: number;
  /**
   * Why the flush ended: the queue is empty; a retry wait would pass the deadline (or the
   * client was shut down meanwhile); or capture refused the project key (401), which drops that
   * batch and keeps the rest queued until the key is fixed.
   */
  stopped: "drained" | "deadline" | "auth_error";
  /**
   * The last upload failure, when there was one: {@linkcode RateLimitedError},
   * {@linkcode ServerError}, {@linkcode TransportError} or {@linkcode RejectedError}.
   */
  error?: HonchError;
}

/**
 * What one upload step did, as {@linkcode HonchClient.prototype.tick} reports it.
 *
 * @example
 * ```ts
 * import type { DeliveryStep } from "@edgewire/sdk/honch";
 *
 * const step: DeliveryStep = { kind: "retry", waitMs: 1000, status: 503 };
 * console.log(step.kind); // "retry"
 * ```
 */
export type DeliveryStep =
  /** The collector accepted the batch: the first `events` queued events are consumed. */
  | { kind: "sent"; events: number }
  /** The first `events` queued events must be dropped: refused by the collector or too large to send. */
  | {
    kind: "dropped";
    events: number;
    reason: "rejected" | "auth_error" | "oversize";
    status?: number;
  }
  /** The upload failed and may succeed later: nothing is consumed and the backoff is armed. */
  | { kind: "retry"; waitMs: number; status?: number; error?: unknown }
  /** Nothing was sent as the last success was less than `minIntervalMs` ago. */
  | { kind: "spacing"; waitMs: number }
  /** Nothing was sent as an earlier failure's backoff has not passed. */
  | { kind: "backoff"; waitMs: number }
  /** There was nothing to send. */
  | { kind: "empty" };

/**
 * What a {@linkcode HonchClient.prototype.tick} did: one delivery step, or why none.
 *
 * @example
 * ```ts
 * import type { TickResult } from "@edgewire/sdk/honch";
 *
 * const result: TickResult = { kind: "not_due" };
 * console.log(result.kind); // "not_due"
 * ```
 */
export type TickResult =
  | DeliveryStep
  /** The client is offline: nothing was attempted. */
  | { kind: "offline" }
  /** Neither the event threshold nor the flush interval was reached. */
  | { kind: "not_due" };

/**
 * A snapshot of the client's queue and delivery counters.
 *
 * @example
 * ```ts
 * import type { HonchQueueStats } from "@edgewire/sdk/honch";
 *
 * function lost(stats: HonchQueueStats): number {
 *   return stats.dropped - (stats.droppedByReason.overflow ?? 0);
 * }
 * ```
 */
export interface HonchQueueStats {
  /** Events waiting to be uploaded. */
  queued: number;
  /** Bytes the queued events measure (their JSON form). */
  bytes: number;
  /** Events capture accepted since the client was created. */
  sent: number;
  /** Events dropped, persisted across restarts with a durable storage. */
  dropped: number;
  /** Dropped events per reason: `overflow`, `oversize`, `rejected`, `auth_error`, `corrupt`. */
  droppedByReason: Record<string, number>;
  /** Failed uploads scheduled for a retry since the client was created. */
  retries: number;
  /** Failed reads or writes of the persisted queue. */
  persistErrors: number;
}
