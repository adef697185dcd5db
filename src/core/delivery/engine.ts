/**
 * The drain engine every client delivers through. A {@linkcode DeliverySource}
 * forms batches from a queue; the engine sends them one at a time through
 * the client's `send` and acts on the {@linkcode SendOutcome}: *sent* and
 * *dropped* settle the batch and reset the backoff, *retry* keeps the batch,
 * closes the {@linkcode BackoffGate} and ends the drain. A batch, once
 * formed, is kept as it is (same bytes, same id or idempotency key) until it
 * is settled; items queued meanwhile go to later batches.
 *
 * @module
 */

import { BackoffGate, type BackoffGateOptions } from "../backoff.ts";
import { invalidArgument, optionalFunction, optionalObject } from "../validate.ts";
import type { DroppedOutcome, RetryOutcome, SendOutcome, SentOutcome } from "./outcome.ts";

/**
 * Where batches come from, and where their fate goes. `next()` forms the
 * next batch from the head of the client's queue without removing it;
 * `settle()` removes what a sent or dropped batch held (and counts a drop).
 *
 * @example A source over a plain array, one item per batch
 * ```ts
 * import type { DeliverySource } from "@edgewire/sdk";
 *
 * const items = ["a", "b"];
 * const source: DeliverySource<string> = {
 *   next: () => items[0],
 *   settle: (batch) => {
 *     if (items[0] === batch) items.shift();
 *   },
 * };
 * ```
 */
export interface DeliverySource<B> {
  /**
   * Forms the next batch, or answers `undefined` when nothing is queued.
   * Called only when no batch is pending.
   */
  next(): B | undefined | Promise<B | undefined>;
  /** Removes a batch the service took or refused; for a drop, counts it under the reason. */
  settle(batch: B, outcome: SentOutcome | DroppedOutcome): void | Promise<void>;
}

/** What `send` is told besides the batch. */
export interface SendContext {
  /** 1 for a batch's first try, 2 for its first retry, and so on. */
  attempt: number;
  /** The drain's signal: a send in flight should stop when it aborts. */
  signal?: AbortSignal;
}

/** Options of {@linkcode DeliveryEngine}. */
export interface DeliveryEngineOptions<B> {
  /** Forms and settles batches. */
  source: DeliverySource<B>;
  /**
   * Sends one batch and tells what came of it. A rejection is taken as a
   * retry with reason `"unexpected"`, so a bug never loses a batch.
   */
  send: (batch: B, context: SendContext) => Promise<SendOutcome>;
  /**
   * The backoff gate, when the client shares one between this engine and
   * its direct calls.
   *
   * @default a new BackoffGate(backoff)
   */
  gate?: BackoffGate;
  /**
   * The backoff of a gate the engine makes itself: capped exponential with
   * full jitter unless `jitter` says otherwise.
   *
   * @default { initialMs: 1000, maxMs: 300000, jitter: "full" }
   */
  backoff?: BackoffGateOptions;
}

/** Options of {@linkcode DeliveryEngine.drain}. */
export interface DrainOptions {
  /**
   * Sends even while the gate is closed, for a last attempt at shutdown.
   *
   * @default false
   */
  force?: boolean;
  /**
   * Stops the drain; a batch in flight stays pending, without backoff.
   *
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * The most batches this drain sends (settled or not).
   *
   * @default Infinity
   */
  maxBatches?: number;
}

/** What one drain did. */
export interface DrainResult {
  /** Batches the service took. */
  sent: number;
  /** Batches the service refused. */
  dropped: number;
  /**
   * Why the drain ended: nothing left, the gate closed (or was closed),
   * the signal aborted, or `maxBatches` was reached.
   */
  state: "drained" | "backoff" | "aborted" | "limit";
  /** How long the gate stays closed, in milliseconds; 0 unless `state` is `"backoff"`. */
  waitMs: number;
  /** The retry that closed the gate, when this drain saw one. */
  retry?: RetryOutcome;
}

/** Counters of a {@linkcode DeliveryEngine} since its creation. */
export interface DeliveryStats {
  /** Batches the service took. */
  sent: number;
  /** Batches the service refused, in total. */
  dropped: number;
  /** Batches the service refused, per reason. */
  droppedByReason: Record<string, number>;
  /** Attempts answered with a retry. */
  retries: number;
  /** Milliseconds until the gate opens; 0 when open. */
  backoffRemainingMs: number;
}

/**
 * Drains a source through `send`, one batch at a time, with backoff.
 * Concurrent drains share one run.
 *
 * @example Drain an array through a send that fails once
 * ```ts
 * import { DeliveryEngine } from "@edgewire/sdk";
 *
 * const items = ["a", "b"];
 * let now = 0;
 * let fail = true;
 * const engine = new DeliveryEngine<string>({
 *   source: { next: () => items[0], settle: (batch) => void (items[0] === batch && items.shift()) },
 *   send: (batch) => {
 *     if (fail) {
 *       fail = false;
 *       return Promise.resolve({ kind: "retry", reason: "server_error", status: 503 });
 *     }
 *     return Promise.resolve({ kind: "sent" });
 *   },
 *   backoff: { initialMs: 1000, random: () => 0.5, now: () => now },
 * });
 * console.log((await engine.drain()).state); // "backoff", with "a" still pending
 * now += 500;
 * console.log(await engine.drain()); // { sent: 2, dropped: 0, state: "drained", waitMs: 0 }
 * ```
 */
export class DeliveryEngine<B> {
  readonly #source: DeliverySource<B>;
  readonly #send: (batch: B, context: SendContext) => Promise<SendOutcome>;
  readonly #gate: BackoffGate;
  #pending: B | undefined;
  #attempt = 0;
  #draining: Promise<DrainResult> | undefined;
  #sent = 0;
  #dropped = 0;
  #retries = 0;
  readonly #droppedByReason = new Map<string, number>();

  /**
   * Creates an engine with nothing pending.
   *
   * @param options The source, the send function and the backoff.
   * @throws {InvalidArgumentError} When `source` or `send` is missing, or a backoff option is
   * unusable.
   */
  constructor(options: DeliveryEngineOptions<B>) {
    const action = "create DeliveryEngine";
    const source = optionalObject<DeliverySource<B>>(action, "source", options.source, [
      "next",
      "settle",
    ]);
    const send = optionalFunction<DeliveryEngineOptions<B>["send"]>(action, "send", options.send);
    if (source === undefined) throw invalidArgument(action, "source", "an object", source);
    if (send === undefined) throw invalidArgument(action, "send", "a function", send);
    this.#source = source;
    this.#send = send;
    this.#gate = options.gate ?? new BackoffGate(options.backoff);
  }

  /** The batch formed and not settled yet: it is sent again, unchanged, by the next drain. */
  get pending(): B | undefined {
    return this.#pending;
  }

  /** The gate this engine waits on. */
  get gate(): BackoffGate {
    return this.#gate;
  }

  /**
   * Sends batches until the source is empty, a retry closes the gate, the
   * signal aborts or `maxBatches` is reached. Never rejects unless the
   * source itself throws.
   *
   * @param options Whether to ignore the gate, a stop signal and a batch limit.
   * @returns What this drain did, or what the drain already running does.
   * @throws {Error} Only what the source's `next` or `settle` throws.
   *
   * @example
   * ```ts
   * import { DeliveryEngine } from "@edgewire/sdk";
   *
   * const engine = new DeliveryEngine<number>({
   *   source: { next: () => undefined, settle: () => {} },
   *   send: () => Promise.resolve({ kind: "sent" }),
   * });
   * console.log((await engine.drain({ maxBatches: 1 })).state); // "drained"
   * ```
   */
  drain(options: DrainOptions = {}): Promise<DrainResult> {
    this.#draining ??= this.#drain(options).finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  /**
   * The engine's counters.
   *
   * @returns Batches sent, dropped (per reason), retries and the remaining backoff.
   *
   * @example
   * ```ts
   * import { DeliveryEngine } from "@edgewire/sdk";
   *
   * const engine = new DeliveryEngine<number>({
   *   source: { next: () => undefined, settle: () => {} },
   *   send: () => Promise.resolve({ kind: "sent" }),
   * });
   * console.log(engine.stats().retries); // 0
   * ```
   */
  stats(): DeliveryStats {
    return {
      sent: this.#sent,
      dropped: this.#dropped,
      droppedByReason: Object.fromEntries(this.#droppedByReason),
      retries: this.#retries,
      backoffRemainingMs: this.#gate.remainingMs(),
    };
  }

  async #drain(options: DrainOptions): Promise<DrainResult> {
    const result: DrainResult = { sent: 0, dropped: 0, state: "drained", waitMs: 0 };
    const maxBatches = options.maxBatches ?? Infinity;
    let batches = 0;
    for (;;) {
      if (options.signal?.aborted) return { ...result, state: "aborted" };
      if (batches >= maxBatches) return { ...result, state: "limit" };
      const waitMs = this.#gate.remainingMs();
      if (waitMs > 0 && options.force !== true) return { ...result, state: "backoff", waitMs };
      this.#pending ??= await this.#source.next();
      const batch = this.#pending;
      if (batch === undefined) return result;
      batches++;
      this.#attempt++;
      let outcome: SendOutcome;
      try {
        outcome = await this.#send(batch, { attempt: this.#attempt, signal: options.signal });
      } catch (error) {
        outcome = { kind: "retry", reason: "unexpected", error };
      }
      if (outcome.kind === "retry") {
        if (outcome.reason === "aborted" && options.signal?.aborted) {
          return { ...result, state: "aborted" };
        }
        this.#retries++;
        const closedMs = this.#gate.failed(outcome.retryAfterMs);
        return { ...result, state: "backoff", waitMs: closedMs, retry: outcome };
      }
      // The service answered: it is up, whatever it thought of this batch
      this.#gate.succeeded();
      this.#pending = undefined;
      this.#attempt = 0;
      await this.#source.settle(batch, outcome);
      if (outcome.kind === "sent") {
        this.#sent++;
        result.sent++;
      } else {
        this.#dropped++;
        result.dropped++;
        this.#droppedByReason.set(
          outcome.reason,
          (this.#droppedByReason.get(outcome.reason) ?? 0) + 1,
        );
      }
    }
  }
}
