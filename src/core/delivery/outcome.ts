/**
 * The three answers a delivery `send` gives: the batch was *sent*, should be
 * *retried* (after at least `retryAfterMs`, when the server named a delay),
 * or was *dropped* for a reason. Only a recognised refusal from the service
 * itself is a drop; everything else that is not a success is a retry.
 *
 * @module
 */

/**
 * The service took the batch.
 *
 * @example
 * ```ts
 * import type { SentOutcome } from "@edgewire/sdk";
 *
 * const outcome: SentOutcome = { kind: "sent", answer: { ok: true } };
 * ```
 */
export interface SentOutcome {
  /** Always `"sent"`. */
  kind: "sent";
  /** The service's decoded answer, for the caller to read. */
  answer?: unknown;
}

/**
 * The batch was not taken and may be taken later: keep it, back off, retry.
 *
 * @example
 * ```ts
 * import type { RetryOutcome } from "@edgewire/sdk";
 *
 * const outcome: RetryOutcome = { kind: "retry", reason: "rate_limited", status: 429, retryAfterMs: 7000 };
 * ```
 */
export interface RetryOutcome {
  /** Always `"retry"`. */
  kind: "retry";
  /**
   * Why: `"server_error"` (5xx), `"timeout"` (408 or no answer in time),
   * `"rate_limited"` (429), `"network"`, `"unrecognised_answer"` (not the
   * service's JSON, or a refusal the client does not recognise),
   * `"aborted"` (the caller stopped it; no backoff), or a client's own.
   */
  reason: string;
  /** The least wait the server asked for (`Retry-After`), in milliseconds. */
  retryAfterMs?: number;
  /** The HTTP status, when an answer arrived. */
  status?: number;
  /** The error or answer behind it. */
  error?: unknown;
  /** The service's decoded answer, when one arrived. */
  answer?: unknown;
}

/**
 * The service refused the batch for good: retrying cannot help, so it is
 * removed and counted under `reason`.
 *
 * @example
 * ```ts
 * import type { DroppedOutcome } from "@edgewire/sdk";
 *
 * const outcome: DroppedOutcome = { kind: "dropped", reason: "rejected", status: 400 };
 * ```
 */
export interface DroppedOutcome {
  /** Always `"dropped"`. */
  kind: "dropped";
  /** Why, as counted in the client's `droppedByReason`. */
  reason: string;
  /** The HTTP status of the refusal. */
  status?: number;
  /** The error or answer behind it. */
  error?: unknown;
  /** The service's decoded answer. */
  answer?: unknown;
}

/**
 * What one delivery attempt came to.
 *
 * @example Branch on the kind
 * ```ts
 * import type { SendOutcome } from "@edgewire/sdk";
 *
 * function describe(outcome: SendOutcome): string {
 *   if (outcome.kind === "sent") return "sent";
 *   if (outcome.kind === "dropped") return `dropped: ${outcome.reason}`;
 *   return `retry (${outcome.reason}) after at least ${outcome.retryAfterMs ?? 0} ms`;
 * }
 * console.log(describe({ kind: "retry", reason: "network" }));
 * ```
 */
export type SendOutcome = SentOutcome | RetryOutcome | DroppedOutcome;
