/**
 * The options of {@linkcode MkStatsClient}, the default endpoint and the
 * endpoint normalisation the original client applies (`/api` gets `/v1`).
 *
 * @module
 */

import type { Jitter } from "../core/backoff.ts";
import type { Storage } from "../core/storage.ts";
import { httpUrl } from "../core/validate.ts";

/** The public mkStats API, used when neither `endpoint` nor `MKSTATS_API_URL` names another. */
export const DEFAULT_ENDPOINT = "https://mkstats.mk69.su/api/v1";

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
  endpoint?: string;
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

/**
 * Normalises an mkStats API base as the original client does: trailing
 * slashes removed, `/v1` appended to a base ending in `/api`.
 *
 * @param url The base the caller gave.
 * @returns The base requests are sent under.
 * @throws {InvalidArgumentError} When `url` is not an absolute http(s) URL; the
 * message never shows the URL, which may carry credentials.
 *
 * @example
 * ```ts
 * import { normalizeEndpoint } from "@edgewire/sdk/mkstats";
 *
 * console.log(normalizeEndpoint("https://mkstats.mk69.su/api/")); // "https://mkstats.mk69.su/api/v1"
 * ```
 */
export function normalizeEndpoint(url: string): string {
  const base = httpUrl("use the mkStats endpoint", "endpoint", url);
  return base.endsWith("/api") ? `${base}/v1` : base;
}
