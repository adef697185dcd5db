/**
 * The Honch client: tracks product events and the SDK's automatic lifecycle
 * events, keeps them in a bounded (optionally durable) queue and uploads them
 * in wire-v2 batches with backoff, spacing and offline handling.
 *
 * @module
 */

import { MemoryStorage, type Storage } from "../core/storage.ts";
import { delay } from "../core/delay.ts";
import { detectRuntime, processLifecycle } from "../core/runtime/mod.ts";
import { BoundedQueue } from "../core/queue.ts";
import { Delivery, type FlushStep, type QueuedEvent, SPACING_DISABLED } from "./_delivery.ts";
import {
  CLIENT_INTERNALS,
  type ClientInternals,
  type DeliveryLike,
  fitFrames,
  stackFrames,
  toQueuedValue,
  truncateUtf8,
  utf8Length,
} from "./_client_support.ts";
import {
  type HonchError,
  InvalidArgumentError,
  NotInitializedError,
  OfflineError,
  RateLimitedError,
  RejectedError,
  ServerError,
  StorageError,
  TransportError,
} from "./errors.ts";
import { PROMOTED_CONTEXT_KEYS, RESERVED_PROPERTY_IDS } from "./wire_v2.ts";

/**
 * The SDK behaviour version sent as `$sdk_version`.
 *
 * @example
 * ```ts
 * import { HONCH_SDK_VERSION } from "@edgewire/sdk/honch";
 *
 * console.log(HONCH_SDK_VERSION); // "0.1.0"
 * ```
 */
export const HONCH_SDK_VERSION = "0.1.0";

/** Options of {@linkcode HonchClient}; the first four are required. */
export interface HonchClientOptions {
  /** The project key, sent as `X-Honch-Project-Key`; never written to messages or storage. */
  apiKey: string;
  /** The stable device id: `$device_id`, and the distinct id until `identify()`. */
  deviceId: string;
  /** The device model, `$device_model`. */
  deviceModel: string;
  /** The firmware or app version, `$firmware_version`; a change emits `$firmware_update`. */
  firmwareVersion: string;
  /**
   * The capture base URL; `/capture` is appended. Honch documents no public
   * default host, so outside a page (where the page's origin is the default)
   * it must be given.
   *
   * @default the page's origin (`location.origin`) in browsers; required elsewhere
   */
  endpointUrl?: string;
  /**
   * The environment, `$environment`.
   *
   * @default "production"
   */
  environment?: string;
  /**
   * The most events per upload; values above 50 (the wire limit) are clamped to 50.
   *
   * @default 20
   */
  batchSize?: number;
  /**
   * The most events queued; tracking more drops the oldest, counted as `overflow`.
   *
   * @default 1000
   */
  maxQueuedEvents?: number;
  /**
   * The largest event, measured as the UTF-8 bytes of its queued JSON form.
   *
   * @default 8192
   */
  maxEventBytes?: number;
  /**
   * The deadline of each upload request, in milliseconds; clamped to 10000.
   *
   * @default 2500
   */
  transportTimeoutMs?: number;
  /**
   * `tick()` uploads when this many seconds passed since the last upload attempt.
   *
   * @default 120
   */
  flushIntervalSeconds?: number;
  /**
   * The least time between successful uploads started by `tick()`, in
   * milliseconds; `0xFFFFFFFF` disables the spacing.
   *
   * @default 15000
   */
  flushMinIntervalMs?: number;
  /**
   * `tick()` uploads when at least this many events are queued.
   *
   * @default 20
   */
  flushEventThreshold?: number;
  /**
   * The first retry delay after a failed upload, in milliseconds (doubled per failure, ±25% jitter).
   *
   * @default 1000
   */
  flushRetryInitialMs?: number;
  /**
   * The largest retry delay, in milliseconds.
   *
   * @default 300000
   */
  flushRetryMaxMs?: number;
  /**
   * `$battery_low` is emitted once when the battery level drops below this percentage.
   *
   * @default 15
   */
  batteryLowThreshold?: number;
  /**
   * The `reset_reason` of the `$device_boot` event, such as `"power_on"` or `"watchdog"`.
   *
   * @default "unknown"
   */
  resetReason?: string;
  /**
   * Tells whether the network is up; `false` makes `flush()` throw {@linkcode OfflineError}
   * and `tick()` skip. Without it only `disconnected()` makes the client offline.
   *
   * @default undefined
   */
  connectivity?: () => boolean;
  /**
   * The battery level in percent (0..100), stamped as `$battery_level`; `undefined` or a
   * negative number when unknown.
   *
   * @default undefined
   */
  batteryLevel?: () => number | undefined;
  /**
   * Extra properties stamped on every event. SDK-owned and reserved keys are ignored except
   * `$wifi_rssi`; keys the event already has are kept.
   *
   * @default undefined
   */
  autoProperties?: () => Record<string, unknown> | undefined;
  /**
   * Where the queue, the identified distinct id and the firmware version persist (keys
   * `honch:queue`, `honch:distinct_id`, `honch:firmware_version`). A durable storage keeps
   * queued events across restarts.
   *
   * @default new MemoryStorage()
   */
  storage?: Storage;
  /**
   * The fetch implementation.
   *
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The clock, in Unix milliseconds.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * Uniform numbers in [0, 1) for ids and backoff jitter.
   *
   * @default a generator based on crypto.getRandomValues
   */
  random?: () => number;
}

/** Options of {@linkcode HonchClient.prototype.flush}. */
export interface FlushOptions {
  /**
   * How long the flush may take, in milliseconds, including waits for backoff.
   *
   * @default 10000
   */
  deadlineMs?: number;
}

/** Options of {@linkcode HonchClient.prototype.reportLogError}. */
export interface LogErrorOptions {
  /**
   * The component or log tag the error comes from (at most 32 bytes are kept).
   *
   * @default undefined
   */
  component?: string;
}

/** What a {@linkcode HonchClient.prototype.flush} did. */
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

/** What one upload step did, as {@linkcode HonchClient.prototype.tick} reports it. */
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

/** What a {@linkcode HonchClient.prototype.tick} did: one delivery step, or why none. */
export type TickResult =
  | DeliveryStep
  /** The client is offline: nothing was attempted. */
  | { kind: "offline" }
  /** Neither the event threshold nor the flush interval was reached. */
  | { kind: "not_due" };

/** A snapshot of the client's queue and delivery counters. */
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

const SDK_OWNED_KEYS: ReadonlySet<string> = new Set(PROMOTED_CONTEXT_KEYS);
const MAX_EVENT_NAME_LENGTH = 128;
const MAX_DISTINCT_ID_BYTES = 256;
const MAX_PROPERTIES = 64;
const MAX_CONTEXT_BYTES = 512;
const MAX_BATCH_SIZE = 50;
const MAX_TRANSPORT_TIMEOUT_MS = 10_000;
const DEFAULT_DEADLINE_MS = 10_000;
const ERROR_SLOTS = 4;
const ERROR_COMPONENT_BYTES = 32;
const ERROR_MESSAGE_BYTES = 128;
const CRASH_MESSAGE_BYTES = 256;
// One wire string holds at most 512 bytes, so a longer backtrace could never be sent.
const CRASH_BACKTRACE_BYTES = 512;
const KEY_QUEUE = "honch:queue";
const KEY_DISTINCT_ID = "honch:distinct_id";
const KEY_FIRMWARE = "honch:firmware_version";

type Pending = { kind: "push"; event: QueuedEvent; deferIdentity: boolean } | { kind: "clear" };

interface ErrorSlot {
  component: string | undefined;
  message: string;
  count: number;
}

type Listener = (event: Event) => void;
interface EventTargetLike {
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
}

/**
 * Tracks Honch events from a device, a server or a browser and uploads them to
 * capture. Every method works right away: the queue is restored from storage in
 * the background and events tracked meanwhile are queued after it. Only
 * `tick()` and `flush()` touch the network; the client starts no interval timer
 * of its own, and its waits never keep a process alive.
 *
 * Queued events keep the plain JSON form of their properties (dates become ISO
 * strings), so byte arrays and bigints beyond the safe range are refused.
 *
 * @example Track, then flush in a Worker's waitUntil
 * ```ts
 * import { HonchClient } from "@edgewire/sdk/honch";
 *
 * const client = new HonchClient({
 *   apiKey: "phc_example",
 *   deviceId: "dev_0001",
 *   deviceModel: "edge-worker",
 *   firmwareVersion: "1.4.0",
 *   endpointUrl: "https://capture.example.com",
 * });
 * client.track("button_pressed", { pin: 4 });
 * const result = await client.flush({ deadlineMs: 5000 });
 * console.log(result.sent, result.remaining);
 * ```
 */
export class HonchClient {
  readonly #deviceId: string;
  readonly #firmwareVersion: string;
  readonly #storage: Storage;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #batchSize: number;
  readonly #maxEventBytes: number;
  readonly #flushIntervalMs: number;
  readonly #flushEventThreshold: number;
  readonly #batteryLowThreshold: number;
  readonly #resetReason: string;
  readonly #connectivity: (() => boolean) | undefined;
  readonly #batteryLevel: (() => number | undefined) | undefined;
  readonly #autoProperties: (() => Record<string, unknown> | undefined) | undefined;
  readonly #globals: object;
  readonly #queue: BoundedQueue<QueuedEvent>;
  readonly #delivery: DeliveryLike;
  readonly #aborter = new AbortController();

  #distinctId: string;
  #identityKnown = false;
  #sessionId: string | undefined;
  #online = true;
  #batteryArmed = true;
  #sent = 0;
  #lastAttemptAt: number;
  #started = false;
  #pending: Pending[] = [];
  #startError: StorageError | undefined;
  readonly #starting: Promise<void>;
  #stepLock: Promise<unknown> = Promise.resolve();
  #errors = new Map<string, ErrorSlot>();
  #errorsDropped = 0;
  #hook: (() => void) | undefined;
  #pageListeners: { target: EventTargetLike; type: string; listener: Listener }[] = [];
  #shutdown: Promise<FlushResult> | undefined;

  /**
   * Validates the options, creates the queue and starts restoring it, the
   * identity and the firmware version from storage (see {@linkcode HonchClient.prototype.ready}).
   * In a browser, also uploads what fits when the page is hidden or left.
   *
   * @param options The project key, the device and the delivery settings.
   * @throws {InvalidArgumentError} When an option is missing or invalid; `field` names it.
   */
  constructor(options: HonchClientOptions) {
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError(
        "options",
        "Cannot create HonchClient as 'options' must be an object: pass apiKey, deviceId, deviceModel and firmwareVersion",
      );
    }
    const internals: ClientInternals =
      (options as { [CLIENT_INTERNALS]?: ClientInternals })[CLIENT_INTERNALS] ?? {};
    const apiKey = requiredString(options, "apiKey", Infinity);
    this.#deviceId = requiredString(options, "deviceId", MAX_DISTINCT_ID_BYTES);
    const deviceModel = requiredString(options, "deviceModel", MAX_CONTEXT_BYTES);
    this.#firmwareVersion = requiredString(options, "firmwareVersion", MAX_CONTEXT_BYTES);
    const environment = optionalString(options, "environment", "production");
    const origin = (globalThis as { location?: { origin?: unknown } }).location?.origin;
    const pageOrigin = typeof origin === "string" && /^https?:/.test(origin) ? origin : undefined;
    if (options.endpointUrl === undefined && pageOrigin === undefined) {
      throw new InvalidArgumentError(
        "endpointUrl",
        "Cannot create HonchClient as 'endpointUrl' is not set and there is no page origin to default to: pass your capture endpoint, such as \"https://collector.example.com\"",
      );
    }
    const endpointUrl = optionalString(options, "endpointUrl", pageOrigin ?? "");
    let parsed: URL | undefined;
    try {
      parsed = new URL(endpointUrl);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
      throw invalid("endpointUrl", "must be an http or https URL", JSON.stringify(endpointUrl));
    }
    this.#resetReason = optionalString(options, "resetReason", "unknown");
    this.#batchSize = Math.min(integer(options, "batchSize", 20, 1), MAX_BATCH_SIZE);
    const maxQueuedEvents = integer(options, "maxQueuedEvents", 1000, 1);
    this.#maxEventBytes = integer(options, "maxEventBytes", 8192, 256);
    const timeoutMs = Math.min(
      integer(options, "transportTimeoutMs", 2500, 1),
      MAX_TRANSPORT_TIMEOUT_MS,
    );
    this.#flushIntervalMs = integer(options, "flushIntervalSeconds", 120, 1) * 1000;
    const minIntervalMs = integer(options, "flushMinIntervalMs", 15_000, 0, SPACING_DISABLED);
    this.#flushEventThreshold = integer(options, "flushEventThreshold", 20, 1);
    const retryInitialMs = integer(options, "flushRetryInitialMs", 1000, 1);
    const retryMaxMs = integer(options, "flushRetryMaxMs", 300_000, 1);
    if (retryMaxMs < retryInitialMs) {
      throw invalid(
        "flushRetryMaxMs",
        `must be at least 'flushRetryInitialMs' (${retryInitialMs})`,
        String(retryMaxMs),
      );
    }
    this.#batteryLowThreshold = integer(options, "batteryLowThreshold", 15, 0, 100);
    this.#connectivity = callback(options, "connectivity");
    this.#batteryLevel = callback(options, "batteryLevel");
    this.#autoProperties = callback(options, "autoProperties");
    const fetchImpl = callback(options, "fetch");
    this.#now = callback(options, "now") ?? (() => Date.now());
    this.#random = callback(options, "random") ?? cryptoRandom;
    const storage = options.storage ?? new MemoryStorage();
    if (
      typeof storage !== "object" || storage === null || typeof storage.get !== "function" ||
      typeof storage.set !== "function" || typeof storage.delete !== "function"
    ) {
      throw invalid("storage", "must have get, set and delete methods", typeof storage);
    }
    this.#storage = storage;
    this.#globals = internals.globals ?? globalThis;

    this.#queue = new BoundedQueue<QueuedEvent>({
      maxItems: maxQueuedEvents,
      maxBytes: maxQueuedEvents * this.#maxEventBytes,
      storage,
      storageKey: KEY_QUEUE,
    });
    const streamSeed = Math.floor(this.#random() * 0x1_0000_0000) >>> 0;
    const deliveryOptions = {
      endpointUrl,
      apiKey,
      fetch: fetchImpl,
      timeoutMs,
      now: this.#now,
      random: this.#random,
      retryInitialMs,
      retryMaxMs,
      minIntervalMs,
      batchSize: this.#batchSize,
      streamId: streamSeed.toString(16).padStart(8, "0"),
      messageIdSeed: streamSeed,
    };
    const context = {
      deviceId: this.#deviceId,
      deviceModel,
      firmwareVersion: this.#firmwareVersion,
      sdkPlatform: `javascript-${detectRuntime(this.#globals).name}`,
      sdkVersion: HONCH_SDK_VERSION,
      environment,
    };
    this.#delivery = internals.delivery?.(deliveryOptions, context) ??
      new Delivery(deliveryOptions, context);
    this.#distinctId = this.#deviceId;
    this.#lastAttemptAt = this.#now();
    this.#starting = this.#start();
    this.#listenForPageHide();
  }

  /**
   * Waits until the queue, the identity and the firmware version are restored
   * from storage and the start events (`$firmware_update` when the version
   * changed, then `$device_boot`) are queued. Not needed before other calls.
   *
   * @returns A promise that resolves once the client has started.
   * @throws {StorageError} When the identity or firmware version could not be read or written;
   * the client still works, with what it has in memory.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * await client.ready();
   * console.log(client.queueStats().queued); // 1 ($device_boot)
   * ```
   */
  async ready(): Promise<void> {
    await this.#starting;
    if (this.#startError !== undefined) throw this.#startError;
  }

  /**
   * Queues an event with the automatic properties (`autoProperties`, `$battery_level`).
   *
   * @param event The event name, 1..128 characters.
   * @param properties The event's properties: JSON-like values, dates and safe integers.
   * @throws {InvalidArgumentError} When the name is invalid, a property uses an SDK-owned key
   * (`$device_id`, `$session_id`, `distinct_id`…), there are more than 64, or the event is larger
   * than `maxEventBytes`.
   * @throws {TypeError} When a value cannot be encoded (NaN, a function, a cycle…); the message
   * names the property path.
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.track("hdr_burst_used", { duration: 3.2, mode: "auto" });
   * ```
   */
  track(event: string, properties?: Record<string, unknown>): void {
    this.#assertOpen("track");
    validateEventName(event);
    this.#enqueue(event, userProperties(properties, "properties"), true);
  }

  /**
   * Sets the distinct id of later events and queues `$identify` with the traits and
   * `$anon_distinct_id` (the previous distinct id). The id persists in storage.
   *
   * @param distinctId The user's id, 1..256 bytes.
   * @param traits Properties of the user.
   * @throws {InvalidArgumentError} When the id is empty or too long, or a trait uses an SDK-owned key.
   * @throws {TypeError} When a trait cannot be encoded.
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.identify("user_123", { plan: "beta" });
   * ```
   */
  identify(distinctId: string, traits?: Record<string, unknown>): void {
    this.#assertOpen("identify");
    if (
      typeof distinctId !== "string" || distinctId === "" ||
      utf8Length(distinctId) > MAX_DISTINCT_ID_BYTES
    ) {
      throw new InvalidArgumentError(
        "distinctId",
        `Cannot identify as 'distinctId' must be a string of 1..${MAX_DISTINCT_ID_BYTES} bytes: current value is ${
          typeof distinctId === "string"
            ? `${utf8Length(distinctId)} bytes long`
            : typeof distinctId
        }`,
      );
    }
    const properties = userProperties(traits, "traits");
    if ("$anon_distinct_id" in properties) {
      throw new InvalidArgumentError(
        "traits.$anon_distinct_id",
        "Cannot identify as 'traits.$anon_distinct_id' is set by the SDK: remove it",
      );
    }
    properties.$anon_distinct_id = this.#distinctId;
    this.#distinctId = distinctId;
    this.#identityKnown = true;
    this.#enqueue("$identify", properties, false);
    this.#persistIdentity(distinctId);
  }

  /**
   * Queues `$set_property` with `{ [key]: value }`.
   *
   * @param key The property name; not an SDK-owned or reserved key.
   * @param value The value.
   * @throws {InvalidArgumentError} When the key is empty, SDK-owned or reserved.
   * @throws {TypeError} When the value cannot be encoded.
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.setProperty("plan", "beta");
   * ```
   */
  setProperty(key: string, value: unknown): void {
    this.#assertOpen("setProperty");
    if (
      typeof key !== "string" || key === "" || SDK_OWNED_KEYS.has(key) ||
      key in RESERVED_PROPERTY_IDS
    ) {
      throw new InvalidArgumentError(
        "key",
        `Cannot set property as 'key' must be a non-empty key the SDK does not own: current value is ${
          JSON.stringify(key)
        }`,
      );
    }
    this.#enqueue("$set_property", { [key]: toQueuedValue(value, key) }, true);
  }

  /**
   * Starts a session: later events carry its id (`sess_` and 32 hex digits) as
   * `$session_id`. A running session is ended first. Queues `$session_start`.
   *
   * @param name The session name, sent as `session_name`.
   * @returns The new session id.
   * @throws {InvalidArgumentError} When the name is not a string.
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * const id = client.sessionStart("recording");
   * client.sessionEnd();
   * console.log(id.startsWith("sess_")); // true
   * ```
   */
  sessionStart(name?: string | null): string {
    this.#assertOpen("sessionStart");
    if (name !== undefined && name !== null && typeof name !== "string") {
      throw new InvalidArgumentError(
        "name",
        `Cannot start a session as 'name' must be a string: current value is ${typeof name}`,
      );
    }
    if (this.#sessionId !== undefined) this.sessionEnd();
    let id = "sess_";
    for (let i = 0; i < 4; i++) id += this.#randomU32().toString(16).padStart(8, "0");
    this.#sessionId = id;
    this.#enqueue(
      "$session_start",
      typeof name === "string" ? { session_name: name } : {},
      true,
    );
    return id;
  }

  /**
   * Ends the running session: queues `$session_end` (still carrying the
   * session id); later events have no `$session_id`. Does nothing without a session.
   *
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.sessionStart();
   * client.sessionEnd();
   * ```
   */
  sessionEnd(): void {
    this.#assertOpen("sessionEnd");
    if (this.#sessionId === undefined) return;
    this.#enqueue("$session_end", {}, true);
    this.#sessionId = undefined;
  }

  /**
   * Records a connectivity change: queues `$connectivity_change` with `state`
   * `"connected"` or `"disconnected"`. While disconnected, `flush()` throws
   * {@linkcode OfflineError} and `tick()` skips.
   *
   * @param connected Whether the network is up.
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.connectivityChanged(false);
   * ```
   */
  connectivityChanged(connected: boolean): void {
    this.#assertOpen("connectivityChanged");
    this.#online = connected === true;
    this.#enqueue(
      "$connectivity_change",
      { state: this.#online ? "connected" : "disconnected" },
      true,
    );
  }

  /**
   * Same as `connectivityChanged(true)`.
   *
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.connected();
   * ```
   */
  connected(): void {
    this.connectivityChanged(true);
  }

  /**
   * Same as `connectivityChanged(false)`.
   *
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.disconnected();
   * ```
   */
  disconnected(): void {
    this.connectivityChanged(false);
  }

  /**
   * Reports an error-level log line as a bounded, coalesced `$error` event
   * (`level`, `component` up to 32 bytes, `message` up to 128 bytes, `count`).
   * Identical reports are counted in one of 4 slots until the next `tick()`,
   * `flush()` or `shutdown()` queues them; distinct reports beyond 4 are
   * counted as `dropped` on the next `$error`. Never throws on bad input.
   *
   * @param message The error message.
   * @param options The component or log tag.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.reportLogError("sensor read failed", { component: "i2c" });
   * ```
   */
  reportLogError(message: string, options: LogErrorOptions = {}): void {
    if (this.#shutdown !== undefined) return;
    const text = truncateUtf8(String(message), ERROR_MESSAGE_BYTES);
    const component = typeof options?.component === "string"
      ? truncateUtf8(options.component, ERROR_COMPONENT_BYTES)
      : undefined;
    const key = `${component ?? ""}\u0000${text}`;
    const slot = this.#errors.get(key);
    if (slot !== undefined) {
      slot.count++;
    } else if (this.#errors.size < ERROR_SLOTS) {
      this.#errors.set(key, { component, message: text, count: 1 });
    } else {
      this.#errorsDropped++;
    }
  }

  /**
   * Reports uncaught errors and unhandled rejections as `$crash` events:
   * queues the event, writes the queue at once when the storage can write
   * synchronously (`privateFileStorage` can), and starts an upload. Under
   * Deno, Node and Bun it listens through the runtime's crash events
   * (`processLifecycle().onCrash`), elsewhere through the `error` and
   * `unhandledrejection` events of `globalThis`. Nothing is cancelled: the
   * error is still printed and the program ends, with the same exit code, as
   * it would without the hook, which is why the upload rarely finishes in a
   * process and the crash is sent from storage at the next start instead
   * (once the client has started, see {@linkcode HonchClient.prototype.ready}).
   * Installing twice does nothing more.
   *
   * @returns Whether the hook is installed: `false` where the runtime reports no uncaught errors.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.installErrorHook();
   * client.uninstallErrorHook();
   * ```
   */
  installErrorHook(): boolean {
    if (this.#hook !== undefined) return true;
    if (this.#shutdown !== undefined) return false;
    const lifecycle = processLifecycle(this.#globals);
    if (lifecycle.onCrash !== undefined) {
      this.#hook = lifecycle.onCrash((error, source) => this.#reportCrash(error, source));
      return true;
    }
    const target = eventTarget(this.#globals);
    if (target === undefined) return false;
    const onError: Listener = (event) => {
      const { error, message } = event as ErrorEvent;
      this.#reportCrash(error ?? message, "exception");
    };
    const onRejection: Listener = (event) => {
      this.#reportCrash((event as PromiseRejectionEvent).reason, "unhandled_rejection");
    };
    target.addEventListener("error", onError);
    target.addEventListener("unhandledrejection", onRejection);
    this.#hook = () => {
      target.removeEventListener("error", onError);
      target.removeEventListener("unhandledrejection", onRejection);
    };
    return true;
  }

  /**
   * Removes the hook of {@linkcode HonchClient.prototype.installErrorHook}; does nothing when none.
   *
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.uninstallErrorHook();
   * ```
   */
  uninstallErrorHook(): void {
    const remove = this.#hook;
    if (remove === undefined) return;
    this.#hook = undefined;
    remove();
  }

  /**
   * Runs `fn`; when it throws (or its promise rejects), queues a `$crash` with
   * the error's `name`, `message` and `backtrace` (crash site first, whole
   * frames within 512 bytes), flushes within the deadline, and rethrows.
   *
   * @param fn The code to watch, sync or async.
   * @param options The deadline of the flush after a crash.
   * @returns What `fn` returned.
   * @throws {unknown} Whatever `fn` threw, unchanged.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * const answer = await client.run(() => 42);
   * console.log(answer); // 42
   * ```
   */
  async run<T>(fn: () => T | PromiseLike<T>, options: FlushOptions = {}): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      this.#reportCrash(error, "exception", false);
      try {
        await this.flush(options);
      } catch {
        // Offline or shut down: the crash stays queued (and persisted with a durable storage).
      }
      throw error;
    }
  }

  /**
   * Does the periodic work: queues coalesced `$error` events, then, unless
   * offline, uploads ONE batch when `flushEventThreshold` events are queued or
   * `flushIntervalSeconds` passed since the last upload attempt. Call it from
   * your main loop or a timer.
   *
   * @returns The delivery step taken, `{ kind: "offline" }` or `{ kind: "not_due" }`.
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * const result = await client.tick();
   * console.log(result.kind); // "not_due"
   * ```
   */
  async tick(): Promise<TickResult> {
    this.#assertOpen("tick");
    await this.#starting;
    this.#drainErrors();
    if (!this.#isOnline()) return { kind: "offline" };
    const queued = this.#queue.length;
    if (queued === 0) return { kind: "empty" };
    const due = queued >= this.#flushEventThreshold ||
      this.#now() - this.#lastAttemptAt >= this.#flushIntervalMs;
    if (!due) return { kind: "not_due" };
    return await this.#step({});
  }

  /**
   * Uploads queued events batch by batch until the queue is empty or the
   * deadline passes, waiting out backoff (and `Retry-After`) while it fits.
   * Unlike `tick()` it does not wait for `flushMinIntervalMs`. Failures do not
   * reject: see `error` in the result. Suits `ctx.waitUntil(client.flush())`.
   *
   * @param options The deadline.
   * @returns How many events were sent and dropped, and how many remain.
   * @throws {OfflineError} When the client is offline.
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @throws {InvalidArgumentError} When `deadlineMs` is negative or not a number.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * const { sent, remaining, error } = await client.flush({ deadlineMs: 2000 });
   * console.log(sent, remaining, error?.message);
   * ```
   */
  async flush(options: FlushOptions = {}): Promise<FlushResult> {
    this.#assertOpen("flush");
    return await this.#flush(options);
  }

  /**
   * Forgets the identity, the session and every queued event: later events
   * use the device id as distinct id. Queues nothing.
   *
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.identify("user_123");
   * client.reset();
   * console.log(client.getDistinctId()); // "d"
   * ```
   */
  reset(): void {
    this.#assertOpen("reset");
    this.#distinctId = this.#deviceId;
    this.#identityKnown = true;
    this.#sessionId = undefined;
    this.#batteryArmed = true;
    this.#errors.clear();
    this.#errorsDropped = 0;
    if (this.#started) {
      this.#queue.clear();
    } else {
      this.#pending = [{ kind: "clear" }];
    }
    this.#storage.delete(KEY_DISTINCT_ID).catch(() => {});
  }

  /**
   * Queues `$device_shutdown`, uploads within the deadline (unless offline),
   * removes the listeners and waits for the queue to be persisted. Later calls
   * return the same promise; other methods then throw {@linkcode NotInitializedError}.
   *
   * @param options The deadline of the final flush.
   * @returns What the final flush did (nothing sent when offline).
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.disconnected();
   * const result = await client.shutdown();
   * console.log(result.remaining); // 3: $device_boot, $connectivity_change, $device_shutdown
   * ```
   */
  shutdown(options: FlushOptions = {}): Promise<FlushResult> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    this.#enqueue("$device_shutdown", {}, true);
    this.#shutdown = (async () => {
      this.uninstallErrorHook();
      for (const { target, type, listener } of this.#pageListeners) {
        target.removeEventListener(type, listener);
      }
      this.#pageListeners = [];
      let result: FlushResult;
      try {
        result = await this.#flush(options);
      } catch {
        // Offline (or a bad deadline): what is queued stays persisted for the next start.
        await this.#starting;
        this.#drainErrors();
        result = { sent: 0, dropped: 0, remaining: this.#queue.length, stopped: "deadline" };
      }
      this.#aborter.abort();
      await this.#queue.persisted();
      return result;
    })();
    return this.#shutdown;
  }

  /**
   * Tells the device id given in the options.
   *
   * @returns The device id.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * console.log(client.getDeviceId()); // "d"
   * ```
   */
  getDeviceId(): string {
    return this.#deviceId;
  }

  /**
   * Tells the distinct id later events get: the identified id, else the device id.
   * Before {@linkcode HonchClient.prototype.ready} resolves, a persisted id may not be known yet.
   *
   * @returns The distinct id.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * client.identify("user_123");
   * console.log(client.getDistinctId()); // "user_123"
   * ```
   */
  getDistinctId(): string {
    return this.#distinctId;
  }

  /**
   * Takes a snapshot of the queue and delivery counters.
   *
   * @returns Queued events and bytes, sent and dropped counts (per reason) and retries.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   *
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpointUrl: "https://collector.example.com" });
   * const { queued, dropped, droppedByReason } = client.queueStats();
   * console.log(queued, dropped, droppedByReason.overflow ?? 0);
   * ```
   */
  queueStats(): HonchQueueStats {
    const stats = this.#queue.stats();
    let queued = stats.queued;
    let bytes = stats.bytes;
    for (const pending of this.#pending) {
      if (pending.kind === "clear") {
        queued = 0;
        bytes = 0;
      } else {
        queued++;
        bytes += utf8Length(JSON.stringify(pending.event));
      }
    }
    return {
      queued,
      bytes,
      sent: this.#sent,
      dropped: stats.dropped,
      droppedByReason: stats.droppedByReason,
      retries: this.#delivery.retries,
      persistErrors: stats.persistErrors,
    };
  }

  async #start(): Promise<void> {
    await this.#queue.restore();
    let storedId: string | undefined;
    let storedFirmware: string | undefined;
    try {
      storedId = await this.#storage.get(KEY_DISTINCT_ID);
      storedFirmware = await this.#storage.get(KEY_FIRMWARE);
      if (storedFirmware !== this.#firmwareVersion) {
        await this.#storage.set(KEY_FIRMWARE, this.#firmwareVersion);
      }
    } catch (error) {
      this.#startError = new StorageError(
        "Cannot restore the Honch identity or firmware version as the storage failed: check the storage",
        { cause: error },
      );
    }
    if (!this.#identityKnown && typeof storedId === "string" && storedId !== "") {
      this.#distinctId = storedId;
    }
    const restoredId = this.#distinctId;
    this.#identityKnown = true;
    const startTime = this.#now();
    if (typeof storedFirmware === "string" && storedFirmware !== this.#firmwareVersion) {
      this.#queue.push(this.#build(
        "$firmware_update",
        {
          previous_version: storedFirmware,
          new_version: this.#firmwareVersion,
        },
        restoredId,
        undefined,
        startTime,
      ));
    }
    this.#queue.push(
      this.#build(
        "$device_boot",
        { reset_reason: this.#resetReason },
        restoredId,
        undefined,
        startTime,
      ),
    );
    this.#started = true;
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

  #enqueue(name: string, properties: Record<string, unknown>, stamp: boolean): void {
    let level: number | undefined;
    if (stamp) {
      for (const [key, value] of this.#autoEntries()) {
        if (!(key in properties)) properties[key] = value;
      }
      level = this.#readBattery();
      if (level !== undefined) properties.$battery_level = level;
    }
    const event = this.#build(name, properties, this.#distinctId, this.#sessionId, this.#now());
    const size = utf8Length(JSON.stringify(event));
    if (size > this.#maxEventBytes) {
      throw new InvalidArgumentError(
        "properties",
        `Cannot track '${name}' as the event is ${size} bytes and 'maxEventBytes' is ${this.#maxEventBytes}: send fewer or shorter properties`,
      );
    }
    this.#push(event);
    if (level !== undefined) {
      if (level >= this.#batteryLowThreshold) {
        this.#batteryArmed = true;
      } else if (this.#batteryArmed) {
        this.#batteryArmed = false;
        this.#push(
          this.#build("$battery_low", { level }, this.#distinctId, this.#sessionId, this.#now()),
        );
      }
    }
  }

  #build(
    name: string,
    properties: Record<string, unknown>,
    distinctId: string,
    sessionId: string | undefined,
    timestampMs: number,
  ): QueuedEvent {
    const event: QueuedEvent = { name, timestampMs, distinctId, properties };
    if (sessionId !== undefined) event.sessionId = sessionId;
    return event;
  }

  #push(event: QueuedEvent): void {
    if (this.#started) {
      this.#queue.push(event);
    } else {
      this.#pending.push({ kind: "push", event, deferIdentity: !this.#identityKnown });
    }
  }

  #autoEntries(): [string, unknown][] {
    if (this.#autoProperties === undefined) return [];
    let extra: Record<string, unknown> | undefined;
    try {
      extra = this.#autoProperties();
    } catch {
      // A failing callback must not cost the event itself.
      return [];
    }
    if (typeof extra !== "object" || extra === null) return [];
    const entries: [string, unknown][] = [];
    for (const key of Object.keys(extra)) {
      if (SDK_OWNED_KEYS.has(key) || (key in RESERVED_PROPERTY_IDS && key !== "$wifi_rssi")) {
        continue;
      }
      try {
        entries.push([key, toQueuedValue(extra[key], `autoProperties.${key}`)]);
      } catch {
        // An unencodable automatic value is skipped rather than failing the caller's track().
      }
    }
    return entries;
  }

  #readBattery(): number | undefined {
    if (this.#batteryLevel === undefined) return undefined;
    let level: number | undefined;
    try {
      level = this.#batteryLevel();
    } catch {
      return undefined;
    }
    if (typeof level !== "number" || !Number.isFinite(level) || level < 0) return undefined;
    return Math.min(100, Math.round(level));
  }

  #reportCrash(error: unknown, source: string, upload = true): void {
    if (this.#shutdown !== undefined) return;
    try {
      const name = error instanceof Error ? error.name : typeof error;
      const message = truncateUtf8(
        error instanceof Error ? error.message : String(error),
        CRASH_MESSAGE_BYTES,
      );
      const frames = stackFrames(error);
      const properties: Record<string, unknown> = {
        source,
        severity: "fatal",
        name,
        message,
        backtrace: fitFrames(frames, CRASH_BACKTRACE_BYTES),
      };
      const event = this.#build(
        "$crash",
        properties,
        this.#distinctId,
        this.#sessionId,
        this.#now(),
      );
      // Drop frames from the far end until the whole event fits the byte budget.
      let kept = frames.length;
      while (utf8Length(JSON.stringify(event)) > this.#maxEventBytes && kept > 0) {
        kept--;
        properties.backtrace = fitFrames(frames.slice(0, kept), CRASH_BACKTRACE_BYTES);
      }
      this.#push(event);
      if (!upload) return;
      // A crashing process ends as soon as this returns, before any promise settles: a
      // synchronous write keeps the crash for the next start, the upload is a bonus
      this.#queue.persistNow();
      if (this.#isOnline()) this.#step({ keepalive: true, ignoreSpacing: true }).catch(() => {});
    } catch {
      // Reporting a crash must never raise a second error.
    }
  }

  #drainErrors(): void {
    if (this.#errors.size === 0 && this.#errorsDropped === 0) return;
    let dropped = this.#errorsDropped;
    this.#errorsDropped = 0;
    for (const slot of this.#errors.values()) {
      const properties: Record<string, unknown> = { level: "error" };
      if (slot.component !== undefined) properties.component = slot.component;
      properties.message = slot.message;
      properties.count = slot.count;
      if (dropped > 0) {
        properties.dropped = dropped;
        dropped = 0;
      }
      this.#push(this.#build("$error", properties, this.#distinctId, this.#sessionId, this.#now()));
    }
    this.#errors.clear();
    // With no slot to carry it, the count waits for the next $error.
    this.#errorsDropped = dropped;
  }

  #isOnline(): boolean {
    if (!this.#online) return false;
    if (this.#connectivity === undefined) return true;
    try {
      return this.#connectivity() !== false;
    } catch {
      return true;
    }
  }

  /** Runs one delivery step; steps never overlap, so a batch is never sent twice at once. */
  #step(options: { keepalive?: boolean; ignoreSpacing?: boolean }): Promise<FlushStep> {
    const run = this.#stepLock.then(async () => {
      await this.#starting;
      const events = this.#queue.peek(this.#batchSize);
      const step = await this.#delivery.step(events, options);
      if (step.kind === "sent" || step.kind === "dropped" || step.kind === "retry") {
        this.#lastAttemptAt = this.#now();
      }
      if (step.kind === "sent" || step.kind === "dropped") {
        // Consume only what is still at the head: a reset or an overflow may have moved it.
        const head = this.#queue.peek(step.events);
        let n = 0;
        while (n < head.length && head[n] === events[n]) n++;
        if (step.kind === "sent") {
          this.#queue.shift(n);
          this.#sent += step.events;
        } else {
          this.#queue.drop(n, step.reason);
        }
      }
      return step;
    });
    this.#stepLock = run.catch(() => {});
    return run;
  }

  async #flush(options: FlushOptions): Promise<FlushResult> {
    const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    if (typeof deadlineMs !== "number" || !(deadlineMs >= 0)) {
      throw new InvalidArgumentError(
        "deadlineMs",
        `Cannot flush as 'deadlineMs' must be a non-negative number: current value is ${
          String(deadlineMs)
        }`,
      );
    }
    await this.#starting;
    this.#drainErrors();
    if (!this.#isOnline()) {
      throw new OfflineError(
        "Cannot flush while offline: call connected() once the network is back",
      );
    }
    const deadline = this.#now() + deadlineMs;
    let waited = 0;
    let sent = 0;
    let dropped = 0;
    let error: HonchError | undefined;
    for (;;) {
      if (this.#queue.length === 0) break;
      const step = await this.#step({ ignoreSpacing: true });
      if (step.kind === "empty") break;
      if (step.kind === "sent") {
        sent += step.events;
        continue;
      }
      if (step.kind === "dropped") {
        dropped += step.events;
        error = droppedError(step);
        // A refused project key refuses every batch: keep the rest queued until the key is fixed
        if (step.reason === "auth_error") {
          return { sent, dropped, remaining: this.#queue.length, stopped: "auth_error", error };
        }
        continue;
      }
      if (step.kind === "retry") error = retryError(step);
      // The injected clock may stand still, so real waiting time also counts against the deadline.
      const left = Math.min(deadline - this.#now(), deadlineMs - waited);
      if (step.waitMs > left || this.#aborter.signal.aborted) {
        return { sent, dropped, remaining: this.#queue.length, stopped: "deadline", error };
      }
      try {
        // Referenced on purpose: the caller awaits this flush, and an unreferenced wait would let
        // Deno end with the promise pending. The deadline bounds it; shutdown() aborts it.
        await delay(step.waitMs, { signal: this.#aborter.signal });
      } catch {
        return { sent, dropped, remaining: this.#queue.length, stopped: "deadline", error };
      }
      waited += step.waitMs;
    }
    const result: FlushResult = { sent, dropped, remaining: 0, stopped: "drained" };
    if (error !== undefined) result.error = error;
    return result;
  }

  #listenForPageHide(): void {
    const target = eventTarget(this.#globals);
    const document = (this.#globals as { document?: unknown }).document as
      | (Partial<EventTargetLike> & { visibilityState?: string })
      | undefined;
    if (target === undefined || typeof document !== "object" || document === null) return;
    const send = () => {
      if (this.#shutdown !== undefined || !this.#isOnline()) return;
      this.#drainErrors();
      this.#step({ keepalive: true, ignoreSpacing: true }).catch(() => {});
    };
    const onPageHide: Listener = () => send();
    const onVisibility: Listener = () => {
      if (document.visibilityState === "hidden") send();
    };
    target.addEventListener("pagehide", onPageHide);
    this.#pageListeners.push({ target, type: "pagehide", listener: onPageHide });
    const visibilityTarget = typeof document.addEventListener === "function"
      ? document as EventTargetLike
      : target;
    visibilityTarget.addEventListener("visibilitychange", onVisibility);
    this.#pageListeners.push({
      target: visibilityTarget,
      type: "visibilitychange",
      listener: onVisibility,
    });
  }

  #persistIdentity(distinctId: string): void {
    this.#storage.set(KEY_DISTINCT_ID, distinctId).catch(() => {});
  }

  #randomU32(): number {
    return Math.floor(this.#random() * 0x1_0000_0000) >>> 0;
  }

  #assertOpen(operation: string): void {
    if (this.#shutdown !== undefined) {
      throw new NotInitializedError(
        `Cannot ${operation} as the client was shut down: create a new HonchClient`,
      );
    }
  }
}

function invalid(field: string, rule: string, current: string): InvalidArgumentError {
  return new InvalidArgumentError(
    field,
    `Cannot create HonchClient as '${field}' ${rule}: current value is ${current}`,
  );
}

function requiredString(options: object, field: string, maxBytes: number): string {
  const value = (options as Record<string, unknown>)[field];
  if (typeof value !== "string" || value === "") {
    throw invalid(
      field,
      "must be a non-empty string",
      typeof value === "string" ? '""' : typeof value,
    );
  }
  if (maxBytes !== Infinity && utf8Length(value) > maxBytes) {
    throw invalid(field, `must be at most ${maxBytes} bytes`, `${utf8Length(value)} bytes long`);
  }
  return value;
}

function optionalString(options: object, field: string, fallback: string): string {
  const value = (options as Record<string, unknown>)[field];
  if (value === undefined) return fallback;
  return requiredString(options, field, MAX_CONTEXT_BYTES);
}

function integer(
  options: object,
  field: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = (options as Record<string, unknown>)[field];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER
      ? `an integer of at least ${min}`
      : `${min}..${max}`;
    throw invalid(field, `must be ${range}`, String(value));
  }
  return value;
}

// deno-lint-ignore no-explicit-any
function callback<F extends (...args: any[]) => any>(
  options: object,
  field: string,
): F | undefined {
  const value = (options as Record<string, unknown>)[field];
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw invalid(field, "must be a function", typeof value);
  return value as F;
}

function validateEventName(event: string): void {
  if (typeof event !== "string" || event === "" || event.length > MAX_EVENT_NAME_LENGTH) {
    throw new InvalidArgumentError(
      "event",
      `Cannot track as 'event' must be a string of 1..${MAX_EVENT_NAME_LENGTH} characters: current value is ${
        typeof event === "string" ? `${event.length} characters long` : typeof event
      }`,
    );
  }
}

function userProperties(
  properties: Record<string, unknown> | undefined,
  path: string,
): Record<string, unknown> {
  if (properties === undefined || properties === null) return {};
  if (typeof properties !== "object" || Array.isArray(properties)) {
    throw new InvalidArgumentError(
      path,
      `Cannot track as '${path}' must be a plain object: current value is ${
        Array.isArray(properties) ? "an array" : typeof properties
      }`,
    );
  }
  const keys = Object.keys(properties);
  if (keys.length > MAX_PROPERTIES) {
    throw new InvalidArgumentError(
      path,
      `Cannot track as '${path}' has ${keys.length} keys and at most ${MAX_PROPERTIES} fit an event: send fewer`,
    );
  }
  const result: Record<string, unknown> = {};
  for (const key of keys) {
    if (SDK_OWNED_KEYS.has(key)) {
      throw new InvalidArgumentError(
        `${path}.${key}`,
        `Cannot track as '${path}.${key}' is set by the SDK: remove it or rename it`,
      );
    }
    Object.defineProperty(result, key, {
      value: toQueuedValue(properties[key], `${path}.${key}`),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

function eventTarget(globals: object): EventTargetLike | undefined {
  const target = globals as Partial<EventTargetLike>;
  if (
    typeof target.addEventListener !== "function" ||
    typeof target.removeEventListener !== "function"
  ) {
    return undefined;
  }
  return target as EventTargetLike;
}

function cryptoRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] / 0x1_0000_0000;
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
