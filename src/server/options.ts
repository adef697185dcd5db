/**
 * The options of {@linkcode createServer} and the server it returns: store,
 * secrets, proof-of-work, limits, and each service's settings.
 *
 * @module
 */

import type { Hono } from "hono";
import type { EmitterBroker } from "./emitter/broker.ts";
import type { EmitterBrokerOptions } from "./emitter/options.ts";
import type { SpotRelay } from "./spot/relay.ts";
import type { SpotRelayOptions } from "./spot/options.ts";
import type { HonchServerOptions } from "./honch/options.ts";
import type { MigasServerOptions } from "./migas/options.ts";
import type { ServerStore } from "./store.ts";
import type { Backplane } from "./backplane.ts";

/** The burst and refill rate of one rate limiter. */
export interface RateLimitOptions {
  /**
   * How many requests a key may make in a burst; `Infinity` disables the limiter.
   *
   * @default 30 per install, 120 per address
   */
  capacity?: number;
  /**
   * How many requests per second a key regains, up to `capacity`.
   *
   * @default 0.5 per install, 2 per address
   */
  refillPerSecond?: number;
}

/** The server's two rate limiters. */
export interface ServerRateLimitOptions {
  /**
   * Per install: the client address (as `clientAddress` keys it) and plugin at
   * handshake, the install token afterwards.
   *
   * @default { capacity: 30, refillPerSecond: 0.5 }
   */
  install?: RateLimitOptions;
  /**
   * Per client address, as `clientAddress` reports it.
   *
   * @default { capacity: 120, refillPerSecond: 2 }
   */
  address?: RateLimitOptions;
}

export type { HonchPartialQuotaOptions, HonchServerOptions } from "./honch/options.ts";
export type {
  MigasGraphqlOptions,
  MigasProjectOptions,
  MigasRateLimitOptions,
  MigasServerOptions,
} from "./migas/options.ts";

/** Which web origins may call the public routes of {@linkcode createServer} from a page. */
export interface CorsOptions {
  /**
   * `"*"` for any origin, or the exact origins allowed, such as
   * `["https://app.example"]` (an empty list allows none). Only the ingest and
   * version-check routes and `/healthz` are ever open to other origins, and
   * never with credentials; the admin routes refuse every cross-origin call.
   *
   * @default "*" (any origin, no credentials)
   */
  origins?: "*" | string[];
}

/** Options of {@linkcode createServer}. */
export interface ServerOptions {
  /**
   * Where state is kept: any {@linkcode ServerStore}, such as a
   * `SqliteStore` from `@edgewire/sdk/server/sqlite` for state that survives
   * restarts. {@linkcode EdgewireServer.close} closes it.
   *
   * @default a new {@linkcode MemoryStore}, gone when the process ends
   */
  store?: ServerStore;
  /**
   * What several server processes share to act as one, such as a
   * `RedisBackplane` from `@edgewire/sdk/server/redis`. With it, an Emitter
   * message published on any process reaches the subscribers of every
   * process (each share group once in all), presence sees every process,
   * Spot messages reach peers connected elsewhere, key bans apply
   * everywhere, and the install, address, Honch project and migas rate
   * limits count every process's requests (in fixed windows: `capacity`
   * requests per `capacity / refillPerSecond` seconds, migas'
   * `maxRequests` per `windowMs`). Give every process the same `store`,
   * `secret` and `emitter.license`. While the backplane is down, a process
   * closes its Emitter and Spot connections and refuses new ones, and its
   * rate limits hold for itself only. With it the Emitter broker and the
   * Spot relay are made with the server, not on first use, so they join the
   * other processes at once. {@linkcode EdgewireServer.close} does not close
   * it.
   *
   * @default undefined (one process: live state stays in it, as before)
   */
  backplane?: Backplane;
  /**
   * The HMAC secret that signs proof-of-work challenges, at least 32 characters.
   * When unset, 32 random bytes are generated once and kept in the store, so
   * challenges survive restarts.
   *
   * @default generated and persisted in the store
   */
  secret?: string;
  /**
   * The key that `GET /api/v1/stats/:plugin_id` requires as
   * `Authorization: Bearer <key>`; it must contain no whitespace. When unset
   * that route answers 403 `admin_disabled`. `/metrics`, the Honch event read
   * and the `/dashboard` login (the key typed in its form) take the same key,
   * and answer the same 403 without one.
   *
   * @default undefined
   */
  adminKey?: string;
  /**
   * The proof-of-work difficulty, in leading zero hex digits, 1..16.
   *
   * @default 4
   */
  difficulty?: number;
  /**
   * How long a challenge stays valid, in milliseconds.
   *
   * @default 300000
   */
  challengeTtlMs?: number;
  /**
   * How long an install token stays valid, in milliseconds.
   *
   * @default 7776000000 (90 days)
   */
  installTokenTtlMs?: number;
  /**
   * Rate limits per install and per client address; past them requests get
   * 429 `rate_limited` with `Retry-After`.
   *
   * @default install 30 burst, 0.5/s; address 120 burst, 2/s
   */
  rateLimit?: ServerRateLimitOptions;
  /**
   * The largest request body accepted, in bytes; larger ones get 413
   * `payload_too_large`.
   *
   * @default 16384
   */
  bodyLimitBytes?: number;
  /**
   * How long a client may take to send a whole request body, in
   * milliseconds, counted from the request's arrival. A body still
   * incomplete then is answered 408 `request_timeout` with
   * `Connection: close`, so a slow client cannot hold buffers open.
   *
   * @default 10000
   */
  bodyTimeoutMs?: number;
  /**
   * How long an `Idempotency-Key` is remembered, in milliseconds. Within it
   * a retry of a recording request (mkStats `/data` and `/event`, migas
   * breadcrumbs over REST and GraphQL) is answered as the first request was,
   * with `Idempotent-Replayed: true`, and records nothing; the same key with
   * another request is refused 422 `idempotency_key_reused`.
   *
   * @default 86400000 (24 hours)
   */
  idempotencyWindowMs?: number;
  /**
   * The most idempotency keys kept per scope (one mkStats install, one migas
   * project). A new key beyond it forgets that scope's oldest key, whose
   * retry would then be recorded again; other scopes are never touched.
   *
   * @default 1000
   */
  idempotencyMaxKeysPerScope?: number;
  /**
   * The most idempotency keys kept in all, so memory and disk stay bounded
   * however many installs there are. A new key beyond it forgets the oldest
   * key of any scope.
   *
   * @default 100000
   */
  idempotencyMaxKeys?: number;
  /**
   * How often expired rows (spent challenges, install tokens, Honch partial
   * uploads and markers, idempotency keys, Emitter messages) are deleted, in
   * milliseconds, 1 to 2147483647. A timer, started with the store on the
   * first request and stopped by {@linkcode EdgewireServer.close}, runs a
   * pass in the background, in chunks of 500 rows with the event loop free
   * between them, so a large backlog never blocks a request; a request also
   * starts one when a pass is due, which is how a Cloudflare Worker (whose
   * timers do not run between requests) prunes. A failure is logged through
   * `log`.
   *
   * @default 60000 (1 minute)
   */
  pruneIntervalMs?: number;
  /**
   * Honch capture (`POST /capture`, `/e`, `/chunks`): project keys, size
   * and expansion limits, partial-upload quotas and how long they are kept.
   *
   * @default { projectKeys: [], maxMessageBytes: 1048576, maxFrameBytes: 65536, partialTtlMs: 600000 }, with the expansion and partial-upload bounds of HonchServerOptions
   */
  honch?: HonchServerOptions;
  /**
   * The migas routes (`/api/breadcrumb`, `/api/usage/{owner/repo}`,
   * `/api/admin/register`, `/graphql`): configured projects, body limit and
   * rate-limit window.
   *
   * @default { projects: [], maxRequestBytes: 2500, rateLimit: { windowMs: 60000, maxRequests: 1000 } }
   */
  migas?: MigasServerOptions;
  /**
   * Cross-origin access from web pages to the ingest and version-check routes
   * (mkStats handshake, data and event, Honch capture, migas breadcrumbs,
   * usage and GraphQL, `/healthz`); admin routes are same-origin only.
   *
   * @default { origins: "*" } (any origin, no credentials)
   */
  cors?: CorsOptions;
  /**
   * The Emitter broker: MQTT 3.1.1 over WebSocket on any path (a request with
   * `Upgrade: websocket`, subprotocol `mqttv3.1`, `mqttv3` or `mqtt`), `POST
   * /presence` and `/keygen`, with stored messages and key bans in `store`.
   * Without a `license`, one is generated in memory when the broker is first
   * used, and its master key is `server.emitter.secret`.
   *
   * @default {} (a generated license, the real broker's limits)
   */
  emitter?: EmitterBrokerOptions;
  /**
   * The Spot relay: discovery at `GET /_special/rest/Spot:connect` and
   * WebSocket connections on `/_websocket` (every other upgraded path stays
   * with the Emitter broker), with blobs in `store`.
   *
   * @default {} (code "edgewire", the real service's limits)
   */
  spot?: SpotRelayOptions;
  /**
   * The clock, in milliseconds.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * Finds the caller's address for rate limiting. `X-Forwarded-For` is never
   * trusted unless this function chooses to read it.
   *
   * @default `env.remoteAddr.hostname` (what `Deno.serve` passes), else `"unknown"`
   */
  clientAddress?: (request: Request, env: unknown) => string | undefined;
  /**
   * Trusts the address a reverse proxy forwards. Off unless set: a client
   * can write any `X-Forwarded-For`, so only set it when every request
   * passes through your proxies. `hops` is how many proxies in front of the
   * server append to `header` (`X-Forwarded-For`, or the `for=` of RFC 7239
   * `Forwarded`); the address `hops` entries from the right is used, or the
   * connection's own address when the header is absent or an entry is not an
   * address. Either way rate limits and quotas key IPv4 by address and IPv6
   * by its /64.
   *
   * @default undefined (the connection's address only)
   */
  trustProxy?: TrustProxyOptions;
  /**
   * Receives one entry per request answered 4xx or 5xx (rejections
   * included), with no key, token, address or body in it. The same id is
   * sent back as `X-Request-Id`.
   *
   * @default 5xx entries written to `console.error` as one JSON line; 4xx only counted in `/metrics`
   */
  log?: (entry: ServerLogEntry) => void;
}

/** Which reverse proxies to trust for the client's address. */
export interface TrustProxyOptions {
  /**
   * How many proxies in front of the server append to the header, 1 to 16.
   *
   * @default 1
   */
  hops?: number;
  /**
   * The header they write.
   *
   * @default "x-forwarded-for"
   */
  header?: "x-forwarded-for" | "forwarded";
}

/**
 * One log entry: a request the server answered with a 4xx or 5xx, or a
 * background task that failed (then `task` is set, `method` is `TASK`,
 * `route` names the task, such as `prune/honch`, and `status` is 500).
 */
export interface ServerLogEntry {
  /** When the request arrived, as ISO 8601. */
  time: string;
  /** `error` for a 5xx, `warn` for a 4xx. */
  level: "error" | "warn";
  /** A random id, also sent as the `X-Request-Id` response header. */
  requestId: string;
  /** The HTTP method. */
  method: string;
  /** The route pattern matched (`/api/v1/handshake`, `/api/usage/*`), or `unmatched`. */
  route: string;
  /** The status answered. */
  status: number;
  /** The error code answered (`rate_limited`, `invalid_request`), `internal` for a bug. */
  reason: string;
  /** How long the answer took, in milliseconds. */
  durationMs: number;
  /** For a 5xx, the class name of the error thrown (never its message). */
  error?: string;
  /** For a background task that failed, which one: `prune`. */
  task?: "prune";
}

/** A running server, ready for `Deno.serve`, `Bun.serve`, a Node adapter, or direct calls. */
export interface EdgewireServer {
  /**
   * The Hono app, to mount in a larger app (`parent.route("/", server.app)`)
   * or add routes to. Its type is Hono's own `Hono` from `npm:hono`.
   *
   * @ignore
   */
  readonly app: Hono;
  /**
   * Answers one request.
   *
   * @param request The request.
   * @param env What the runtime passes along, such as Deno's `ServeHandlerInfo`.
   * @param ctx A Cloudflare Worker's `ExecutionContext`: a prune pass this request started is handed to its `waitUntil`, so it ends after the answer is sent.
   * @returns The response.
   */
  fetch(
    request: Request,
    env?: unknown,
    ctx?: { waitUntil(promise: Promise<unknown>): void },
  ): Promise<Response>;
  /**
   * The Emitter broker behind the WebSocket upgrade, `POST /presence` and
   * `/keygen`: give it to `serveMqttTcp` for plain MQTT over TCP, or to
   * `attachWebSocket` where the runtime upgrades outside `fetch` (Node's
   * `upgrade` event). Made on first use, so a Worker may create the server at
   * module scope.
   */
  readonly emitter: EmitterBroker;
  /**
   * The Spot relay behind `/_websocket` and discovery; made on first use.
   * Hand it sockets upgraded outside `fetch` with `server.spot.accept(socket)`.
   */
  readonly spot: SpotRelay;
  /**
   * Closes the Emitter broker (every MQTT connection), stops the pruning
   * timer and waits for a running prune pass (it ends after its current
   * chunk), then closes the store. Calling it again does nothing; requests
   * afterwards get 503 `server_closed`.
   *
   * @returns Once closed.
   */
  close(): Promise<void>;
}
