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

export { MkStatsClient, type MkStatsQueueStats } from "./client.ts";
export {
  DEFAULT_ENDPOINT,
  type MkStatsClientOptions,
  type MkStatsResponse,
  normalizeEndpoint,
} from "./options.ts";
export type { HeartbeatOptions, HeartbeatReport } from "./heartbeat.ts";
export { MkStatsBackoffError, MkStatsProtocolError } from "./errors.ts";
export { MAX_EVENT_NAME_LENGTH, normalizeEventName } from "./event_name.ts";
export { generateDeviceFingerprint, generateUserHash, getClientName } from "./identity.ts";
