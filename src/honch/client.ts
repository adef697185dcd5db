/**
 * The Honch client, composed of one piece per concern: options
 * (`_resolve_options.ts`), the events it records (`_recorder.ts`, with
 * `_identity.ts`, `_automatic.ts`, `_error_capture.ts`, `_event_queue.ts`),
 * the page and crash hooks (the runtime shim's `onPageHidden`, `onCrash` and
 * `onGlobalErrors`) and the uploads (`_uploader.ts`, `_delivery.ts` on the
 * core delivery engine, through the `transport` option).
 *
 * @module
 */

import { onPageHidden } from "../core/runtime/mod.ts";
import type { StorageError } from "../core/storage.ts";
import { installCrashHook } from "./_error_capture.ts";
import { EventRecorder } from "./_recorder.ts";
import { resolveOptions } from "./_resolve_options.ts";
import { Uploader } from "./_uploader.ts";
import { NotInitializedError } from "./errors.ts";
import { HONCH_SDK_VERSION } from "./version.ts";
import type { FlushOptions, HonchClientOptions, LogErrorOptions } from "./options.ts";
import type { FlushResult, HonchQueueStats, TickResult } from "./results.ts";

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
 *   endpoint: "https://capture.example.com",
 * });
 * client.track("button_pressed", { pin: 4 });
 * const result = await client.flush({ deadlineMs: 5000 });
 * console.log(result.sent, result.remaining);
 * ```
 */
export class HonchClient {
  readonly #deviceId: string;
  readonly #globals: object;
  readonly #recorder: EventRecorder;
  readonly #uploader: Uploader;
  readonly #starting: Promise<void>;
  #startError: StorageError | undefined;
  #removeCrashHook: (() => void) | undefined;
  #removePageListeners: (() => void) | undefined;
  #shutdown: Promise<FlushResult> | undefined;

  /**
   * Validates the options, creates the queue and starts restoring it, the
   * identity and the firmware version from storage (see {@linkcode HonchClient.prototype.ready}).
   * In a browser, also uploads what fits when the page is hidden or left.
   *
   * @param options The project key, the device and the delivery settings.
   * @throws {InvalidArgumentError} When an option is missing or invalid; `argument` names it.
   */
  constructor(options: HonchClientOptions) {
    const resolved = resolveOptions(options);
    this.#deviceId = resolved.deviceId;
    this.#globals = resolved.globals;
    this.#recorder = new EventRecorder(resolved);
    this.#starting = this.#recorder.start().then((error) => {
      this.#startError = error;
    });
    this.#uploader = new Uploader(resolved, {
      queue: this.#recorder.queue,
      sdkVersion: HONCH_SDK_VERSION,
      started: this.#starting,
      online: () => this.#recorder.connectivity.online,
      beforeFlush: () => this.#recorder.drainErrors(),
    });
    this.#removePageListeners = onPageHidden(() => {
      if (this.#shutdown !== undefined || !this.#recorder.connectivity.online) return;
      this.#recorder.drainErrors();
      this.#uploader.step({ keepalive: true, ignoreSpacing: true }).catch(() => {});
    }, this.#globals);
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.track("hdr_burst_used", { duration: 3.2, mode: "auto" });
   * ```
   */
  track(event: string, properties?: Record<string, unknown>): void {
    this.#assertOpen("track");
    this.#recorder.track(event, properties);
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.identify("user_123", { plan: "beta" });
   * ```
   */
  identify(distinctId: string, traits?: Record<string, unknown>): void {
    this.#assertOpen("identify");
    this.#recorder.identify(distinctId, traits);
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.setProperty("plan", "beta");
   * ```
   */
  setProperty(key: string, value: unknown): void {
    this.#assertOpen("setProperty");
    this.#recorder.setProperty(key, value);
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * const id = client.sessionStart("recording");
   * client.sessionEnd();
   * console.log(id.startsWith("sess_")); // true
   * ```
   */
  sessionStart(name?: string | null): string {
    this.#assertOpen("sessionStart");
    return this.#recorder.sessionStart(name);
  }

  /**
   * Ends the running session: queues `$session_end` (still carrying the
   * session id); later events have no `$session_id`. Does nothing without a session.
   *
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.sessionStart();
   * client.sessionEnd();
   * ```
   */
  sessionEnd(): void {
    this.#assertOpen("sessionEnd");
    this.#recorder.sessionEnd();
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.connectivityChanged(false);
   * ```
   */
  connectivityChanged(connected: boolean): void {
    this.#assertOpen("connectivityChanged");
    this.#recorder.connectivityChanged(connected);
  }

  /**
   * Same as `connectivityChanged(true)`.
   *
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.reportLogError("sensor read failed", { component: "i2c" });
   * ```
   */
  reportLogError(message: string, options: LogErrorOptions = {}): void {
    if (this.#shutdown !== undefined) return;
    this.#recorder.reportLogError(message, options?.component);
  }

  /**
   * Reports uncaught errors and unhandled rejections as `$crash` events: queues
   * the event, writes the queue at once when the storage can write synchronously
   * (`privateFileStorage` can) and starts an upload. Listens through the runtime's
   * crash events (`processLifecycle().onCrash`) under Deno, Node and Bun, else the
   * `error` and `unhandledrejection` events of `globals`. Nothing is cancelled: the
   * program ends as it would without the hook, so in a process the crash is
   * usually sent from storage at the next start. Installing twice does nothing more.
   *
   * @returns Whether the hook is installed: `false` where the runtime reports no uncaught errors.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.installErrorHook();
   * client.uninstallErrorHook();
   * ```
   */
  installErrorHook(): boolean {
    if (this.#removeCrashHook !== undefined) return true;
    if (this.#shutdown !== undefined) return false;
    this.#removeCrashHook = installCrashHook(
      this.#globals,
      (error, source) => this.#reportCrash(error, source, true),
    );
    return this.#removeCrashHook !== undefined;
  }

  /**
   * Removes the hook of {@linkcode HonchClient.prototype.installErrorHook}; does nothing when none.
   *
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.uninstallErrorHook();
   * ```
   */
  uninstallErrorHook(): void {
    const remove = this.#removeCrashHook;
    if (remove === undefined) return;
    this.#removeCrashHook = undefined;
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * const result = await client.tick();
   * console.log(result.kind); // "not_due"
   * ```
   */
  async tick(): Promise<TickResult> {
    this.#assertOpen("tick");
    return await this.#uploader.tick();
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
   * @throws {InvalidArgumentError} When `deadlineMs` is not a finite number of 0 or more.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * const { sent, remaining, error } = await client.flush({ deadlineMs: 2000 });
   * console.log(sent, remaining, error?.message);
   * ```
   */
  async flush(options: FlushOptions = {}): Promise<FlushResult> {
    this.#assertOpen("flush");
    return await this.#uploader.flush(options.deadlineMs);
  }

  /**
   * Forgets the identity, the session and every queued event: later events
   * use the device id as distinct id. Queues nothing.
   *
   * @throws {NotInitializedError} After {@linkcode HonchClient.prototype.shutdown}.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.identify("user_123");
   * client.reset();
   * console.log(client.getDistinctId()); // "d"
   * ```
   */
  reset(): void {
    this.#assertOpen("reset");
    this.#recorder.reset();
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.disconnected();
   * const result = await client.shutdown();
   * console.log(result.remaining); // 3: $device_boot, $connectivity_change, $device_shutdown
   * ```
   */
  shutdown(options: FlushOptions = {}): Promise<FlushResult> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    this.#recorder.deviceShutdown();
    this.uninstallErrorHook();
    this.#removePageListeners?.();
    this.#removePageListeners = undefined;
    this.#shutdown = this.#uploader.close(options.deadlineMs);
    return this.#shutdown;
  }

  /**
   * Tells the device id given in the options.
   *
   * @returns The device id.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
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
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * client.identify("user_123");
   * console.log(client.getDistinctId()); // "user_123"
   * ```
   */
  getDistinctId(): string {
    return this.#recorder.distinctId;
  }

  /**
   * Takes a snapshot of the queue and delivery counters.
   *
   * @returns Queued events and bytes, sent and dropped counts (per reason) and retries.
   * @example
   * ```ts
   * import { HonchClient } from "@edgewire/sdk/honch";
   * const client = new HonchClient({ apiKey: "k", deviceId: "d", deviceModel: "m", firmwareVersion: "1", endpoint: "https://collector.example.com" });
   * const { queued, dropped, droppedByReason } = client.queueStats();
   * console.log(queued, dropped, droppedByReason.overflow ?? 0);
   * ```
   */
  queueStats(): HonchQueueStats {
    const stats = this.#recorder.queue.stats();
    return {
      queued: stats.queued,
      bytes: stats.bytes,
      sent: this.#uploader.sent,
      dropped: stats.dropped,
      droppedByReason: stats.droppedByReason,
      retries: this.#uploader.retries,
      persistErrors: stats.persistErrors,
    };
  }

  #reportCrash(error: unknown, source: string, upload: boolean): void {
    if (this.#shutdown !== undefined) return;
    try {
      this.#recorder.crash(error, source);
      if (!upload) return;
      // A crashing process ends as soon as this returns, before any promise settles: a
      // synchronous write keeps the crash for the next start, the upload is a bonus
      this.#recorder.queue.persistNow();
      if (this.#recorder.connectivity.online) {
        this.#uploader.step({ keepalive: true, ignoreSpacing: true }).catch(() => {});
      }
    } catch {
      // Reporting a crash must never raise a second error.
    }
  }

  #assertOpen(operation: string): void {
    if (this.#shutdown !== undefined) {
      throw new NotInitializedError(
        `Cannot ${operation} as the client was shut down: create a new HonchClient`,
      );
    }
  }
}
