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

import { BackoffGate, type Jitter } from "../core/backoff.ts";
import { delay } from "../core/delay.ts";
import { DeliveryEngine } from "../core/delivery/engine.ts";
import { httpOutcome } from "../core/delivery/http_outcome.ts";
import { IDEMPOTENCY_KEY_HEADER, newIdempotencyKey } from "../core/delivery/idempotency.ts";
import type { SendOutcome } from "../core/delivery/outcome.ts";
import { AbortedError, HttpError, InvalidArgumentError } from "../core/errors.ts";
import { DEFAULT_TIMEOUT_MS, postJson } from "../core/http.ts";
import { BoundedQueue, type QueueStats } from "../core/queue.ts";
import { readEnv } from "../core/runtime/mod.ts";
import { MemoryStorage, type Storage } from "../core/storage.ts";
import { getOrCreate } from "../core/storage/keyed.ts";
import { solvePow } from "../pow/solve.ts";
import { addEvent, type EventBatch, eventSource, type QueuedEvent } from "./_event_source.ts";
import { EVENT_POLICY, MAX_EVENT_COUNT } from "./_policy.ts";
import { MkStatsBackoffError, MkStatsProtocolError } from "./errors.ts";
import { normalizeEventName } from "./event_name.ts";
import { generateDeviceFingerprint, generateUserHash, getClientName } from "./identity.ts";

/** The public mkStats API, used when neither `apiUrl` nor `MKSTATS_API_URL` names another. */
export const DEFAULT_API_URL = "https://mkstats.mk69.su/api/v1";

/** Options of {@linkcode MkStatsClient}. */
export interface MkStatsClientOptions {
  /** The plugin's id, as registered with mkStats. Required. */
  pluginId: string;
  /** The plugin's version. Required. */
  pluginVersion: string;
  /**
   * The mkStats API base. A base ending in `/api` gets `/v1` appended and
   * trailing slashes are removed, as the original client does.
   *
   * @default the `MKSTATS_API_URL` environment variable, else "https://mkstats.mk69.su/api/v1"
   */
  apiUrl?: string;
  /**
   * A stable, private id of the device, from which the user hash and the
   * device fingerprint are derived.
   *
   * @default a random id, generated once and kept in `storage`
   */
  deviceId?: string;
  /**
   * The install's user hash, when the caller computes it itself.
   *
   * @default generateUserHash(deviceId, pluginId)
   */
  userHash?: string;
  /**
   * The device fingerprint, when the caller computes it itself.
   *
   * @default generateDeviceFingerprint(deviceId)
   */
  deviceFingerprint?: string;
  /**
   * The host's name, sent as `client_name`.
   *
   * @default getClientName()
   */
  clientName?: string;
  /**
   * The host's version, sent as `client_version`.
   *
   * @default "unknown"
   */
  clientVersion?: string;
  /**
   * Where the install token, the generated device id and queued events are
   * kept, so that a restart neither handshakes again nor loses events.
   *
   * @default a new MemoryStorage
   */
  storage?: Storage;
  /**
   * The deadline of each request, in milliseconds.
   *
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * How long a proof-of-work solve may take before the handshake gives up, in milliseconds.
   *
   * @default 6000
   */
  powMaxMs?: number;
  /**
   * The most distinct event names `queueEvent()` holds; beyond it the oldest
   * is dropped and counted in `queueStats()`.
   *
   * @default 1000
   */
  maxQueuedEvents?: number;
  /**
   * The backoff after any retryable outcome (a 5xx, 408, 429, timeout,
   * network error, unrecognised answer or failed handshake), in
   * milliseconds: capped exponential from `initialMs` to `maxMs`, full
   * jitter unless `jitter` says otherwise; `Retry-After` wins up to `maxMs`.
   *
   * @default { initialMs: 1000, maxMs: 300000, jitter: "full" }
   */
  backoff?: { initialMs?: number; maxMs?: number; jitter?: Jitter };
  /**
   * The fetch implementation.
   *
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The clock, in epoch milliseconds.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * A source of uniform numbers in [0, 1), for backoff jitter.
   *
   * @default Math.random
   */
  random?: () => number;
}

/** The JSON object an mkStats endpoint answered, or `{}` while backing off. */
export type MkStatsResponse = Record<string, unknown>;

/** Options of {@linkcode MkStatsClient.heartbeat}. */
export interface HeartbeatOptions {
  /**
   * Seconds between iterations.
   *
   * @default 1500
   */
  intervalSeconds?: number;
  /**
   * How many iterations to run before resolving.
   *
   * @default unlimited: until `signal` aborts
   */
  iterations?: number;
  /**
   * Whether each iteration also flushes events queued with `queueEvent()`.
   *
   * @default true
   */
  flushBufferedEvents?: boolean;
  /**
   * Stops the loop; the heartbeat then resolves with what it did so far.
   *
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * Told of each failed iteration; the loop carries on regardless.
   *
   * @default undefined
   */
  onError?: (error: unknown) => void;
}

/** What a heartbeat did, once it ends. */
export interface HeartbeatReport {
  /** Iterations started. */
  iterations: number;
  /** Pings the server accepted. */
  pings: number;
  /** Iterations that failed. */
  errors: number;
  /** Whether the loop ran its iterations out or was aborted. */
  stopped: "completed" | "aborted";
}

/** The state of the event queue, from {@linkcode MkStatsClient.queueStats}. */
export interface MkStatsQueueStats extends QueueStats {
  /** Events (counts summed) the server has accepted from flushes. */
  sent: number;
  /** Milliseconds until the client contacts the server again; 0 when not backing off. */
  backoffRemainingMs: number;
}

const TOKEN_KEY = "install_token";
const DEVICE_KEY = "device_id";
const QUEUE_KEY = "queue";
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The mkStats client.
 *
 * @example A plugin's whole life
 * ```ts
 * import { MkStatsClient } from "@edgewire/sdk/mkstats";
 *
 * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0", apiUrl: "http://127.0.0.1:8787/api" });
 * await client.handshake();
 * await client.sendPing();
 * await client.trackEvent("feature_clicked");
 * client.queueEvent("menu_opened");
 * await client.flushEvents(true);
 * ```
 */
export class MkStatsClient {
  /** The normalised API base the client posts to. */
  readonly apiUrl: string;
  readonly #pluginId: string;
  readonly #pluginVersion: string;
  readonly #clientName: string;
  readonly #clientVersion: string;
  readonly #storage: Storage;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #powMaxMs: number;
  readonly #fetch: typeof fetch | undefined;
  readonly #now: () => number;
  readonly #gate: BackoffGate;
  readonly #queue: BoundedQueue<QueuedEvent>;
  readonly #engine: DeliveryEngine<EventBatch>;
  // Errors the handshake threw: to delivery they are retries, never refusals
  readonly #handshakeErrors = new WeakSet<object>();
  readonly #identity: Promise<{ userHash: string; deviceFingerprint: string }>;
  readonly #restored: Promise<void>;
  #token: string | undefined;
  #tokenLoaded = false;
  #handshaking: Promise<string> | undefined;
  #sent = 0;

  /**
   * Creates a client. Nothing is sent until a method is called.
   *
   * @param options The plugin's identity, the API base and the platform services.
   * @throws {InvalidArgumentError} When an option has a value the client cannot use.
   */
  constructor(options: MkStatsClientOptions) {
    const where = "MkStatsClient";
    this.#pluginId = text(where, "pluginId", options.pluginId);
    this.#pluginVersion = text(where, "pluginVersion", options.pluginVersion);
    this.apiUrl = normalizeApiUrl(options.apiUrl ?? readEnv("MKSTATS_API_URL") ?? DEFAULT_API_URL);
    this.#clientName = text(where, "clientName", options.clientName ?? getClientName());
    this.#clientVersion = text(where, "clientVersion", options.clientVersion ?? "unknown");
    this.#timeoutMs = positive(where, "timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#powMaxMs = positive(where, "powMaxMs", options.powMaxMs ?? 6000);
    this.#storage = options.storage ?? new MemoryStorage();
    this.#prefix = `mkstats:${this.#pluginId}:`;
    this.#fetch = options.fetch;
    this.#now = options.now ?? Date.now;
    this.#gate = new BackoffGate({
      initialMs: options.backoff?.initialMs ?? 1000,
      maxMs: options.backoff?.maxMs ?? 300_000,
      jitter: options.backoff?.jitter,
      random: options.random,
      now: this.#now,
    });
    this.#queue = new BoundedQueue<QueuedEvent>({
      maxItems: options.maxQueuedEvents ?? 1000,
      storage: this.#storage,
      storageKey: this.#prefix + QUEUE_KEY,
    });
    for (const name of ["userHash", "deviceFingerprint"] as const) {
      const value = options[name];
      if (value !== undefined && !HEX64.test(value)) {
        throw new InvalidArgumentError(
          name,
          `Cannot create ${where} as '${name}' must be 64 lowercase hex characters: current length is ${
            String(value).length
          }`,
        );
      }
    }
    if (options.deviceId !== undefined) text(where, "deviceId", options.deviceId);
    this.#identity = this.#resolveIdentity(options);
    // Nothing is lost if this fails: restore() counts the failure in persistErrors
    this.#restored = this.#queue.restore();
    this.#engine = new DeliveryEngine<EventBatch>({
      source: eventSource(this.#queue, this.#restored, (count) => (this.#sent += count)),
      send: (batch) => this.#deliver(batch),
      gate: this.#gate,
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
    this.#handshaking ??= this.#handshake(options.signal).finally(() => {
      this.#handshaking = undefined;
    });
    return this.#handshaking;
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
    return this.#guard(() => this.#ping(installToken, timestamp));
  }

  /**
   * Sends one counted event with a given token (`POST /event`). When the
   * server has not seen a ping from this install yet (`409`), the client
   * pings and retries once.
   *
   * @param installToken The token to use; the kept one when `undefined`.
   * @param event The event name, normalised by {@linkcode normalizeEventName}.
   * @param count How many times it happened.
   * @param timestamp Unix seconds.
   * @returns The server's answer (to the last request, when a count above
   * {@linkcode MAX_EVENT_COUNT} is split), or `{}` after a `429` and while backing off.
   * @throws {TypeError} When the event name normalises to nothing.
   * @throws {InvalidArgumentError} When `count` is not a positive integer.
   * @throws {HttpError} When the server refuses the event.
   * @throws {TimeoutError} When a request outlives `timeoutMs`.
   * @throws {NetworkError} When the server cannot be reached.
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
    return this.#guard(async () => {
      let answer: MkStatsResponse = {};
      // The server takes at most MAX_EVENT_COUNT per request: a larger count is split
      for (let left = count; left > 0; left -= MAX_EVENT_COUNT) {
        const part = Math.min(left, MAX_EVENT_COUNT);
        answer = await this.#event(installToken, name, part, timestamp, newIdempotencyKey());
      }
      return answer;
    });
  }

  /**
   * Sends one counted event now with the kept token, handshaking first when
   * there is none.
   *
   * @param event The event name, normalised by {@linkcode normalizeEventName}.
   * @param count How many times it happened.
   * @param timestamp Unix seconds.
   * @returns The server's answer, or `{}` after a `429` and while backing off.
   * @throws {TypeError} When the event name normalises to nothing.
   * @throws {InvalidArgumentError} When `count` is not a positive integer.
   * @throws {HttpError} When the server refuses the event.
   * @throws {TimeoutError} When a request outlives `timeoutMs`.
   * @throws {NetworkError} When the server cannot be reached.
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
   * @throws {TypeError} When the event name normalises to nothing.
   * @throws {InvalidArgumentError} When `count` is not a positive integer.
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
  async heartbeat(options: HeartbeatOptions = {}): Promise<HeartbeatReport> {
    const intervalSeconds = options.intervalSeconds ?? 1500;
    if (!(intervalSeconds > 0) || !Number.isFinite(intervalSeconds)) {
      throw new InvalidArgumentError(
        "intervalSeconds",
        `Cannot start heartbeat as 'intervalSeconds' must be positive: current value is ${intervalSeconds}`,
      );
    }
    const iterations = options.iterations ?? Infinity;
    if (!(iterations > 0) || (iterations !== Infinity && !Number.isInteger(iterations))) {
      throw new InvalidArgumentError(
        "iterations",
        `Cannot start heartbeat as 'iterations' must be a positive integer: current value is ${iterations}`,
      );
    }
    const { signal } = options;
    const report: HeartbeatReport = { iterations: 0, pings: 0, errors: 0, stopped: "completed" };
    while (report.iterations < iterations) {
      if (signal?.aborted) {
        report.stopped = "aborted";
        break;
      }
      report.iterations++;
      try {
        const answer = await this.sendPing();
        if (Object.keys(answer).length > 0) report.pings++;
        if (options.flushBufferedEvents ?? true) await this.flushEvents();
      } catch (error) {
        report.errors++;
        options.onError?.(error);
      }
      if (report.iterations >= iterations) break;
      try {
        await delay(intervalSeconds * 1000, { signal });
      } catch (error) {
        if (!(error instanceof AbortedError)) throw error;
        report.stopped = "aborted";
        break;
      }
    }
    return report;
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
      backoffRemainingMs: this.#gate.remainingMs(),
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
  async installToken(): Promise<string | undefined> {
    if (!this.#tokenLoaded) {
      // A storage that cannot be read leaves the token in memory only: a handshake, not a crash
      this.#token = await Promise.resolve()
        .then(() => this.#storage.get(this.#prefix + TOKEN_KEY))
        .catch(() => undefined);
      this.#tokenLoaded = true;
    }
    return this.#token;
  }

  async #resolveIdentity(
    options: MkStatsClientOptions,
  ): Promise<{ userHash: string; deviceFingerprint: string }> {
    if (options.userHash !== undefined && options.deviceFingerprint !== undefined) {
      return { userHash: options.userHash, deviceFingerprint: options.deviceFingerprint };
    }
    // The original plugin keeps a random uuid4 hex per device; so do we. A storage
    // that fails leaves an id for this process only, rather than no client at all
    const make = () => crypto.randomUUID().replaceAll("-", "");
    const deviceId = options.deviceId ??
      await getOrCreate(this.#storage, this.#prefix + DEVICE_KEY, make).catch(make);
    return {
      userHash: options.userHash ?? generateUserHash(deviceId, this.#pluginId),
      deviceFingerprint: options.deviceFingerprint ?? generateDeviceFingerprint(deviceId),
    };
  }

  async #common(): Promise<Record<string, string>> {
    const { userHash, deviceFingerprint } = await this.#identity;
    return {
      plugin_id: this.#pluginId,
      version: this.#pluginVersion,
      client_name: this.#clientName,
      client_version: this.#clientVersion,
      user_hash: userHash,
      device_fingerprint: deviceFingerprint,
    };
  }

  #post(path: string, body: Record<string, unknown>, signal?: AbortSignal, key?: string) {
    return postJson<MkStatsResponse>(this.apiUrl + path, body, {
      fetch: this.#fetch,
      timeoutMs: this.#timeoutMs,
      now: this.#now,
      signal,
      headers: key === undefined ? undefined : { [IDEMPOTENCY_KEY_HEADER]: key },
    });
  }

  async #handshake(signal?: AbortSignal): Promise<string> {
    const remaining = this.#gate.remainingMs();
    if (remaining > 0) {
      throw new MkStatsBackoffError(
        `Cannot handshake while backing off after a failure: retry in ${
          Math.ceil(remaining / 1000)
        } s`,
        remaining,
      );
    }
    const payload = await this.#common();
    let answer = (await this.#post("/handshake", payload, signal)).body;
    if (typeof answer?.install_token !== "string" && answer?.pow_required) {
      const challenge = answer.pow_challenge;
      const difficulty = Number(answer.pow_difficulty);
      if (typeof challenge !== "string" || challenge === "" || !Number.isInteger(difficulty)) {
        throw new MkStatsProtocolError(
          "Cannot solve the handshake's proof-of-work as the answer lacks 'pow_challenge' or an integer 'pow_difficulty'",
        );
      }
      const { nonce } = await solvePow(challenge, difficulty, { maxMs: this.#powMaxMs, signal });
      answer = (await this.#post(
        "/handshake",
        { ...payload, pow_challenge: challenge, pow_nonce: nonce },
        signal,
      ))
        .body;
    }
    const token = answer?.install_token;
    if (typeof token !== "string" || token === "") {
      throw new MkStatsProtocolError(
        "Cannot finish the handshake as the answer has no 'install_token'",
      );
    }
    this.#token = token;
    this.#tokenLoaded = true;
    this.#gate.succeeded();
    await Promise.resolve()
      .then(() => this.#storage.set(this.#prefix + TOKEN_KEY, token))
      .catch(() => {});
    return token;
  }

  async #tokenOrHandshake(): Promise<string> {
    return (await this.installToken()) ?? await this.#handshakeMarked();
  }

  async #handshakeMarked(): Promise<string> {
    try {
      return await this.handshake();
    } catch (error) {
      if (typeof error === "object" && error !== null) this.#handshakeErrors.add(error);
      throw error;
    }
  }

  async #forgetToken(token: string): Promise<void> {
    // A concurrent request may already have replaced it
    if (this.#token !== token) return;
    this.#token = undefined;
    await Promise.resolve()
      .then(() => this.#storage.delete(this.#prefix + TOKEN_KEY))
      .catch(() => {});
  }

  // Sends one token-bearing request; a 401 invalid_install_token leads to one
  // fresh handshake and one retry, never a loop
  async #withToken(
    given: string | undefined,
    send: (token: string) => Promise<MkStatsResponse>,
  ): Promise<MkStatsResponse> {
    const token = given ?? await this.#tokenOrHandshake();
    try {
      return await send(token);
    } catch (error) {
      if (!isCode(error, 401, "invalid_install_token")) throw error;
      await this.#forgetToken(token);
      return await send(await this.#handshakeMarked());
    }
  }

  #ping(installToken?: string, timestamp?: number): Promise<MkStatsResponse> {
    // One key for the ping, kept by its retry after a re-handshake
    const key = newIdempotencyKey();
    return this.#withToken(installToken, async (token) => {
      const body = {
        ...await this.#common(),
        install_token: token,
        timestamp: timestamp ?? this.#seconds(),
      };
      return (await this.#post("/data", body, undefined, key)).body ?? {};
    });
  }

  #event(
    installToken: string | undefined,
    event: string,
    count: number,
    timestamp: number | undefined,
    key: string,
  ): Promise<MkStatsResponse> {
    return this.#withToken(installToken, async (token) => {
      const body = {
        ...await this.#common(),
        install_token: token,
        event,
        count,
        timestamp: timestamp ?? this.#seconds(),
      };
      try {
        return (await this.#post("/event", body, undefined, key)).body ?? {};
      } catch (error) {
        if (!isCode(error, 409, "metric_not_initialized")) throw error;
        await this.#ping(token);
        return (await this.#post("/event", body, undefined, key)).body ?? {};
      }
    });
  }

  // While backing off, network methods answer {} as the original does. Every
  // retryable failure starts (or extends) the backoff; a 429 then also answers {},
  // anything else is thrown so the caller knows
  async #guard(send: () => Promise<MkStatsResponse>): Promise<MkStatsResponse> {
    if (this.#gate.remainingMs() > 0) return {};
    try {
      const answer = await send();
      this.#gate.succeeded();
      return answer;
    } catch (error) {
      if (error instanceof MkStatsBackoffError) return {};
      const outcome = this.#classify(error);
      if (outcome.kind === "retry" && outcome.reason !== "aborted") {
        this.#gate.failed(outcome.retryAfterMs);
        if (outcome.status === 429) return {};
      }
      throw error;
    }
  }

  #classify(error: unknown): SendOutcome {
    if (typeof error === "object" && error !== null && this.#handshakeErrors.has(error)) {
      return { kind: "retry", reason: "handshake", error };
    }
    return httpOutcome({ error }, EVENT_POLICY);
  }

  // The engine's send: one POST /event (after a handshake or ping when needed)
  async #deliver(batch: EventBatch): Promise<SendOutcome> {
    try {
      const answer = await this.#event(undefined, batch.event, batch.count, undefined, batch.key);
      return httpOutcome({
        answer: { status: 200, headers: new Headers(), body: answer, retryAfterMs: undefined },
      }, EVENT_POLICY);
    } catch (error) {
      return this.#classify(error);
    }
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000);
  }
}

/**
 * Normalises an mkStats API base as the original client does: trailing
 * slashes removed, `/v1` appended to a base ending in `/api`.
 *
 * @param url The base the caller gave.
 * @returns The base requests are sent under.
 * @throws {InvalidArgumentError} When `url` is not an absolute http(s) URL.
 *
 * @example
 * ```ts
 * import { normalizeApiUrl } from "@edgewire/sdk/mkstats";
 *
 * console.log(normalizeApiUrl("https://mkstats.mk69.su/api/")); // "https://mkstats.mk69.su/api/v1"
 * ```
 */
export function normalizeApiUrl(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new InvalidArgumentError(
      "apiUrl",
      `Cannot use 'apiUrl' as it must be an absolute http(s) URL such as "https://mkstats.mk69.su/api/v1": current value is ${
        JSON.stringify(String(url).slice(0, 80))
      }`,
    );
  }
  let base = url.replace(/\/+$/, "");
  if (base.endsWith("/api")) base += "/v1";
  return base;
}

function isCode(error: unknown, status: number, code: string): boolean {
  return error instanceof HttpError && error.status === status && error.code === code;
}

function text(where: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new InvalidArgumentError(
      name,
      `Cannot create ${where} as '${name}' must be a non-empty string: current value is ${
        typeof value === "string" ? JSON.stringify(value) : typeof value
      }`,
    );
  }
  return value;
}

function positive(where: string, name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new InvalidArgumentError(
      name,
      `Cannot create ${where} as '${name}' must be a positive number: current value is ${value}`,
    );
  }
  return value;
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new InvalidArgumentError(
      "count",
      `Cannot send the event as 'count' must be a positive integer: current value is ${count}`,
    );
  }
}
