/**
 * Edgewire: standards-only clients for telemetry and realtime messaging
 * that run unchanged on Deno, Bun, Node, Cloudflare Workers and browsers,
 * plus the shared core they are built from. Each service also has its own
 * entry point (`@edgewire/sdk/mkstats`, `@edgewire/sdk/pow`,
 * `@edgewire/sdk/server`).
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
export * from "./src/core/delay.ts";
export * from "./src/core/queue.ts";
export * from "./src/core/storage.ts";
export * from "./src/core/runtime.ts";
export * from "./src/pow/mod.ts";
export * from "./src/mkstats/mod.ts";
