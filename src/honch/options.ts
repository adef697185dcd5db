/**
 * The options of the Honch client: {@linkcode HonchClientOptions} given to
 * its constructor, with their defaults, and the options of `flush()` and
 * `reportLogError()`. The constructor validates them once
 * (`_resolve_options.ts`).
 *
 * @example
 * ```ts
 * import type { HonchClientOptions } from "@edgewire/sdk/honch";
 *
 * const options: HonchClientOptions = {
 *   apiKey: "phc_example",
 *   deviceId: "dev_0001",
 *   deviceModel: "edge-worker",
 *   firmwareVersion: "1.4.0",
 *   endpoint: "https://capture.example.com",
 * };
 * ```
 *
 * @module
 */

import type { Jitter } from "../core/backoff.ts";
import type { Storage } from "../core/storage.ts";
import type { HonchTransport } from "./transport.ts";

/**
 * Options of {@linkcode HonchClient}; the first four are required.
 *
 * @example
 * ```ts
 * import type { HonchClientOptions } from "@edgewire/sdk/honch";
 *
 * const options: HonchClientOptions = {
 *   apiKey: "phc_example",
 *   deviceId: "dev_0001",
 *   deviceModel: "edge-worker",
 *   firmwareVersion: "1.4.0",
 *   endpoint: "https://capture.example.com",
 *   batchSize: 10,
 * };
 * ```
 */
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
   * The capture base URL; `/capture` is appended (after trailing slashes are
   * removed). Honch documents no public default host, so outside a page
   * (where the page's origin is the default) it must be given.
   *
   * @default the page's origin (`location.origin`) in browsers; required elsewhere
   */
  endpoint?: string;
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
   * The deadline of each upload request (one frame), in milliseconds; clamped to 10000.
   *
   * @default 2500
   */
  timeoutMs?: number;
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
   * The backoff after an upload that may succeed later (a 5xx, 408, 409, 429,
   * timeout, network error, or an answer that is not capture's): capped
   * exponential from `initialMs` to `maxMs`, in milliseconds, with the ±25%
   * jitter the Honch protocol specifies unless `jitter` says otherwise
   * (`"full"`, or another ratio in 0..1); `Retry-After` wins up to `maxMs`.
   * While it runs, `tick()` sends nothing and `flush()` waits it out within
   * its deadline.
   *
   * @default { initialMs: 1000, maxMs: 300000, jitter: 0.25 }
   */
  backoff?: { initialMs?: number; maxMs?: number; jitter?: Jitter };
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
   * The fetch the default transport calls; not used when `transport` is set.
   *
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * Sends each upload request (one frame POSTed to `/capture`) and answers the
   * collector's status, headers and body, as Sentry's `makeRequest` does: use
   * it to send through another HTTP stack or to observe uploads. The client
   * keeps the deadline, the response policy and the backoff. See
   * {@linkcode HonchTransport}.
   *
   * @default fetchTransport(fetch)
   */
  transport?: HonchTransport;
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
  /**
   * The global scope the client looks in for the page (`location`, `document`,
   * `pagehide` and `visibilitychange`), for `error` and `unhandledrejection`
   * events and for the runtime's crash hooks: pass another window, or a fake
   * in tests.
   *
   * @default globalThis
   */
  globals?: object;
}

/**
 * Options of {@linkcode HonchClient.prototype.flush}, `run()` and `shutdown()`.
 *
 * @example
 * ```ts
 * import type { FlushOptions } from "@edgewire/sdk/honch";
 *
 * const options: FlushOptions = { deadlineMs: 2000 };
 * ```
 */
export interface FlushOptions {
  /**
   * How long the flush may take, in milliseconds, including waits for backoff.
   *
   * @default 10000
   */
  deadlineMs?: number;
}

/**
 * Options of {@linkcode HonchClient.prototype.reportLogError}.
 *
 * @example
 * ```ts
 * import type { LogErrorOptions } from "@edgewire/sdk/honch";
 *
 * const options: LogErrorOptions = { component: "i2c" };
 * ```
 */
export interface LogErrorOptions {
  /**
   * The component or log tag the error comes from (at most 32 bytes are kept).
   *
   * @default undefined
   */
  component?: string;
}
