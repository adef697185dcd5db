/**
 * The server factory: one Hono app composed of each service's routes
 * (`mkstats/`, `honch/`, `migas/`), with shared rate limiters, store, CORS,
 * error handling, and the background pruning of `_pruner.ts` (a timer once
 * the store is open, a kick from traffic when due). Options are checked in
 * `_options.ts`; this file only wires.
 *
 * @module
 */

import { Hono } from "hono";
import { hex } from "@scure/base";
import {
  enforceRateLimit,
  requireAdmin,
  type ServerContext,
  type ServerState,
} from "./_context.ts";
import { addressKey, forwardedAddress } from "./_client_address.ts";
import { type Gauge, observe, ServerMetrics } from "./_observe.ts";
import { Pruner } from "./_pruner.ts";
import { storeGauges } from "./_store_gauges.ts";
import { singleContractProvider } from "../emitter/security/contract.ts";
import { EmitterBroker } from "./emitter/broker.ts";
import { keygenRoutes } from "./emitter/keygen_routes.ts";
import { presenceRoutes } from "./emitter/presence_routes.ts";
import { websocketUpgrade } from "./emitter/_websocket_upgrade.ts";
import { SpotRelay } from "./spot/relay.ts";
import { SPOT_DISCOVERY_PATH, spotDiscovery, spotUpgrade } from "./spot/routes.ts";
import { installCors } from "./_cors.ts";
import { DirectRoutes } from "./_direct.ts";
import { resolveOptions } from "./_options.ts";
import { rejectionOf, RequestRejection } from "./_validate.ts";
import { stampBodyDeadline, stopIdleSweeper } from "./_body_deadline.ts";
import { honchRoutes } from "./honch/routes.ts";
import { migasRoutes } from "./migas/routes.ts";
import { mkstatsRoutes } from "./mkstats/routes.ts";
import { dashboardLoginLimiter, dashboardRoutes } from "./dashboard/_routes.ts";
import type { EdgewireServer, ServerOptions } from "./options.ts";
import { TokenBucketLimiter } from "./rate_limit.ts";
import { type RateLimiter, SharedTokenBucket } from "./_shared_limit.ts";

const SECRET_META_KEY = "challenge_secret";

/**
 * Creates the reference server: the mkStats API under `/api/v1` and `/api`,
 * Honch capture at `POST /capture` (`/e`, `/chunks`) with the admin read
 * `GET /api/honch/events`, the migas routes (`/api/breadcrumb`,
 * `/api/usage/{owner/repo}`, `/api/admin/register`, `/graphql`),
 * `GET /healthz`, `GET /metrics` (Prometheus text, behind the admin key,
 * with the store's sizes when it reports them), `GET /dashboard` (an HTML
 * page per service behind a login form taking the admin key),
 * the Emitter broker (MQTT over WebSocket on any path with
 * `Upgrade: websocket`, `POST /presence`, `GET`/`POST /keygen`; see
 * `server.emitter`), the Spot relay (WebSocket `/_websocket` and discovery
 * `GET /_special/rest/Spot:connect`; see `server.spot`), JSON 404s, and JSON
 * errors that never leak details. The
 * public routes answer CORS preflights (see `cors`); the admin routes never do.
 * Options are validated here, synchronously; the store is first used (and
 * the secret generated, and the timer that prunes expired rows every
 * `pruneIntervalMs` started) on the first request. Without a `store`, state
 * is kept in a new {@linkcode MemoryStore}.
 *
 * @param options Store, secret, admin key, difficulty, lifetimes, limits, Honch capture, migas, CORS, Emitter, Spot, clock, client address, trusted proxies and log.
 * @returns The server; hand `server.fetch` to `Deno.serve`, `Bun.serve`, a Node adapter or a Worker.
 * @throws {InvalidArgumentError} When an option is out of range, or `store` is not a {@linkcode ServerStore}.
 *
 * @example Answer a health check
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 *
 * const server = createServer({ difficulty: 4 });
 * const health = await server.fetch(new Request("http://localhost/healthz"));
 * console.log(await health.json()); // { ok: true }
 * await server.close();
 * ```
 */
export function createServer(options: ServerOptions = {}): EdgewireServer {
  const settings = resolveOptions(options);
  const { store, now, backplane } = settings;
  // A local bucket, or one shared by every process with the local one as fallback
  const limiter = (
    name: string,
    limits: { capacity: number; refillPerSecond: number },
  ): RateLimiter => {
    const local = new TokenBucketLimiter({ ...limits, now });
    if (backplane === undefined) return local;
    return new SharedTokenBucket(local, backplane, name, { ...limits, now });
  };

  let closed = false;
  let closing: Promise<void> | undefined;
  let ready: Promise<ServerState> | undefined;
  // Off the request path: a timer once the store is open, and a kick from traffic when due
  const pruner = new Pruner({
    store,
    now,
    intervalMs: settings.pruneIntervalMs,
    log: settings.log,
  });

  const open = async (): Promise<ServerState> => {
    for (const seed of settings.migas.projects) {
      await store.registerMigasProject({ ...seed, now: now() });
    }
    const secretText = settings.secret ??
      await store.ensureMeta(
        SECRET_META_KEY,
        hex.encode(crypto.getRandomValues(new Uint8Array(32))),
      );
    pruner.start();
    return { store, secret: new TextEncoder().encode(secretText) };
  };

  const context: ServerContext = {
    now,
    difficulty: settings.difficulty,
    challengeTtlMs: settings.challengeTtlMs,
    installTokenTtlMs: settings.installTokenTtlMs,
    bodyLimitBytes: settings.bodyLimitBytes,
    adminKeyHash: settings.adminKeyHash,
    honch: settings.honch,
    idempotency: settings.idempotency,
    installLimiter: limiter("install", settings.installLimits),
    addressLimiter: limiter("address", settings.addressLimits),
    projectLimiter: limiter("project", settings.honch.rateLimit),
    backplane,
    state(): Promise<ServerState> {
      if (closed) return Promise.reject(closedRejection());
      // A failed open is retried by the next request rather than cached forever.
      ready ??= open().catch((error) => {
        ready = undefined;
        throw error;
      });
      return ready;
    },
    clientAddress(request: Request, env: unknown): string {
      const peer = settings.clientAddress(request, env) ?? "unknown";
      const trust = settings.trustProxy;
      return addressKey(trust === undefined ? peer : forwardedAddress(request, peer, trust));
    },
    maintain(): Promise<void> {
      pruner.kick();
      return Promise.resolve();
    },
  };

  // Made on first use: a Worker may not draw random numbers (a new license) at module scope
  let broker: EmitterBroker | undefined;
  const emitter = (): EmitterBroker => {
    if (broker !== undefined) return broker;
    broker = new EmitterBroker({ ...settings.emitter, store, backplane });
    // First used after close(): it refuses every connection rather than keep one open
    if (closed) void broker.close();
    return broker;
  };
  let relay: SpotRelay | undefined;
  const spot = (): SpotRelay => {
    if (relay !== undefined) return relay;
    relay = new SpotRelay({ now, ...settings.spot, store, backplane });
    if (closed) void relay.close();
    return relay;
  };
  let keygen: Hono | undefined;
  let presence: Hono | undefined;
  // With a backplane both join the other processes now, not at their first request, so the
  // first presence query or Spot message here already sees the whole cluster
  if (backplane !== undefined) {
    emitter();
    spot();
  }

  const metrics = new ServerMetrics();
  // The dashboard's login attempts, counted with the other limiters' keys in `/metrics`
  const loginLimiter = dashboardLoginLimiter(now);
  const app = new Hono();
  // First of all, so every answer (upgrades and rejections included) is counted.
  app.use("*", observe(metrics, settings.log, now));
  // Before any route reads a body: the deadline counts from the request's arrival
  app.use("*", (c, next) => {
    stampBodyDeadline(c.req.raw, settings.bodyTimeoutMs);
    return next();
  });
  // First of all: `/_websocket` is the Spot relay's (a plain request there gets 426)
  app.use(
    "*",
    spotUpgrade(spot, globalThis, (request, env) => context.clientAddress(request, env)),
  );
  // Then an upgrade on any other path is an MQTT connection, as on the real broker
  app.use("*", websocketUpgrade(emitter, (request, env) => context.clientAddress(request, env)));
  installCors(app, settings.cors);
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/metrics", async (c) => {
    await enforceRateLimit(context.addressLimiter, context.clientAddress(c.req.raw, c.env));
    requireAdmin(context, c.req.raw);
    const sizes = await storeGauges(store);
    const emitterStats = broker?.stats();
    const text = metrics.render([
      gauge("emitter_connections", "Open Emitter (MQTT) connections.", emitterStats?.connections),
      gauge("emitter_subscriptions", "Emitter subscriptions.", emitterStats?.subscriptions),
      gauge(
        "emitter_remote_subscriptions",
        "Other servers' Emitter subscriptions delivered to over the backplane.",
        emitterStats?.remoteSubscriptions,
      ),
      gauge("spot_connections", "Open Spot relay connections.", relay?.connectionCount),
      gauge("spot_id_cards", "ID cards the Spot relay knows.", relay?.idCardCount),
      gauge("rate_limit_keys", "Keys tracked by the rate limiters.", limiterKeys()),
      ...sizes,
    ]);
    return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
  // Behind the admin key and a session cookie; see dashboard/_routes.ts
  app.route(
    "/dashboard",
    dashboardRoutes({ context, metrics, emitter: () => broker, spot: () => relay, loginLimiter }),
  );
  app.get(SPOT_DISCOVERY_PATH, spotDiscovery(spot));
  // The ingest routes also skip Hono's dispatch: see _direct.ts
  const direct = new DirectRoutes({
    metrics,
    log: settings.log,
    now,
    bodyTimeoutMs: settings.bodyTimeoutMs,
    cors: settings.cors,
  });
  const mkstats = mkstatsRoutes(context, (path, handler) => {
    direct.add(`/api/v1${path}`, handler);
    direct.add(`/api${path}`, handler);
  });
  app.route("/api/v1", mkstats);
  app.route("/api", mkstats);
  app.route("/", honchRoutes(context, direct.add));
  app.route("/", migasRoutes(context, settings.migas, direct.add));
  app.all("/keygen", (c) => {
    const license = emitter().license;
    keygen ??= keygenRoutes({
      cipher: license.cipher(),
      contracts: singleContractProvider(license),
      now,
    });
    return keygen.fetch(c.req.raw, c.env);
  });
  app.post("/presence", (c) => {
    presence ??= presenceRoutes(emitter());
    return presence.fetch(c.req.raw, c.env);
  });
  app.notFound((c) => c.json({ error: "not_found" }, 404));
  const limiterKeys = (): number =>
    context.installLimiter.size + context.addressLimiter.size + context.projectLimiter.size +
    loginLimiter.size;
  app.onError((error) => rejectionOf(error).toResponse());

  return {
    app,
    get emitter(): EmitterBroker {
      return emitter();
    },
    get spot(): SpotRelay {
      return spot();
    },
    async fetch(
      request: Request,
      env?: unknown,
      ctx?: { waitUntil(promise: Promise<unknown>): void },
    ): Promise<Response> {
      if (closed) return closedRejection().toResponse();
      const response = await (direct.serve(request, env) ?? app.fetch(request, env));
      // A Worker may stop once the answer is out: a pass this request started must be waited for
      const pass = pruner.running;
      if (pass !== undefined && typeof ctx?.waitUntil === "function") ctx.waitUntil(pass);
      return response;
    },
    close(): Promise<void> {
      // Every caller, concurrent ones included, waits for the one real close.
      closing ??= (async () => {
        closed = true;
        // No pass or timer starts from now on; a running pass ends after its current chunk
        const pruned = pruner.close();
        // The broker first: its sessions may still write stored messages to the store
        await broker?.close();
        await relay?.close();
        if (ready !== undefined) await ready.catch(() => {});
        await pruned;
        await store.close();
        // Shared by every server in the process: stopped only when no body is being read
        stopIdleSweeper();
      })();
      return closing;
    },
  };
}

function gauge(name: string, help: string, value: number | undefined): Gauge {
  // A service not used yet has nothing open.
  return { name: `edgewire_${name}`, help, value: value ?? 0 };
}

function closedRejection(): RequestRejection {
  return new RequestRejection(503, { error: "server_closed" });
}
