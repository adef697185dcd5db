/**
 * The Edgewire reference server: one Hono app that speaks the server side of
 * the Edgewire services: the mkStats plugin analytics API
 * (`/api/v1/handshake`, `/data`, `/event`, `/stats/:plugin_id`), Honch
 * capture (`POST /capture` with wire-v2 frames or JSON, and the admin read
 * `GET /api/honch/events`), a migas server (usage breadcrumbs and
 * version checks over REST and GraphQL), and an Emitter broker
 * ({@linkcode EmitterBroker}: MQTT over WebSocket on any path, `POST
 * /presence`, `/keygen`; plain MQTT over TCP with {@linkcode serveMqttTcp}).
 *
 * State lives in a {@linkcode ServerStore}, one narrow interface per service
 * ({@linkcode SharedStore}, {@linkcode MkStatsStore}, {@linkcode HonchStore},
 * {@linkcode MigasStore}). The default is a {@linkcode MemoryStore}; the
 * embedded SQLite store is its own entry, `@edgewire/sdk/server/sqlite`, so
 * nothing reachable from here loads a runtime module and the server runs on
 * Workers too.
 *
 * @example Answer a request directly, as `Deno.serve(server.fetch)` would
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 *
 * const server = createServer({ adminKey: "change-me" });
 * const response = await server.fetch(new Request("http://localhost/healthz"));
 * console.log(response.status); // 200
 * await server.close();
 * ```
 *
 * @module
 */

export { createServer } from "./app.ts";
export {
  type BrokerLink,
  type BrokerSession,
  EmitterBroker,
  type EmitterBrokerStats,
  type EmitterLiveChannel,
  type EmitterLiveChannels,
  type EmitterPresence,
} from "./emitter/broker.ts";
export type { EmitterBrokerOptions } from "./emitter/options.ts";
export type { EmitterLicense, LicenseV1, LicenseV2 } from "../emitter/security/license.ts";
export type { EmitterStatus } from "../emitter/security/errors.ts";
export type { KeyCipher } from "../emitter/security/cipher.ts";
export type { KEY_TARGET_ERRORS, SecurityKey } from "../emitter/security/key.ts";
export type { ChannelOption, ChannelType, EmitterChannel } from "../emitter/security/channel.ts";
export type {
  EmitterContractUsage,
  EmitterMessageQuery,
  EmitterStore,
  EmitterStoredMessage,
} from "./emitter/store.ts";
export {
  attachWebSocket,
  type BrokerAcceptor,
  MQTT_SUBPROTOCOLS,
  selectMqttSubprotocol,
} from "./emitter/websocket_link.ts";
export { type MqttTcpOptions, type MqttTcpServer, serveMqttTcp } from "./emitter/mqtt_tcp.ts";
export { bunWebSocketHandlers, type UpgradedWebSocket } from "../core/runtime/websocket_upgrade.ts";
export type {
  CorsOptions,
  EdgewireServer,
  HonchPartialQuotaOptions,
  HonchServerOptions,
  MigasGraphqlOptions,
  MigasProjectOptions,
  MigasRateLimitOptions,
  MigasServerOptions,
  RateLimitOptions,
  ServerLogEntry,
  ServerOptions,
  ServerRateLimitOptions,
  TrustProxyOptions,
} from "./options.ts";
export { type TakeResult, TokenBucketLimiter, type TokenBucketOptions } from "./rate_limit.ts";
export { type SpotDiscoveryAnswer, SpotRelay } from "./spot/relay.ts";
export type { SpotRelayOptions } from "./spot/options.ts";
export {
  SPOT_BLOB_KEY_MAX_BYTES,
  SPOT_BLOB_MAX_BYTES,
  type SpotBlobTotals,
  type SpotBlobWrite,
  type SpotStore,
} from "./spot/store.ts";
export { MemoryStore } from "./memory/memory_store.ts";
export {
  type Backplane,
  BackplaneError,
  type BackplaneHandler,
  type BackplaneStatus,
  type BackplaneSubscription,
  MemoryBackplane,
} from "./backplane.ts";
export { EdgewireError } from "../core/errors.ts";
export type { ServerStore } from "./store.ts";
export { StoreUnavailableError } from "./store_unavailable_error.ts";
export type { SharedStore, StoreSizes } from "./common/store.ts";
export type {
  IdempotencyClaim,
  IdempotencyClaimResult,
  IdempotencySettlement,
  IdempotencyStore,
  IdempotentAnswer,
} from "./common/idempotency_store.ts";
export type {
  DailyActiveCount,
  EventCountRecord,
  EventTotal,
  InstallRecord,
  InstallTokenRecord,
  MkStatsActivityQuery,
  MkStatsStore,
  PingRecord,
  PluginActivity,
  PluginStats,
  PluginVersionDay,
} from "./mkstats/store.ts";
export type {
  HonchBlobRecord,
  HonchCompletion,
  HonchCompletionResult,
  HonchEventRecord,
  HonchFrameAppend,
  HonchPartial,
  HonchPartialCount,
  HonchPartialOpening,
  HonchPartialScope,
  HonchPartialUsage,
  HonchStore,
  HonchUploadKey,
} from "./honch/store.ts";
export type {
  MigasBreadcrumbRecord,
  MigasProjectRecord,
  MigasRegistration,
  MigasStore,
  MigasUsageQuery,
  MigasVersionUsage,
  MigasVersionUsageQuery,
} from "./migas/store.ts";
