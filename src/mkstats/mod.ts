/**
 * mkStats plugin analytics: the install handshake with proof-of-work,
 * daily-active pings, counted and queued events, and a heartbeat loop.
 *
 * @example
 * ```ts
 * import { MkStatsClient } from "@edgewire/sdk/mkstats";
 *
 * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
 * await client.trackEvent("feature_clicked");
 * ```
 *
 * @module
 */

export {
  DEFAULT_API_URL,
  type HeartbeatOptions,
  type HeartbeatReport,
  MkStatsClient,
  type MkStatsClientOptions,
  type MkStatsQueueStats,
  type MkStatsResponse,
  normalizeApiUrl,
} from "./client.ts";
export { MkStatsBackoffError, MkStatsProtocolError } from "./errors.ts";
export { MAX_EVENT_NAME_LENGTH, normalizeEventName } from "./event_name.ts";
export { generateDeviceFingerprint, generateUserHash, getClientName } from "./identity.ts";
