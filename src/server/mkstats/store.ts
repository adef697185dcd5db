/**
 * What the mkStats routes keep: installs and the hashes of their tokens,
 * daily-active pings and event counters, and the aggregates read back by
 * `GET /api/v1/stats/:plugin_id`.
 *
 * @module
 */

import type { IdempotencySettlement } from "../common/idempotency_store.ts";

/** What the server records when an install completes its handshake. */
export interface InstallRecord {
  /** The plugin the install belongs to. */
  pluginId: string;
  /** The install's user hash (64 lowercase hex characters). */
  userHash: string;
  /** The plugin version reported at handshake. */
  version: string;
  /** The device fingerprint (64 lowercase hex characters). */
  deviceFingerprint: string;
  /** The host application's name, such as `exteraGram`. */
  clientName: string;
  /** The host application's version. */
  clientVersion: string;
  /** The SHA-256 of the issued install token, as lowercase hex; the token itself is never stored. */
  tokenHash: string;
  /** When the issued token stops being accepted, in milliseconds. */
  tokenExpiresAt: number;
  /** The server's current time, in milliseconds; becomes `first_seen` for a new install. */
  now: number;
}

/** An install token as found by its hash. */
export interface InstallTokenRecord {
  /** The plugin the token was issued for. */
  pluginId: string;
  /** The user hash the token was issued for. */
  userHash: string;
  /** When the token stops being accepted, in milliseconds. */
  expiresAt: number;
  /** Whether the install has sent at least one ping (`/data`). */
  hasPinged: boolean;
}

/** A daily-active ping. */
export interface PingRecord {
  /** The plugin that pinged. */
  pluginId: string;
  /** The install's user hash. */
  userHash: string;
  /** The plugin version reported with the ping. */
  version: string;
  /** The UTC day of the ping, `YYYY-MM-DD`. */
  day: string;
  /** The server's current time, in milliseconds. */
  now: number;
}

/** Occurrences of one event to add to its daily counter. */
export interface EventCountRecord {
  /** The plugin that sent the event. */
  pluginId: string;
  /** The plugin version reported with the event. */
  version: string;
  /** The event name. */
  event: string;
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** How many occurrences to add. */
  count: number;
}

/** Daily actives of one day. */
export interface DailyActiveCount {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** How many distinct installs pinged that day. */
  count: number;
}

/** The total of one event for one plugin version. */
export interface EventTotal {
  /** The event name. */
  event: string;
  /** The plugin version. */
  version: string;
  /** The sum of all counts. */
  count: number;
}

/** Aggregates of one plugin, as `GET /api/v1/stats/:plugin_id` returns them. */
export interface PluginStats {
  /** The plugin. */
  plugin_id: string;
  /** How many distinct installs (plugin and user hash) completed a handshake. */
  installs: number;
  /** Distinct pinging installs per day, oldest day first. */
  daily_actives: DailyActiveCount[];
  /** Event totals per event and version, by event then version. */
  events: EventTotal[];
}

/**
 * Which days and how many rows an mkStats activity read covers. Activity is
 * kept per plugin, UTC day and plugin version as pings and events arrive, so
 * a read costs the rows of the days asked for, never a scan of the pings.
 */
export interface MkStatsActivityQuery {
  /** The first UTC day counted, `YYYY-MM-DD`. */
  firstDay: string;
  /** The last UTC day counted, `YYYY-MM-DD`. */
  lastDay: string;
  /** The most rows answered, from 1 to 1000 (a larger limit answers 1000). */
  limit: number;
}

/** One plugin's activity over a range of days, as {@linkcode MkStatsStore.listMkStatsPlugins} lists it. */
export interface PluginActivity {
  /** The plugin. */
  pluginId: string;
  /** Its daily actives summed over the days: install-days. */
  actives: number;
  /** Its events summed over the days. */
  events: number;
}

/** One plugin version's activity on one day. */
export interface PluginVersionDay {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** The plugin version. */
  version: string;
  /**
   * Installs whose first ping of the day reported this version (a later
   * ping that day with another version leaves the count where it was), so
   * the versions of a day add up to that day's daily actives. Days stored
   * before a store kept this count are counted under the version of each
   * install's last ping that day, the only one those rows hold.
   */
  actives: number;
  /** Events reported with this version that day. */
  events: number;
}

/**
 * The mkStats part of a server store. Implementations must be safe to call
 * concurrently.
 *
 * @example Record a handshake and find its token
 * ```ts
 * import { MemoryStore, type MkStatsStore } from "@edgewire/sdk/server";
 *
 * const store: MkStatsStore = new MemoryStore();
 * await store.recordInstall({
 *   pluginId: "p", userHash: "a".repeat(64), version: "1.0.0", deviceFingerprint: "b".repeat(64),
 *   clientName: "exteraGram", clientVersion: "12.3.1", tokenHash: "c".repeat(64),
 *   tokenExpiresAt: 2000, now: 1000,
 * });
 * console.log((await store.findInstallToken("c".repeat(64)))?.pluginId); // "p"
 * ```
 */
export interface MkStatsStore {
  /**
   * Records a completed handshake: creates or refreshes the install and stores
   * the hash of its new token. Earlier tokens stay valid until they expire.
   *
   * @param install The install and its token hash.
   */
  recordInstall(install: InstallRecord): Promise<void>;
  /**
   * Finds an install token by its hash.
   *
   * @param tokenHash The SHA-256 of the token, as lowercase hex.
   * @returns The token's install and expiry, or `undefined` when unknown.
   */
  findInstallToken(tokenHash: string): Promise<InstallTokenRecord | undefined>;
  /**
   * Records a daily-active ping; a second ping on the same day by the same
   * install counts once.
   *
   * @param ping The ping.
   * @param settle The idempotency key to settle with the same write, when the request has one.
   */
  recordPing(ping: PingRecord, settle?: IdempotencySettlement): Promise<void>;
  /**
   * Adds occurrences to an event's daily counter.
   *
   * @param event The event and how many occurrences to add.
   * @param settle The idempotency key to settle with the same write, when the request has one.
   */
  addEventCount(event: EventCountRecord, settle?: IdempotencySettlement): Promise<void>;
  /**
   * Aggregates one plugin's installs, daily actives and events.
   *
   * @param pluginId The plugin.
   * @returns The aggregates; zeros and empty lists for an unknown plugin.
   */
  getStats(pluginId: string): Promise<PluginStats>;
  /**
   * Deletes at most `limit` install tokens that expired before `now`; the
   * installs stay. The server calls it again while it deletes `limit`, so
   * one call stays short.
   *
   * @param now The server's current time, in milliseconds.
   * @param limit The most tokens one call deletes, at least 1.
   * @returns How many it deleted.
   */
  pruneInstallTokens(now: number, limit: number): Promise<number>;
  /**
   * Lists the plugins active over a range of days, most active first (by
   * daily actives summed over the days, then events, then plugin id), from
   * the activity kept per plugin, day and version as pings and events arrive.
   *
   * @param query The range of days and the most plugins to list.
   * @returns At most `query.limit` plugins; those with neither pings nor events in the range are left out.
   */
  listMkStatsPlugins(query: MkStatsActivityQuery): Promise<PluginActivity[]>;
  /**
   * Reads one plugin's daily actives and events per version and day over a
   * range of days, from the same kept activity.
   *
   * @param pluginId The plugin.
   * @param query The range of days and the most rows to answer.
   * @returns At most `query.limit` rows, newest day first, then by version.
   */
  getMkStatsActivity(pluginId: string, query: MkStatsActivityQuery): Promise<PluginVersionDay[]>;
}
