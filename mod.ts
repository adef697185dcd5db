/**
 * Edgewire: standards-only clients for telemetry and realtime messaging
 * that run unchanged on Deno, Bun, Node, Cloudflare Workers and browsers,
 * plus the shared core they are built from: `MkStatsClient` and the
 * proof-of-work solver, `HonchClient` with the Honch wire codec, migas
 * under the `migas` namespace (`migas.setup()`), and `EmitterClient` for
 * Emitter's publish and subscribe. Each service also has its own entry point
 * (`@edgewire/sdk/mkstats`, `@edgewire/sdk/pow`, `@edgewire/sdk/honch`,
 * `@edgewire/sdk/migas`, `@edgewire/sdk/emitter`, `@edgewire/sdk/server`).
 *
 * @example
 * ```ts
 * import { MkStatsClient } from "@edgewire/sdk";
 *
 * const client = new MkStatsClient({ pluginId: "my_plugin", pluginVersion: "1.0.0" });
 * await client.sendPing();
 * ```
 *
 * @module
 */

export * from "./src/core/errors.ts";
export * from "./src/core/http.ts";
export * from "./src/core/backoff.ts";
export * from "./src/core/delivery/mod.ts";
export * from "./src/core/delay.ts";
export * from "./src/core/queue.ts";
export * from "./src/core/storage.ts";
// Of the runtime shim only the file storage is public: the rest (detectRuntime, readEnv, timers,
// lifecycle hooks, file probes) serves the clients and may change
export { privateFileStorage } from "./src/core/runtime/mod.ts";
export * from "./src/pow/mod.ts";
export * from "./src/mkstats/mod.ts";
// migas' module functions (setup, track, …) read best qualified, as in migas-py: migas.setup()
export * as migas from "./src/migas/mod.ts";
export {
  type AssembleResult,
  type AssemblerOptions,
  CAPTURE_LIMITS,
  CONTEXT_KEY_IDS,
  crc16,
  decodeFrame,
  decodeMessage,
  type DecodeOptions,
  type DeliveryStep,
  encodeFrames,
  encodeMessage,
  type EncodeOptions,
  expandBatch,
  type ExpandedEvent,
  type ExpandOptions,
  fetchTransport,
  type FlushOptions,
  type FlushResult,
  type Frame,
  FrameAssembler,
  type FrameOptions,
  HONCH_SDK_VERSION,
  HonchClient,
  type HonchClientOptions,
  HonchError,
  type HonchQueueStats,
  type HonchTransport,
  type HonchTransportRequest,
  type HonchTransportResponse,
  largestFittingPrefix,
  type LogErrorOptions,
  NotInitializedError,
  OfflineError,
  PROMOTED_CONTEXT_KEYS,
  RateLimitedError,
  RejectedError,
  RESERVED_PROPERTY_IDS,
  ServerError,
  type TickResult,
  toWireValue,
  type ToWireValueOptions,
  TransportError,
  WIRE_LIMITS,
  type WireBatch,
  type WireContextEntry,
  type WireEvent,
  WireFormatError,
  type WireFormatProblem,
  type WireLimits,
  type WireProperty,
  type WireValue,
  wireValueToJson,
} from "./src/honch/mod.ts";
export {
  type BackoffOption,
  EMITTER_STATUS,
  type EmitterCallOptions,
  EmitterClient,
  type EmitterClientOptions,
  EmitterConnectError,
  type EmitterConnectOptions,
  EmitterError,
  type EmitterEvents,
  EmitterHistoryMessage,
  type EmitterHistoryRequest,
  type EmitterKeybanRequest,
  type EmitterKeybanResponse,
  type EmitterKeygenRequest,
  type EmitterKeygenResponse,
  type EmitterLinkPublishRequest,
  type EmitterLinkRequest,
  type EmitterLinkResponse,
  type EmitterMeResponse,
  EmitterMessage,
  type EmitterPresenceEvent,
  type EmitterPresenceMember,
  type EmitterPresenceRequest,
  type EmitterPresenceResponse,
  type EmitterPublishRequest,
  type EmitterShareSubscribeRequest,
  type EmitterStatus,
  EmitterSubscribeError,
  type EmitterSubscribeRequest,
  EmitterSubscription,
  type EmitterUnsubscribeRequest,
  MqttProtocolError,
  type MqttProtocolProblem,
} from "./src/emitter/mod.ts";
