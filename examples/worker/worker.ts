/**
 * The reference server as a Cloudflare Worker, keeping its state in D1:
 * mkStats, Honch and migas over HTTP, from `new D1Store(env.DB)`. Deploy it
 * with `wrangler deploy` (the binding and settings are in `wrangler.jsonc`;
 * set the admin key with `wrangler secret put ADMIN_KEY`).
 *
 * The server is built on the first request, since a Worker may not draw
 * random numbers at module scope, and kept for the isolate's life. Each
 * request's `ctx` goes to `server.fetch`, so a pruning pass a request starts
 * runs on in `ctx.waitUntil` after the answer (a Worker keeps no timer
 * between requests). The caller's address is `CF-Connecting-IP`, which
 * Cloudflare sets itself. Rate limits are counted per isolate.
 *
 * The Emitter broker and the Spot relay hold WebSocket sessions that every
 * client of a channel or a pair must share; isolates share nothing, so a
 * WebSocket upgrade is refused here with 501 `realtime_unavailable` (they
 * need a Durable Object to meet in, or the server on Deno, Node or Bun).
 *
 * @module
 */

import { createServer, type EdgewireServer } from "../../src/server/mod.ts";
import { type D1Database, D1Store } from "../../src/server/d1/mod.ts";

/** The Worker's bindings, as `wrangler.jsonc` declares them. */
export interface Env {
  /** The D1 database. */
  DB: D1Database;
  /** The admin key for the stats, events and usage routes (a secret). */
  ADMIN_KEY?: string;
  /** The Honch project keys accepted, separated by commas. */
  HONCH_PROJECT_KEYS?: string;
}

/** What a Worker's handler gets as its third argument; only `waitUntil` is used. */
export interface ExecutionContext {
  /**
   * Keeps the Worker alive until `promise` settles, after the answer is sent.
   *
   * @param promise The work to finish.
   */
  waitUntil(promise: Promise<unknown>): void;
}

let server: EdgewireServer | undefined;

function build(env: Env): EdgewireServer {
  return createServer({
    store: new D1Store(env.DB),
    adminKey: env.ADMIN_KEY,
    honch: {
      projectKeys: (env.HONCH_PROJECT_KEYS ?? "").split(",").map((key) => key.trim())
        .filter((key) => key !== ""),
    },
    clientAddress: (request) => request.headers.get("cf-connecting-ip") ?? undefined,
  });
}

function isWebSocketUpgrade(request: Request): boolean {
  return (request.headers.get("upgrade") ?? "").toLowerCase().split(",")
    .some((token) => token.trim() === "websocket");
}

/**
 * The Worker: every request goes to the reference server on D1, but
 * WebSocket upgrades, which the realtime services would take.
 *
 * @example Answer a health check
 * ```ts
 * import worker, { type Env } from "./worker.ts";
 *
 * // A real D1 binding comes from the Workers runtime; /healthz never reaches it
 * const env = { DB: { prepare() {}, batch() {} } } as unknown as Env;
 * const answer = await worker.fetch(new Request("http://x/healthz"), env, { waitUntil() {} });
 * console.log(answer.status); // 200
 * ```
 */
const worker = {
  /**
   * Answers one request.
   *
   * @param request The request.
   * @param env The bindings.
   * @param ctx The request's context, for `waitUntil`.
   * @returns The answer.
   */
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (isWebSocketUpgrade(request)) {
      return Promise.resolve(Response.json({ error: "realtime_unavailable" }, { status: 501 }));
    }
    server ??= build(env);
    return server.fetch(request, env, ctx);
  },
};

export default worker;
