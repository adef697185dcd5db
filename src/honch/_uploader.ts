/**
 * Drives the Honch delivery from the client's queue: `tick()` sends one
 * batch when it is due, and `flush()` sends batch after batch, waiting out
 * the backoff within its deadline, stopping at a refused project key, and
 * reporting failures as typed Honch errors. The delivery (`_delivery.ts`,
 * on the core engine) does the sending, the backoff and the consuming.
 *
 * @module
 */

import { delay } from "../core/delay.ts";
import { nonNegativeNumber } from "../core/validate.ts";
import { detectRuntime } from "../core/runtime/mod.ts";
import { Delivery, type FlushStep, type StepOptions } from "./_delivery.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";
import type { EventQueue } from "./_event_queue.ts";
import {
  type HonchError,
  OfflineError,
  RateLimitedError,
  RejectedError,
  ServerError,
  TransportError,
} from "./errors.ts";
import type { FlushResult, TickResult } from "./results.ts";

const DEFAULT_DEADLINE_MS = 10_000;

/** What an {@linkcode Uploader} works with besides the options. */
export interface UploaderParts {
  /** The events to send. */
  queue: EventQueue;
  /** The SDK behaviour version, `$sdk_version`. */
  sdkVersion: string;
  /** Settles once the queue is restored and the start events are queued. */
  started: Promise<void>;
  /** Whether the device is online. */
  online: () => boolean;
  /** Queues what is waiting outside the queue (coalesced `$error` events) before a flush. */
  beforeFlush: () => void;
}

/** Sends the queue batch by batch. */
export class Uploader {
  readonly #parts: UploaderParts;
  readonly #delivery: Delivery;
  readonly #now: () => number;
  readonly #flushEventThreshold: number;
  readonly #flushIntervalMs: number;
  readonly #aborter = new AbortController();
  #lastAttemptAt: number;

  /**
   * Creates the uploader and its delivery; nothing is sent yet.
   *
   * @param options The client's validated options.
   * @param parts The queue and the client state it reads.
   */
  constructor(options: ResolvedOptions, parts: UploaderParts) {
    this.#parts = parts;
    this.#delivery = createDelivery(options, parts.sdkVersion, parts.queue);
    this.#now = options.now;
    this.#flushEventThreshold = options.flushEventThreshold;
    this.#flushIntervalMs = options.flushIntervalMs;
    this.#lastAttemptAt = options.now();
  }

  /** Failed uploads scheduled for a retry since creation. */
  get retries(): number {
    return this.#delivery.retries;
  }

  /** Events capture accepted since creation. */
  get sent(): number {
    return this.#delivery.sent;
  }

  /**
   * Uploads one batch when `flushEventThreshold` events are queued or
   * `flushIntervalMs` passed since the last upload attempt; see `HonchClient.tick`.
   *
   * @returns The step taken, or why none was.
   */
  async tick(): Promise<TickResult> {
    await this.#parts.started;
    this.#parts.beforeFlush();
    if (!this.#parts.online()) return { kind: "offline" };
    const queued = this.#parts.queue.length;
    if (queued === 0) return { kind: "empty" };
    const due = queued >= this.#flushEventThreshold ||
      this.#now() - this.#lastAttemptAt >= this.#flushIntervalMs;
    if (!due) return { kind: "not_due" };
    return await this.step({});
  }

  /**
   * The final flush of a shutdown: never throws, then ends every wait and
   * waits for the queue to be persisted.
   *
   * @param deadlineMs How long the flush may take.
   * @returns What it did; nothing sent when offline.
   */
  async close(deadlineMs: number | undefined): Promise<FlushResult> {
    let result: FlushResult;
    try {
      result = await this.flush(deadlineMs);
    } catch {
      // Offline (or a bad deadline): what is queued stays persisted for the next start.
      await this.#parts.started;
      this.#parts.beforeFlush();
      result = { sent: 0, dropped: 0, remaining: this.#parts.queue.length, stopped: "deadline" };
    }
    this.#aborter.abort();
    await this.#parts.queue.persisted();
    return result;
  }

  /**
   * Runs one delivery step after the steps already started.
   *
   * @param options `keepalive`, and whether to ignore the spacing between uploads.
   * @returns What the step did.
   */
  async step(options: StepOptions): Promise<FlushStep> {
    await this.#parts.started;
    const step = await this.#delivery.step(options);
    if (step.kind === "sent" || step.kind === "dropped" || step.kind === "retry") {
      this.#lastAttemptAt = this.#now();
    }
    return step;
  }

  /**
   * Uploads until the queue is empty or the deadline passes.
   *
   * @param deadlineMs How long it may take, waits included.
   * @returns How many events were sent and dropped, how many remain, and the last failure.
   * @throws {InvalidArgumentError} When `deadlineMs` is not a finite number of 0 or more.
   * @throws {OfflineError} When the device is offline.
   */
  async flush(deadlineMs: number = DEFAULT_DEADLINE_MS): Promise<FlushResult> {
    nonNegativeNumber("flush", "deadlineMs", deadlineMs);
    const { queue } = this.#parts;
    const { signal } = this.#aborter;
    const now = this.#now;
    await this.#parts.started;
    this.#parts.beforeFlush();
    if (!this.#parts.online()) {
      throw new OfflineError(
        "Cannot flush while offline: call connected() once the network is back",
      );
    }
    const deadline = now() + deadlineMs;
    let waited = 0;
    let sent = 0;
    let dropped = 0;
    let error: HonchError | undefined;
    const stop = (stopped: "deadline" | "auth_error"): FlushResult => ({
      sent,
      dropped,
      remaining: queue.length,
      stopped,
      error,
    });
    for (;;) {
      if (queue.length === 0) break;
      const step = await this.step({ ignoreSpacing: true });
      if (step.kind === "empty") break;
      if (step.kind === "sent") {
        sent += step.events;
        continue;
      }
      if (step.kind === "dropped") {
        dropped += step.events;
        error = droppedError(step);
        // A refused project key refuses every batch: keep the rest queued until the key is fixed
        if (step.reason === "auth_error") return stop("auth_error");
        continue;
      }
      if (step.kind === "retry") error = retryError(step);
      // The injected clock may stand still, so real waiting time also counts against the deadline.
      const left = Math.min(deadline - now(), deadlineMs - waited);
      if (step.waitMs > left || signal.aborted) return stop("deadline");
      try {
        // Referenced on purpose: the caller awaits this flush, and an unreferenced wait would let
        // Deno end with the promise pending. The deadline bounds it; shutdown() aborts it.
        await delay(step.waitMs, { signal });
      } catch {
        return stop("deadline");
      }
      waited += step.waitMs;
    }
    const result: FlushResult = { sent, dropped, remaining: 0, stopped: "drained" };
    if (error !== undefined) result.error = error;
    return result;
  }
}

/**
 * Makes the client's delivery from its validated options: a random stream id
 * that also seeds the message ids, and the context of the runtime it runs in.
 *
 * @param options The client's validated options.
 * @param sdkVersion The SDK behaviour version, `$sdk_version`.
 * @param queue The events to send.
 * @returns A delivery with no failure and no success recorded.
 */
function createDelivery(
  options: ResolvedOptions,
  sdkVersion: string,
  queue: EventQueue,
): Delivery {
  const streamSeed = Math.floor(options.random() * 0x1_0000_0000) >>> 0;
  return new Delivery({
    endpoint: options.endpoint,
    apiKey: options.apiKey,
    transport: options.transport,
    timeoutMs: options.timeoutMs,
    now: options.now,
    random: options.random,
    backoff: options.backoff,
    minIntervalMs: options.minIntervalMs,
    batchSize: options.batchSize,
    streamId: streamSeed.toString(16).padStart(8, "0"),
    messageIdSeed: streamSeed,
  }, {
    deviceId: options.deviceId,
    deviceModel: options.deviceModel,
    firmwareVersion: options.firmwareVersion,
    sdkPlatform: `javascript-${detectRuntime(options.globals).name}`,
    sdkVersion,
    environment: options.environment,
  }, queue);
}

function droppedError(step: Extract<FlushStep, { kind: "dropped" }>): RejectedError {
  const why = step.reason === "oversize"
    ? "it is too large for one message"
    : `capture answered ${step.status ?? "with a refusal"}`;
  return new RejectedError(
    `Dropped ${step.events} event(s) as ${why}: check the events and the project key`,
    step.status,
  );
}

function retryError(step: Extract<FlushStep, { kind: "retry" }>): HonchError {
  const status = step.status;
  if (status === 429) {
    return new RateLimitedError(
      "Cannot upload events as capture answered 429: they stay queued and are retried",
      step.waitMs,
    );
  }
  if (status !== undefined && status !== 0) {
    return new ServerError(
      `Cannot upload events as capture answered ${status}: they stay queued and are retried`,
      status,
    );
  }
  return new TransportError(
    "Cannot upload events as the request failed or timed out: they stay queued and are retried",
    { cause: step.error },
  );
}
