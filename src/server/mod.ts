/**
 * The Edgewire reference server: one Hono app that speaks the server side of
 * the Edgewire services: the mkStats plugin analytics API
 * (`/api/v1/handshake`, `/data`, `/event`, `/stats/:plugin_id`) and Honch
 * capture (`POST /capture` with wire-v2 frames or JSON, and the admin read
 * `GET /api/honch/events`), and a migas server (usage breadcrumbs and
 * version checks over REST and GraphQL). State lives
 * in a {@linkcode ServerStore}; the default is embedded SQLite.
 *
 * @example Answer a request directly, as `Deno.serve(server.fetch)` would
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 *
 * const server = createServer({ store: ":memory:", adminKey: "change-me" });
 * const response = await server.fetch(new Request("http://localhost/healthz"));
 * console.log(response.status); // 200
 * await server.close();
 * ```
 *
 * @module
 */

export {
  type CorsOptions,
  createServer,
  type EdgewireServer,
  type HonchServerOptions,
  type MigasProjectOptions,
  type MigasRateLimitOptions,
  type MigasServerOptions,
  type RateLimitOptions,
  type ServerOptions,
  type ServerRateLimitOptions,
} from "./app.ts";
export { type TakeResult, TokenBucketLimiter, type TokenBucketOptions } from "./rate_limit.ts";
export { SqliteStore } from "./store/sqlite.ts";
export type {
  DailyActiveCount,
  EventCountRecord,
  EventTotal,
  HonchAppendResult,
  HonchBlobRecord,
  HonchCompletion,
  HonchCompletionResult,
  HonchEventRecord,
  HonchFrameRecord,
  HonchUploadKey,
  InstallRecord,
  InstallTokenRecord,
  MigasBreadcrumbRecord,
  MigasProjectRecord,
  MigasRegistration,
  MigasUsageQuery,
  PingRecord,
  PluginStats,
  ServerStore,
} from "./store/types.ts";
