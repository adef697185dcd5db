/**
 * The upload half of the Honch client: takes the head of the queue, builds
 * one wire-v2 batch (same identity and session, within the SDK limits),
 * frames it, POSTs the frames to `/capture`, and turns the answer into a
 * {@linkcode FlushStep} under the capture response policy, with the retry
 * backoff and the spacing between successful uploads that the original SDK
 * applies. It never touches the queue itself: the client consumes what a
 * step says was sent or dropped.
 *
 * @module
 */

import { InvalidArgumentError, NetworkError, TimeoutError } from "../core/errors.ts";
import { type CaptureAnswer, sendCapture } from "./_capture_request.ts";
import type { DeliveryStep } from "./results.ts";
import type { HonchTransport } from "./transport.ts";
import { encodeFrames } from "./frames.ts";
import { toWireValue, type WireValue } from "./wire_value.ts";
import {
  encodeMessage,
  largestFittingPrefix,
  WIRE_LIMITS,
  type WireBatch,
  type WireContextEntry,
  type WireEvent,
  type WireProperty,
} from "./wire_v2.ts";

/**
 * One event as the client queues it. `properties` holds the plain JavaScript
 * values given to `track()` (plus the automatic ones), already validated with
 * `toWireValue`; they are converted again when a batch is built, so the
 * durable queue stores only JSON-like values (a queue codec that keeps
 * `bigint` and `Uint8Array` values is the client's concern).
 */
export interface QueuedEvent {
  /** The event name. */
  name: string;
  /** When the event happened, in Unix milliseconds. */
  timestampMs: number;
  /** The identity the event belongs to: context id 1 of its batch. */
  distinctId: string;
  /** The session the event belongs to: context id 8 of its batch, when present. */
  sessionId?: string;
  /**
   * User and automatic properties in sending order. `$battery_level` and
   * `$wifi_rssi` integers are written with the signed `int` tag, as the C SDK does.
   */
  properties: Record<string, unknown>;
}

/** The device and SDK context written into every batch (context ids 2 to 7). */
export interface DeliveryContext {
  /** `$device_id`, context id 2. */
  deviceId: string;
  /** `$device_model`, context id 3. */
  deviceModel: string;
  /** `$firmware_version`, context id 4. */
  firmwareVersion: string;
  /** `$sdk_platform`, context id 5. */
  sdkPlatform: string;
  /** `$sdk_version`, context id 6. */
  sdkVersion: string;
  /** `$environment`, context id 7. */
  environment: string;
}

/** Settings of a {@linkcode Delivery}; the client validates and fills them in. */
export interface DeliveryOptions {
  /** The collector base URL; `/capture` is appended after trailing slashes are removed. */
  endpointUrl: string;
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
  /** The first retry delay, in milliseconds. */
  retryInitialMs: number;
  /** The largest retry delay before jitter, in milliseconds. */
  retryMaxMs: number;
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
   * Passed to fetch so the upload survives the page unloading.
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

const CONTENT_TYPE = "application/vnd.honch.chunk";
const DEFAULT_MAX_FRAME_BYTES = 4096;
// The C SDK writes these reserved numbers with the signed tag whatever their sign.
const SIGNED_RESERVED_KEYS = new Set(["$battery_level", "$wifi_rssi"]);

/** An upload that has not finished: resumed at `nextFrame` when the same bytes are sent again. */
interface Upload {
  message: Uint8Array;
  messageId: number;
  nextFrame: number;
}

/**
 * Sends the queue's head batch by batch, one {@linkcode Delivery.step} at a
 * time, and keeps the retry and spacing state between steps. Steps must not
 * overlap: the client awaits each before the next.
 *
 * Message ids: a batch takes `messageIdSeed + n` (mod 2^32), where `n` counts
 * batches finished (sent or dropped after sending). A retried batch with the
 * same bytes keeps its id, so a collector that already took it answers as for a
 * duplicate; a retried batch whose bytes changed (the queue moved) takes the
 * next id. A non-final frame that failed with a retryable answer is resumed
 * from that frame; a 409 restarts the upload from offset 0.
 */
export class Delivery {
  readonly #options: DeliveryOptions;
  readonly #context: DeliveryContext;
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #maxFrameBytes: number;
  #sequence = 0;
  #delayMs: number;
  #retryAt: number | undefined;
  #retries = 0;
  #lastSuccessAt: number | undefined;
  #upload: Upload | undefined;

  /**
   * Creates a delivery with no failure and no success recorded.
   *
   * @param options Endpoint, key, clock, randomness, retry and batching settings.
   * @param context The device and SDK context of every batch.
   * @throws {InvalidArgumentError} When `streamId` is not 8 hex digits, `messageIdSeed` is not
   * a u32, or `batchSize` is not 1..50.
   */
  constructor(options: DeliveryOptions, context: DeliveryContext) {
    if (typeof options.streamId !== "string" || !/^[0-9a-fA-F]{8}$/.test(options.streamId)) {
      throw new InvalidArgumentError(
        "streamId",
        "Cannot create the delivery as 'streamId' must be 8 hex digits",
      );
    }
    if (
      !Number.isInteger(options.messageIdSeed) || options.messageIdSeed < 0 ||
      options.messageIdSeed > 0xffff_ffff
    ) {
      throw new InvalidArgumentError(
        "messageIdSeed",
        `Cannot create the delivery as 'messageIdSeed' must be an integer in 0..4294967295: current value is ${options.messageIdSeed}`,
      );
    }
    if (
      !Number.isInteger(options.batchSize) || options.batchSize < 1 ||
      options.batchSize > WIRE_LIMITS.maxEvents
    ) {
      throw new InvalidArgumentError(
        "batchSize",
        `Cannot create the delivery as 'batchSize' must be an integer in 1..${WIRE_LIMITS.maxEvents}: current value is ${options.batchSize}`,
      );
    }
    this.#options = options;
    this.#context = context;
    this.#url = options.endpointUrl.replace(/\/+$/, "") + "/capture";
    this.#headers = {
      "content-type": CONTENT_TYPE,
      "x-honch-project-key": options.apiKey,
      "x-honch-stream-id": options.streamId,
    };
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#delayMs = options.retryInitialMs;
  }

  /** How many failed uploads were scheduled for a retry since creation. */
  get retries(): number {
    return this.#retries;
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
    if (this.#retryAt === undefined) return 0;
    return Math.max(0, this.#retryAt - this.#options.now());
  }

  /**
   * Sends one batch from the head of `events`: the leading run sharing the
   * first event's `distinctId` and `sessionId`, at most `batchSize`, cut to the
   * largest prefix that encodes within the wire limits (4096 bytes), as one
   * frame or several, and applies the capture response policy to the answer.
   *
   * @param events The queue, oldest first; never modified.
   * @param options `keepalive` for fetch, and whether to ignore the spacing.
   * @returns What happened; the client consumes the events of `sent` and `dropped`.
   * @throws {Error} Only on a programming error, such as an invalid `timeoutMs`.
   */
  async step(events: readonly QueuedEvent[], options: StepOptions = {}): Promise<FlushStep> {
    if (events.length === 0) return { kind: "empty" };
    const now = this.#options.now();
    if (this.#retryAt !== undefined) {
      if (now < this.#retryAt) return { kind: "backoff", waitMs: this.#retryAt - now };
      this.#retryAt = undefined;
    }
    const spacingWait = this.#spacingWait(now);
    if (spacingWait > 0 && options.ignoreSpacing !== true) {
      return { kind: "spacing", waitMs: spacingWait };
    }

    const built = this.#buildBatch(events);
    if (built.count === 0) {
      return { kind: "dropped", events: 1, reason: built.unconvertible ? "rejected" : "oversize" };
    }
    const message = encodeMessage(built.batch);
    const upload = this.#resumeOrStart(message);
    const frames = encodeFrames(message, {
      messageId: upload.messageId,
      maxFrameBytes: this.#maxFrameBytes,
    });

    for (let index = upload.nextFrame; index < frames.length; index++) {
      const final = index === frames.length - 1;
      let answer: CaptureAnswer;
      try {
        answer = await sendCapture(this.#options.transport, {
          url: this.#url,
          method: "POST",
          headers: this.#headers,
          body: frames[index],
          keepalive: options.keepalive === true,
          timeoutMs: this.#options.timeoutMs,
        }, this.#options.now);
      } catch (error) {
        return this.#failed(error);
      }
      const status = answer.status;
      if (status < 200 || status > 299) return this.#refused(answer, upload, built.count);
      if (!final) {
        // The frame is stored; a later failure resumes after it.
        upload.nextFrame = index + 1;
        continue;
      }
      if (status === 202) {
        // "Chunk stored" for the last frame means the message is not complete: send it all again.
        upload.nextFrame = 0;
        return this.#scheduleRetry(202, undefined, undefined);
      }
      this.#finish();
      this.#delayMs = this.#options.retryInitialMs;
      this.#lastSuccessAt = this.#options.now();
      return { kind: "sent", events: built.count };
    }
    // Unreachable: encodeFrames always returns at least one frame.
    throw new Error("Cannot send a message without frames");
  }

  #spacingWait(now: number): number {
    const interval = this.#options.minIntervalMs;
    if (this.#lastSuccessAt === undefined || interval === SPACING_DISABLED || interval <= 0) {
      return 0;
    }
    return this.#lastSuccessAt + interval - now;
  }

  #buildBatch(
    events: readonly QueuedEvent[],
  ): { batch: WireBatch; count: number; unconvertible: boolean } {
    const first = events[0];
    const limit = Math.min(this.#options.batchSize, WIRE_LIMITS.maxEvents, events.length);
    const wireEvents: WireEvent[] = [];
    let unconvertible = false;
    for (let index = 0; index < limit; index++) {
      const event = events[index];
      if (event.distinctId !== first.distinctId || event.sessionId !== first.sessionId) break;
      const converted = toWireEvent(event);
      if (converted === undefined) {
        unconvertible = index === 0;
        break;
      }
      wireEvents.push(converted);
    }
    const context = this.#contextOf(first);
    const candidate: WireBatch = {
      baseTimeMs: first.timestampMs,
      context,
      events: wireEvents,
    };
    const count = largestFittingPrefix(candidate);
    return {
      batch: { ...candidate, events: wireEvents.slice(0, count) },
      count,
      unconvertible,
    };
  }

  #contextOf(first: QueuedEvent): WireContextEntry[] {
    const c = this.#context;
    const values = [
      first.distinctId,
      c.deviceId,
      c.deviceModel,
      c.firmwareVersion,
      c.sdkPlatform,
      c.sdkVersion,
      c.environment,
    ];
    const context: WireContextEntry[] = values.map((value, index) => ({
      id: index + 1,
      value: { type: "string", value },
    }));
    if (first.sessionId !== undefined) {
      context.push({ id: 8, value: { type: "string", value: first.sessionId } });
    }
    return context;
  }

  #resumeOrStart(message: Uint8Array): Upload {
    const previous = this.#upload;
    if (previous !== undefined) {
      if (sameBytes(previous.message, message)) return previous;
      // The batch changed since the failed attempt: its id may already name other bytes.
      this.#sequence++;
    }
    const upload: Upload = {
      message,
      messageId: (this.#options.messageIdSeed + this.#sequence) >>> 0,
      nextFrame: 0,
    };
    this.#upload = upload;
    return upload;
  }

  #finish(): void {
    this.#upload = undefined;
    this.#sequence++;
  }

  /** Applies the capture response policy to an answer outside 200..299. */
  #refused(answer: CaptureAnswer, upload: Upload, count: number): FlushStep {
    const status = answer.status;
    if (status === 401) {
      this.#finish();
      return { kind: "dropped", events: count, reason: "auth_error", status };
    }
    if (status === 409) {
      upload.nextFrame = 0;
      // A collision means the id names another message for good: move to the next one.
      if (answer.code === "message_collision") this.#finish();
      return this.#scheduleRetry(status, answer.retryAfterMs, answer.failure);
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      this.#finish();
      return { kind: "dropped", events: count, reason: "rejected", status };
    }
    return this.#scheduleRetry(status, answer.retryAfterMs, answer.failure);
  }

  #failed(error: unknown): FlushStep {
    if (error instanceof TimeoutError || error instanceof NetworkError) {
      return this.#scheduleRetry(undefined, undefined, error);
    }
    throw error;
  }

  #scheduleRetry(
    status: number | undefined,
    retryAfterMs: number | undefined,
    error: unknown,
  ): FlushStep {
    const delay = this.#delayMs;
    const jittered = Math.round(delay * (0.75 + 0.5 * this.#options.random()));
    this.#delayMs = Math.min(delay * 2, this.#options.retryMaxMs);
    const waitMs = Math.max(jittered, retryAfterMs ?? 0);
    this.#retryAt = this.#options.now() + waitMs;
    this.#retries++;
    const step: { kind: "retry"; waitMs: number; status?: number; error?: unknown } = {
      kind: "retry",
      waitMs,
    };
    if (status !== undefined) step.status = status;
    if (error !== undefined) step.error = error;
    return step;
  }
}

function toWireEvent(event: QueuedEvent): WireEvent | undefined {
  const properties: WireProperty[] = [];
  try {
    for (const key of Object.keys(event.properties)) {
      let value: WireValue = toWireValue(event.properties[key], { path: `properties.${key}` });
      if (value.type === "uint" && SIGNED_RESERVED_KEYS.has(key)) {
        value = { type: "int", value: value.value };
      }
      properties.push({ key, value });
    }
  } catch (error) {
    if (error instanceof TypeError) return undefined;
    throw error;
  }
  return { name: event.name, timestampMs: event.timestampMs, properties };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) {
    if (a[index] !== b[index]) return false;
  }
  return true;
}
