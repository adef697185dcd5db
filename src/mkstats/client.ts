/**
 * `MkStatsClient`: plugin analytics for mkStats. It performs the install
 * handshake (solving the server's proof-of-work), sends daily-active pings
 * and counted events, aggregates queued events until a flush, and runs a
 * heartbeat loop. Queued events are delivered through the core
 * {@linkcode DeliveryEngine}: every retryable outcome (a 5xx, 408, 429,
 * timeout, network error, an answer that is not mkStats' JSON, a failed
 * handshake) keeps the queue and backs off, shared with direct calls; only
 * mkStats' own refusal of an event drops it, counted. Every recording request
 * carries an `Idempotency-Key` that its retries reuse. It re-handshakes once
 * on a revoked token and pings once when the server has not seen the install.
 *
 * @module
 */

import { DeliveryEngine } from "../core/delivery/engine.ts";
import { newIdempotencyKey } from "../core/delivery/idempotency.ts";
import { BoundedQueue, type QueueStats } from "../core/queue.ts";
import { integer } from "../core/validate.ts";
import {
  addEvent,
  addFormedEvent,
  type EventBatch,
  eventSource,
  type QueuedEvent,
} from "./_event_source.ts";
import { InstallSession } from "./_handshake.ts";
import { resolveIdentity } from "./_identity.ts";
import { MAX_EVENT_COUNT } from "./_policy.ts";
import { MkStatsRequests } from "./_requests.ts";
import { type MkStatsSettings, resolveSettings } from "./_settings.ts";
import { normalizeEventName } from "./event_name.ts";
import { type HeartbeatOptions, type HeartbeatReport, runHeartbeat } from "./heartbeat.ts";
import type { MkStatsClientOptions, MkStatsResponse } from "./options.ts";

/** The state of the event queue, from {@linkcode MkStatsClient.queueStats}. */
export interface MkStatsQueueStats extends QueueStats {
  /** Events (counts summed) the server has accepted from flushes. */
  sent: number;
  /** Milliseconds until the client contacts the server again; 0 when not backing off. */
  backoffRemainingMs: number;
}

const QUEUE_KEY = "queue";

/**
 * The mkStats client.
 *
 * @example A plugin's whole life
 * ```ts
 * import { MkStatsClient } from "@edgewire/sdk/mkstats";
 *
 * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0", endpoint: "http://127.0.0.1:8787/api" });
 * await client.handshake();
 * await client.sendPing();
 * await client.trackEvent("feature_clicked");
 * client.queueEvent("menu_opened");
 * await client.flushEvents(true);
 * ```
 */
export class MkStatsClient {
  /** The normalised API base the client posts to. */
  readonly endpoint: string;
  readonly #settings: MkStatsSettings;
  readonly #session: InstallSession;
  readonly #requests: MkStatsRequests;
  readonly #queue: BoundedQueue<QueuedEvent>;
  readonly #engine: DeliveryEngine<EventBatch>;
  readonly #restored: Promise<void>;
  #sent = 0;

  /**
   * Creates a client. Nothing is sent until a method is called.
   *
   * @param options The plugin's identity, the API base and the platform services.
   * @throws {InvalidArgumentError} When an option has a value the client cannot use.
   */
  constructor(options: MkStatsClientOptions) {
    const settings = resolveSettings(options);
    this.#settings = settings;
    this.endpoint = settings.endpoint;
    this.#session = new InstallSession(settings, resolveIdentity(settings));
    this.#requests = new MkStatsRequests(settings, this.#session);
    this.#queue = new BoundedQueue<QueuedEvent>({
      maxItems: settings.maxQueuedEvents,
      storage: settings.storage,
      storageKey: settings.prefix + QUEUE_KEY,
    });
    // Nothing is lost if this fails: restore() counts the failure in persistErrors
    this.#restored = this.#queue.restore();
    this.#engine = new DeliveryEngine<EventBatch>({
      source: eventSource(this.#queue, this.#restored, (count) => (this.#sent += count)),
      send: (batch) => this.#requests.deliver(batch),
      gate: settings.gate,
    });
  }

  /**
   * Performs the install handshake, solving the proof-of-work when the
   * server asks for one, and keeps the install token (in `storage`).
   * Concurrent calls share one handshake.
   *
   * @param options A signal that aborts the handshake, solve included.
   * @returns The install token.
   * @throws {MkStatsBackoffError} While backing off after a retryable failure.
   * @throws {HttpError} When the server refuses the handshake.
   * @throws {MkStatsProtocolError} When the answer has neither a token nor a challenge.
   * @throws {PowTimeoutError} When the proof-of-work takes longer than `powMaxMs`.
   * @throws {TimeoutError} When a request outlives `timeoutMs`.
   * @throws {NetworkError} When the server cannot be reached.
   *
   * @example
   * ```ts
   * import { MkStatsClient } from "@edgewire/sdk/mkstats";
   *
   * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
   * const token = await client.handshake();
   * ```
   */
  handshake(options: { signal?: AbortSignal } = {}): Promise<string> {
    return this.#session.handshake(options.signal);
  }

  /**
   * Sends the daily-active ping (`POST /data`), handshaking first when no
   * token is known. A revoked token leads to one re-handshake and one retry.
   *
   * @param installToken The token to use instead of the kept one.
   * @param timestamp Unix seconds.
   * @returns The server's answer, or `{}` after a `429` and while backing off.
   * @throws {HttpError} When the server refuses the ping (a second `401` included);
   * a `5xx` or `408` also starts the backoff.
   * @throws {TimeoutError} When a request outlives `timeoutMs`.
   * @throws {NetworkError} When the server cannot be reached.
   *
   * @example
   * ```ts
   * import { MkStatsClient } from "@edgewire/sdk/mkstats";
   *
   * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
   * await client.sendPing();
   * ```
   */
  sendPing(installToken?: string, timestamp?: number): Promise<MkStatsResponse> {
    return this.#requests.guard(() => this.#requests.ping(installToken, timestamp));
  }

  /**
   * Sends one counted event with a given token (`POST /event`). When the
   * server has not seen a ping from this install yet (`409`), the client
   * pings and retries once. What cannot be sent now (while backing off, or
   * after a failure a retry may fix: a `5xx`, `408`, `429`, a timeout, a
   * network error, an answer that is not mkStats' own) is queued for the next
   * flush, the part in flight under the `Idempotency-Key` it was sent with, so
   * the server counts it once whether or not it had already counted it; the
   * call then answers `{}`. Do not call it again for the same occurrence.
   *
   * @param installToken The token to use; the kept one when `undefined`.
   * @param event The event name, normalised by {@linkcode normalizeEventName}.
   * @param count How many times it happened.
   * @param timestamp Unix seconds.
   * @returns The server's answer (to the last request, when a count above
   * {@linkcode MAX_EVENT_COUNT} is split), or `{}` when the event was queued instead.
   * @throws {InvalidArgumentError} When the event name normalises to nothing, or `count` is
   * not a positive integer.
   * @throws {HttpError} When mkStats itself refuses the event (`400 invalid_request`,
   * `413 payload_too_large`); nothing is queued then.
   *
   * @example
   * ```ts
   * import { MkStatsClient } from "@edgewire/sdk/mkstats";
   *
   * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
   * const token = await client.handshake();
   * await client.sendEvent(token, "export_done", 3);
   * ```
   */
  sendEvent(
    installToken: string | undefined,
    event: string,
    count = 1,
    timestamp?: number,
  ): Promise<MkStatsResponse> {
    const name = normalizeEventName(event);
    checkCount(count);
    let left = count;
    // The part in flight, with its key: after a retryable failure the server may have counted it
    let inFlight: { part: number; key: string } | undefined;
    const keep = () => {
      let rest = left;
      if (inFlight !== undefined) {
        addFormedEvent(this.#queue, name, inFlight.part, inFlight.key);
        rest -= inFlight.part;
      }
      if (rest > 0) addEvent(this.#queue, name, rest);
    };
    return this.#requests.guard(async () => {
      let answer: MkStatsResponse = {};
      // The server takes at most MAX_EVENT_COUNT per request: a larger count is split
      while (left > 0) {
        inFlight = { part: Math.min(left, MAX_EVENT_COUNT), key: newIdempotencyKey() };
        answer = await this.#requests.event(
          installToken,
          name,
          inFlight.part,
          timestamp,
          inFlight.key,
        );
        left -= inFlight.part;
        inFlight = undefined;
      }
      return answer;
    }, keep);
  }

  /**
   * Sends one counted event now with the kept token, handshaking first when
   * there is none.
   *
   * @param event The event name, normalised by {@linkcode normalizeEventName}.
   * @param count How many times it happened.
   * @param timestamp Unix seconds.
   * @returns The server's answer, or `{}` when the event was queued for the next flush
   * (see {@linkcode MkStatsClient.prototype.sendEvent}).
   * @throws {InvalidArgumentError} When the event name normalises to nothing, or `count` is
   * not a positive integer.
   * @throws {HttpError} When mkStats itself refuses the event.
   *
   * @example
   * ```ts
   * import { MkStatsClient } from "@edgewire/sdk/mkstats";
   *
   * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
   * await client.trackEvent("feature_clicked");
   * ```
   */
  trackEvent(event: string, count = 1, timestamp?: number): Promise<MkStatsResponse> {
    return this.sendEvent(undefined, event, count, timestamp);
  }

  /**
   * Queues an event for the next flush, adding `count` to what is already
   * queued under the same name (unless that is already being sent). Sends
   * nothing.
   *
   * @param event The event name, normalised by {@linkcode normalizeEventName}.
   * @param count How many times it happened.
   * @throws {InvalidArgumentError} When the event name normalises to nothing, or `count` is
   * not a positive integer.
   *
   * @example
   * ```ts
   * import { MkStatsClient } from "@edgewire/sdk/mkstats";
   *
   * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
   * client.queueEvent("menu_opened");
   * client.queueEvent("menu_opened", 2);
   * console.log(client.queueStats().queued); // 1 name, count 3
   * ```
   */
  queueEvent(event: string, count = 1): void {
    const name = normalizeEventName(event);
    checkCount(count);
    addEvent(this.#queue, name, count);
  }

  /**
   * Sends every queued event, oldest first, and keeps what could not be
   * sent. A `5xx`, `408`, `429`, timeout, network failure, an answer that is
   * not mkStats' JSON (a proxy's HTML page, a `400` without mkStats' error
   * code) or a failed handshake stops the flush with the rest still queued
   * and starts the backoff; only mkStats' own refusal of an event
   * (`400 invalid_request`, `413 payload_too_large`) drops it, counted as
   * `rejected`. A count above {@linkcode MAX_EVENT_COUNT} goes out in parts.
   * Each request carries an `Idempotency-Key` that its retries reuse.
   * Concurrent calls share one flush.
   *
   * @param force Send even while backing off, for a last attempt at shutdown.
   * @returns `true` when the queue is empty afterwards; failures never
   * reject, they leave events queued and resolve `false`.
   *
   * @example
   * ```ts
   * import { MkStatsClient } from "@edgewire/sdk/mkstats";
   *
   * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
   * client.queueEvent("menu_opened");
   * const drained = await client.flushEvents();
   * ```
   */
  async flushEvents(force = false): Promise<boolean> {
    await this.#restored;
    await this.#engine.drain({ force });
    await this.#queue.persisted();
    return this.#queue.length === 0;
  }

  /**
   * Runs the plugin loop: handshake when needed, ping, flush queued events,
   * wait `intervalSeconds`, again. A failed iteration is reported to
   * `onError` and the loop carries on.
   *
   * @param options Interval, iteration count, flushing and the stop signal.
   * @returns What the loop did, once it completes its iterations or is aborted.
   * @throws {InvalidArgumentError} When `intervalSeconds` or `iterations` is not positive.
   *
   * @example
   * ```ts
   * import { MkStatsClient } from "@edgewire/sdk/mkstats";
   *
   * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
   * const controller = new AbortController();
   * const report = await client.heartbeat({ intervalSeconds: 1500, signal: controller.signal });
   * ```
   */
  heartbeat(options: HeartbeatOptions = {}): Promise<HeartbeatReport> {
    return runHeartbeat(this, options);
  }

  /**
   * The queue's state: distinct names queued, bytes, events sent, what was
   * dropped and why, and the remaining backoff.
   *
   * @returns A snapshot of the counters.
   *
   * @example
   * ```ts
   * import { MkStatsClient } from "@edgewire/sdk/mkstats";
   *
   * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
   * console.log(client.queueStats().dropped); // 0
   * ```
   */
  queueStats(): MkStatsQueueStats {
    return {
      ...this.#queue.stats(),
      sent: this.#sent,
      backoffRemainingMs: this.#settings.gate.remainingMs(),
    };
  }

  /**
   * The install token currently kept, if any, loading it from `storage`.
   *
   * @returns The token, or `undefined` before the first handshake.
   *
   * @example
   * ```ts
   * import { MkStatsClient } from "@edgewire/sdk/mkstats";
   *
   * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
   * console.log(await client.installToken()); // undefined
   * ```
   */
  installToken(): Promise<string | undefined> {
    return this.#session.token();
  }
}

function checkCount(count: number): void {
  integer("send the event", "count", count);
}
