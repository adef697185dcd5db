/**
 * The reference server's store on Cloudflare D1, for running mkStats, Honch
 * and migas in a Worker: `new D1Store(env.DB)` handed to `createServer`. It
 * is its own entry point, typed structurally against the D1 binding, so it
 * needs no Cloudflare package. Every store method works on D1; the Emitter
 * broker and the Spot relay, which hold WebSocket sessions, do not run in a
 * stateless Worker (they would need Durable Objects).
 *
 * @example A Worker serving the HTTP services from D1
 * ```ts
 * import { createServer, type EdgewireServer } from "@edgewire/sdk/server";
 * import { type D1Database, D1Store } from "@edgewire/sdk/server/d1";
 *
 * let server: EdgewireServer | undefined;
 * export default {
 *   fetch(request: Request, env: { DB: D1Database }, ctx: { waitUntil(p: Promise<unknown>): void }) {
 *     server ??= createServer({ store: new D1Store(env.DB) });
 *     return server.fetch(request, env, ctx);
 *   },
 * };
 * ```
 *
 * @module
 */

export { D1Store } from "./d1_store.ts";
export { D1StoreError, type D1StoreErrorCode } from "./d1_store_error.ts";
export type { D1Database, D1PreparedStatement, D1Result, D1Value } from "./d1_database.ts";
