/**
 * The upload half of the Honch client, on the core delivery engine: the
 * queue's head becomes one wire-v2 batch (`_capture_batch.ts`) with a message
 * id, framed and POSTed to `/capture` frame by frame; each answer is read
 * under the capture response policy (`_capture_policy.ts`), and the engine
 * settles the batch or backs off with the ±25% jitter of the protocol. A
 * batch, once formed, keeps its bytes and message id until capture takes or
 * refuses it: events queued meanwhile go to the next batch. On top, the
 * spacing between successful uploads that `tick()` keeps.
 *
 * @module
 */

import { describeUrl } from "../core/_http_text.ts";
import { BackoffGate, type Jitter } from "../core/backoff.ts";
import { capture, DeliveryEngine, type SendOutcome } from "../core/delivery/mod.ts";
import { integer, invalidArgument } from "../core/validate.ts";
import { buildBatch, type DeliveryContext, type QueuedEvent } from "./_capture_batch.ts";
import { frameOutcome } from "./_capture_policy.ts";
import { sendCapture } from "./_capture_request.ts";
import { encodeFrames } from "./frame_encoder.ts";
import type { DeliveryStep } from "./results.ts";
import type { HonchTransport } from "./transport.ts";
import { WIRE_LIMITS } from "./wire_tables.ts";

export type { DeliveryContext, QueuedEvent } from "./_capture_batch.ts";

/** The part of the client's queue a delivery reads and consumes. */
export interface DeliveryQueue {
  /** The oldest events, without removing them; the same objects on every call. */
  peek(count: number): QueuedEvent[];
  /** Removes the first `count` events as sent. */
  shift(count: number): void;
  /** Removes the first `count` events as dropped, counted under `reason`. */
  drop(count: number, reason: string): void;
}

/** Settings of a {@linkcode Delivery}; the client validates and fills them in. */
export interface DeliveryOptions {
  /** The collector base URL; `/capture` is appended after trailing slashes are removed. */
  endpoint: string;
  /** The project key, sent as `X-Honch-Project-Key`. */
  apiKey: string;
  /** Sends each frame; `fetchTransport(fetch)` unless the client was given its own. */
  transport: HonchTransport;
  /** The deadline of each frame's request, in milliseconds. */
  timeoutMs: number;
  /** The clock, in Unix milliseconds. */
  now: () => number;
  /** Uniform numbers in [0, 1), for the backoff jitter. */
  random: () => number;
  /** The retry backoff: first and largest delay, in milliseconds, and the jitter. */
  backoff: { initialMs: number; maxMs: number; jitter: Jitter };
  /** The least time between successful uploads, in milliseconds; `0xFFFFFFFF` disables spacing. */
  minIntervalMs: number;
  /** The most events in one batch (at most 50, the wire limit). */
  batchSize: number;
  /** The upload stream id, 8 hex digits, sent as `X-Honch-Stream-Id`. */
  streamId: string;
  /** The first message id; later batches count up from it modulo 2^32. */
  messageIdSeed: number;
  /**
   * The largest frame, in bytes.
   *
   * @default 4096
   */
  maxFrameBytes?: number;
}

/** What one {@linkcode Delivery.step} did: the public `DeliveryStep`. */
export type FlushStep = DeliveryStep;

/** Options of one {@linkcode Delivery.step}. */
export interface StepOptions {
  /**
   * Passed to the transport so the upload survives the page unloading.
   *
   * @default false
   */
  keepalive?: boolean;
  /**
   * Sends even when the last success was less than `minIntervalMs` ago.
   *
   * @default false
   */
  ignoreSpacing?: boolean;
}

/** `minIntervalMs` with this value means no spacing, as in the original SDK. */
export const SPACING_DISABLED = 0xffff_ffff;

const ACTION = "create the delivery";
const CONTENT_TYPE = "application/vnd.honch.chunk";
const DEFAULT_MAX_FRAME_BYTES = 4096;
// The reason a batch is abandoned when its events left the queue's head (a reset, an overflow)
const SUPERSEDED = "superseded";

/** One batch as formed: its queued events, and its message and frames, or why it cannot go. */
interface CaptureBatch {
  /** The queued events it holds, the head of the queue when it was formed. */
  events: QueuedEvent[];
  /** Set when the head event cannot be sent at all; the batch then holds it alone. */
  problem?: "oversize" | "rejected";
  message: Uint8Array;
  messageId: number;
  frames: Uint8Array[];
  /** The frame to send next: later than 0 after capture stored the earlier ones. */
  nextFrame: number;
}

/**
 * Sends the queue's head batch by batch, one {@linkcode Delivery.step} at a
 * time (steps are serialised, so a batch is never in flight twice).
 *
 * Message ids: each batch formed takes `messageIdSeed + n` (mod 2^32) for the
 * n-th batch, and keeps it, with its bytes, through every retry, so a
 * collector that already took it answers as for a duplicate. Only a 409
 * `message_collision` (the id names another message) gives the same bytes the
 * next id. A frame that failed with a retryable answer is resent, after the
 * backoff, from that frame; a 409 or a 202 to the final frame restarts the
 * upload from offset 0.
 */
export class Delivery {
  readonly #options: DeliveryOptions;
  readonly #context: DeliveryContext;
  readonly #queue: DeliveryQueue;
  readonly #url: string;
  readonly #path: string;
  readonly #headers: Record<string, string>;
  readonly #maxFrameBytes: number;
  readonly #gate: BackoffGate;
  readonly #engine: DeliveryEngine<CaptureBatch>;
  #sequence = 0;
  #lastSuccessAt: number | undefined;
  #sentEvents = 0;
  #keepalive = false;
  #settled: FlushStep | typeof SUPERSEDED | undefined;
  #lock: Promise<unknown> = Promise.resolve();

  /**
   * Creates a delivery with no failure and no success recorded.
   *
   * @param options Endpoint, key, clock, randomness, backoff and batching settings.
   * @param context The device and SDK context of every batch.
   * @param queue The events to send, oldest first.
   * @throws {InvalidArgumentError} When `streamId` is not 8 hex digits, `messageIdSeed` is not
   * a u32, `batchSize` is not 1..50, or the backoff is unusable.
   */
  constructor(options: DeliveryOptions, context: DeliveryContext, queue: DeliveryQueue) {
    if (typeof options.streamId !== "string" || !/^[0-9a-fA-F]{8}$/.test(options.streamId)) {
      throw invalidArgument(ACTION, "streamId", "8 hex digits", options.streamId);
    }
    integer(ACTION, "messageIdSeed", options.messageIdSeed, undefined, {
      min: 0,
      max: 0xffff_ffff,
    });
    integer(ACTION, "batchSize", options.batchSize, undefined, { max: WIRE_LIMITS.maxEvents });
    this.#options = options;
    this.#context = context;
    this.#queue = queue;
    this.#url = options.endpoint.replace(/\/+$/, "") + "/capture";
    this.#path = describeUrl(this.#url, "the capture URL");
    this.#headers = {
      "content-type": CONTENT_TYPE,
      "x-honch-project-key": options.apiKey,
      "x-honch-stream-id": options.streamId,
    };
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#gate = new BackoffGate({ ...options.backoff, random: options.random, now: options.now });
    this.#engine = new DeliveryEngine<CaptureBatch>({
      source: {
        next: () => this.#form(),
        settle: (batch, outcome) => this.#settle(batch, outcome),
      },
      send: (batch) => this.#send(batch),
      gate: this.#gate,
    });
  }

  /** How many failed uploads were scheduled for a retry since creation. */
  get retries(): number {
    return this.#engine.stats().retries;
  }

  /** How many events capture accepted since creation. */
  get sent(): number {
    return this.#sentEvents;
  }

  /** When the last upload was accepted, in Unix milliseconds; `undefined` before the first. */
  get lastSuccessAt(): number | undefined {
    return this.#lastSuccessAt;
  }

  /**
   * Tells how long the backoff of the last failure still lasts.
   *
   * @returns Milliseconds until a step may send again; 0 when it may now.
   */
  backoffRemainingMs(): number {
    return this.#gate.remainingMs();
  }

  /**
   * Sends one batch, after the steps already started: the batch formed
   * earlier and not yet settled, else a new one from the head of the queue.
   *
   * @param options `keepalive` for the transport, and whether to ignore the spacing.
   * @returns What happened; a sent or dropped batch is already consumed from the queue.
   * @throws {Error} Only on a programming error.
   */
  step(options: StepOptions = {}): Promise<FlushStep> {
    const run = this.#lock.then(() => this.#step(options));
    this.#lock = run.catch(() => {});
    return run;
  }

  async #step(options: StepOptions): Promise<FlushStep> {
    for (;;) {
      if (this.#engine.pending === undefined && this.#queue.peek(1).length === 0) {
        return { kind: "empty" };
      }
      const backoffMs = this.#gate.remainingMs();
      if (backoffMs > 0) return { kind: "backoff", waitMs: backoffMs };
      const spacingMs = this.#spacingWait();
      if (spacingMs > 0 && options.ignoreSpacing !== true) {
        return { kind: "spacing", waitMs: spacingMs };
      }
      this.#keepalive = options.keepalive === true;
      this.#settled = undefined;
      const result = await this.#engine.drain({ maxBatches: 1 });
      const retry = result.retry;
      if (retry !== undefined) {
        const step: Extract<FlushStep, { kind: "retry" }> = {
          kind: "retry",
          waitMs: result.waitMs,
        };
        if (retry.status !== undefined) step.status = retry.status;
        if (retry.error !== undefined) step.error = retry.error;
        return step;
      }
      if (result.state === "backoff") return { kind: "backoff", waitMs: result.waitMs };
      const settled = this.#settled as FlushStep | typeof SUPERSEDED | undefined;
      // A batch whose events left the queue meanwhile was abandoned: form the next one
      if (settled === SUPERSEDED) continue;
      return settled ?? { kind: "empty" };
    }
  }

  #spacingWait(): number {
    const interval = this.#options.minIntervalMs;
    if (this.#lastSuccessAt === undefined || interval === SPACING_DISABLED || interval <= 0) {
      return 0;
    }
    return this.#lastSuccessAt + interval - this.#options.now();
  }

  #form(): CaptureBatch | undefined {
    const events = this.#queue.peek(this.#options.batchSize);
    if (events.length === 0) return undefined;
    const built = buildBatch(events, this.#options.batchSize, this.#context);
    if (built.problem !== undefined) {
      const none = new Uint8Array(0);
      return {
        events: [events[0]],
        problem: built.problem,
        message: none,
        messageId: 0,
        frames: [],
        nextFrame: 0,
      };
    }
    const messageId = this.#nextMessageId();
    return {
      events: events.slice(0, built.count),
      message: built.message,
      messageId,
      frames: encodeFrames(built.message, { messageId, maxFrameBytes: this.#maxFrameBytes }),
      nextFrame: 0,
    };
  }

  #nextMessageId(): number {
    return (this.#options.messageIdSeed + this.#sequence++) >>> 0;
  }

  async #send(batch: CaptureBatch): Promise<SendOutcome> {
    if (batch.problem !== undefined) return { kind: "dropped", reason: batch.problem };
    if (this.#headMatches(batch) < batch.events.length) {
      return { kind: "dropped", reason: SUPERSEDED };
    }
    const frames = batch.frames;
    for (let index = batch.nextFrame; index < frames.length; index++) {
      const final = index === frames.length - 1;
      const result = await capture(sendCapture(this.#options.transport, {
        url: this.#url,
        method: "POST",
        headers: this.#headers,
        body: frames[index],
        keepalive: this.#keepalive,
        timeoutMs: this.#options.timeoutMs,
      }, this.#options.now));
      const outcome = frameOutcome(result, this.#path);
      if (outcome.kind === "retry") {
        // A conflict means the stored frames are unusable: start again from the init frame
        batch.nextFrame = outcome.status === 409 ? 0 : index;
        if (outcome.reason === "message_collision") this.#renumber(batch);
        return outcome;
      }
      if (outcome.kind === "dropped") return outcome;
      if (!final) {
        // The frame is stored; a later failure resumes after it.
        batch.nextFrame = index + 1;
        continue;
      }
      if (result.answer?.status === 202) {
        // "Chunk stored" for the last frame means the message is not complete: send it all again.
        batch.nextFrame = 0;
        return { kind: "retry", reason: "chunk_stored", status: 202, answer: outcome.answer };
      }
      return outcome;
    }
    // Unreachable: encodeFrames always returns at least one frame.
    throw new Error("Cannot send a message without frames");
  }

  // The id names another message for good: the same bytes move to the next id
  #renumber(batch: CaptureBatch): void {
    batch.messageId = this.#nextMessageId();
    batch.frames = encodeFrames(batch.message, {
      messageId: batch.messageId,
      maxFrameBytes: this.#maxFrameBytes,
    });
  }

  /** How many of the batch's events are still at the head of the queue, in order. */
  #headMatches(batch: CaptureBatch): number {
    const head = this.#queue.peek(batch.events.length);
    let n = 0;
    while (n < head.length && head[n] === batch.events[n]) n++;
    return n;
  }

  #settle(batch: CaptureBatch, outcome: SendOutcome): void {
    if (outcome.kind === "retry") return;
    if (outcome.kind === "dropped" && outcome.reason === SUPERSEDED) {
      this.#settled = SUPERSEDED;
      return;
    }
    // Consume only what is still at the head: a reset or an overflow may have moved it.
    const n = this.#headMatches(batch);
    const events = batch.events.length;
    if (outcome.kind === "sent") {
      this.#queue.shift(n);
      this.#sentEvents += events;
      this.#lastSuccessAt = this.#options.now();
      this.#settled = { kind: "sent", events };
      return;
    }
    this.#queue.drop(n, outcome.reason);
    const step: Extract<FlushStep, { kind: "dropped" }> = {
      kind: "dropped",
      events,
      reason: outcome.reason as "rejected" | "auth_error" | "oversize",
    };
    if (outcome.status !== undefined) step.status = outcome.status;
    this.#settled = step;
  }
}
