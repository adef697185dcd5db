/**
 * Turns the Honch client's calls into queued events: checks what the caller
 * passes, stamps the automatic properties, gives each event the current
 * identity and session, enforces the event byte budget, and queues the
 * start, `$battery_low`, `$error` and `$crash` events. It never touches the
 * network: `HonchClient` uploads what it queues.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import type { Storage, StorageError } from "../core/storage.ts";
import { AutomaticProperties, Connectivity, readStartState, startEvents } from "./_automatic.ts";
import type { QueuedEvent } from "./_capture_batch.ts";
import { crashProperties, LogErrors } from "./_error_capture.ts";
import { EventQueue } from "./_event_queue.ts";
import { checkDistinctId, Identity } from "./_identity.ts";
import { SDK_OWNED_KEYS, toQueuedValue, userProperties, validateEventName } from "./_properties.ts";
import { utf8ByteLength } from "../core/utf8.ts";
import type { ResolvedOptions } from "./_resolve_options.ts";
import { RESERVED_PROPERTY_IDS } from "./wire_v2.ts";

/** The queue and the state the events are made from. */
export class EventRecorder {
  /** The events waiting for upload. */
  readonly queue: EventQueue;
  /** Whether the device is online. */
  readonly connectivity: Connectivity;
  readonly #identity: Identity;
  readonly #automatic: AutomaticProperties;
  readonly #logErrors = new LogErrors();
  readonly #storage: Storage;
  readonly #firmwareVersion: string;
  readonly #resetReason: string;
  readonly #maxEventBytes: number;
  readonly #now: () => number;

  /**
   * Creates an empty recorder; {@linkcode EventRecorder.start} restores what storage holds.
   *
   * @param options The client's validated options.
   */
  constructor(options: ResolvedOptions) {
    this.queue = new EventQueue(options.maxQueuedEvents, options.maxEventBytes, options.storage);
    this.connectivity = new Connectivity(options.connectivity);
    this.#identity = new Identity(options.deviceId, options.storage, options.random);
    this.#automatic = new AutomaticProperties(
      options.autoProperties,
      options.batteryLevel,
      options.batteryLowThreshold,
    );
    this.#storage = options.storage;
    this.#firmwareVersion = options.firmwareVersion;
    this.#resetReason = options.resetReason;
    this.#maxEventBytes = options.maxEventBytes;
    this.#now = options.now;
  }

  /** The distinct id later events get. */
  get distinctId(): string {
    return this.#identity.distinctId;
  }

  /**
   * Restores the queue, the identity and the firmware version, then queues
   * the start events and what was recorded meanwhile.
   *
   * @returns The storage failure, if reading or writing the identity or firmware failed.
   */
  async start(): Promise<StorageError | undefined> {
    await this.queue.restore();
    const state = await readStartState(this.#storage, this.#firmwareVersion);
    const restoredId = this.#identity.restore(state.storedId);
    const startTime = this.#now();
    const events = startEvents(state.storedFirmware, this.#firmwareVersion, this.#resetReason)
      .map(([name, properties]) => this.#build(name, properties, restoredId, startTime));
    this.queue.open(events, restoredId);
    return state.error;
  }

  /**
   * Queues a caller's event; see `HonchClient.track`.
   *
   * @param event The event name.
   * @param properties Its properties.
   * @throws {InvalidArgumentError} When the name or a property is invalid, or the event too large.
   * @throws {TypeError} When a value cannot be encoded.
   */
  track(event: string, properties: Record<string, unknown> | undefined): void {
    validateEventName(event);
    this.#enqueue(event, userProperties(properties, "properties"), true);
  }

  /**
   * Switches the distinct id and queues `$identify`; see `HonchClient.identify`.
   *
   * @param distinctId The user's id.
   * @param traits Properties of the user.
   * @throws {InvalidArgumentError} When the id or a trait is invalid.
   * @throws {TypeError} When a trait cannot be encoded.
   */
  identify(distinctId: string, traits: Record<string, unknown> | undefined): void {
    checkDistinctId(distinctId);
    const properties = userProperties(traits, "traits");
    if ("$anon_distinct_id" in properties) {
      throw new InvalidArgumentError(
        "traits.$anon_distinct_id",
        "Cannot identify as 'traits.$anon_distinct_id' is set by the SDK: remove it",
      );
    }
    properties.$anon_distinct_id = this.#identity.identify(distinctId);
    this.#enqueue("$identify", properties, false);
    this.#identity.persist();
  }

  /**
   * Queues `$set_property`; see `HonchClient.setProperty`.
   *
   * @param key The property name.
   * @param value The value.
   * @throws {InvalidArgumentError} When the key is empty, SDK-owned or reserved.
   * @throws {TypeError} When the value cannot be encoded.
   */
  setProperty(key: string, value: unknown): void {
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
   * Ends the running session, starts a new one and queues `$session_start`.
   *
   * @param name The session name, if any.
   * @returns The new session id.
   * @throws {InvalidArgumentError} When the name is not a string.
   */
  sessionStart(name: string | null | undefined): string {
    if (name !== undefined && name !== null && typeof name !== "string") {
      throw new InvalidArgumentError(
        "name",
        `Cannot start a session as 'name' must be a string: current value is ${typeof name}`,
      );
    }
    this.sessionEnd();
    const id = this.#identity.startSession();
    this.#enqueue("$session_start", typeof name === "string" ? { session_name: name } : {}, true);
    return id;
  }

  /** Queues `$session_end` and ends the running session, if any. */
  sessionEnd(): void {
    if (this.#identity.sessionId === undefined) return;
    this.#enqueue("$session_end", {}, true);
    this.#identity.endSession();
  }

  /**
   * Records a connectivity report and queues `$connectivity_change`.
   *
   * @param connected Whether the network is up.
   */
  connectivityChanged(connected: boolean): void {
    const state = this.connectivity.report(connected) ? "connected" : "disconnected";
    this.#enqueue("$connectivity_change", { state }, true);
  }

  /**
   * Queues `$device_shutdown`.
   */
  deviceShutdown(): void {
    this.#enqueue("$device_shutdown", {}, true);
  }

  /**
   * Counts an error-level log line; never throws.
   *
   * @param message The log line.
   * @param component The component or log tag.
   */
  reportLogError(message: unknown, component: unknown): void {
    this.#logErrors.report(message, component);
  }

  /** Queues the coalesced `$error` events. */
  drainErrors(): void {
    for (const properties of this.#logErrors.drain()) this.#push(this.#build("$error", properties));
  }

  /**
   * Queues a `$crash` for `error`, its backtrace trimmed to fit `maxEventBytes`.
   *
   * @param error What was thrown.
   * @param source `"exception"` or `"unhandled_rejection"`.
   */
  crash(error: unknown, source: string): void {
    const properties = crashProperties(error, source, (candidate) => {
      const size = utf8ByteLength(JSON.stringify(this.#build("$crash", candidate)));
      return size <= this.#maxEventBytes;
    });
    this.#push(this.#build("$crash", properties));
  }

  /** Forgets the identity, the session, the log errors and every queued event. */
  reset(): void {
    this.#identity.reset();
    this.#automatic.rearm();
    this.#logErrors.clear();
    this.queue.clear();
  }

  /** Queues an event, stamped with the automatic properties unless `stamp` is false. */
  #enqueue(name: string, properties: Record<string, unknown>, stamp: boolean): void {
    const level = stamp ? this.#automatic.stamp(properties) : undefined;
    const event = this.#build(name, properties);
    const size = utf8ByteLength(JSON.stringify(event));
    if (size > this.#maxEventBytes) {
      throw new InvalidArgumentError(
        "properties",
        `Cannot track '${name}' as the event is ${size} bytes and 'maxEventBytes' is ${this.#maxEventBytes}: send fewer or shorter properties`,
      );
    }
    this.#push(event);
    if (level !== undefined && this.#automatic.batteryLow(level)) {
      this.#push(this.#build("$battery_low", { level }));
    }
  }

  /** Makes an event of the current identity and session, or of a start (`startId`, no session). */
  #build(
    name: string,
    properties: Record<string, unknown>,
    startId?: string,
    startTime?: number,
  ): QueuedEvent {
    const event: QueuedEvent = {
      name,
      timestampMs: startTime ?? this.#now(),
      distinctId: startId ?? this.#identity.distinctId,
      properties,
    };
    const sessionId = startId === undefined ? this.#identity.sessionId : undefined;
    if (sessionId !== undefined) event.sessionId = sessionId;
    return event;
  }

  #push(event: QueuedEvent): void {
    this.queue.push(event, !this.#identity.known);
  }
}
