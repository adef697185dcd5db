/**
 * The server factory: one Hono app composed of each service's routes, with
 * shared limits, rate limiters, store and error handling. Routes live in
 * their own files (`mkstats_routes.ts`, …); this file only wires them.
 *
 * @module
 */

import { Hono } from "hono";
import { hex } from "@scure/base";
import { InvalidArgumentError } from "../core/errors.ts";
import type { HonchSettings, ServerContext, ServerState } from "./_context.ts";
import { corsSettings, installCors } from "./_cors.ts";
import { honchRoutes } from "./honch_routes.ts";
import { sha256Bytes } from "./_context.ts";
import { RequestRejection } from "./_validate.ts";
import { type MigasProjectSeed, migasRoutes, type MigasSettings } from "./migas_routes.ts";
import { mkstatsRoutes } from "./mkstats_routes.ts";
import { TokenBucketLimiter } from "./rate_limit.ts";
import { SqliteStore } from "./store/sqlite.ts";
import type { ServerStore } from "./store/types.ts";

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
   * Per install: the plugin and user hash at handshake, the install token afterwards.
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

/** The Honch capture settings of {@linkcode createServer}. */
export interface HonchServerOptions {
  /**
   * The accepted `X-Honch-Project-Key` values. Each must be non-empty and
   * without whitespace; only their hashes are kept. With none, capture
   * answers every request 401 `invalid_project_key`.
   *
   * @default []
   */
  projectKeys?: string[];
  /**
   * The largest compact message (or coredump blob) reassembled from frames,
   * in bytes, at least 4096 (the SDK limit); larger ones get 413
   * `message_too_large`. Also bounds a JSON ingest body.
   *
   * @default 1048576 (1 MiB)
   */
  maxMessageBytes?: number;
  /**
   * The largest frame (request body) accepted, in bytes, at least 4096 (the
   * SDK frame size); larger ones get 413 `payload_too_large`.
   *
   * @default 65536 (64 KiB)
   */
  maxFrameBytes?: number;
  /**
   * How long a partial multi-frame upload is kept, in milliseconds; also how
   * long a completed message is remembered so a retry is stored once.
   *
   * @default 86400000 (24 hours)
   */
  partialTtlMs?: number;
}

/** A project the migas routes know from configuration, registered whenever the store opens. */
export interface MigasProjectOptions {
  /** The project, as `owner/repo`. */
  project: string;
  /**
   * The newest released version, answered by `check_project` and `add_project`
   * (a leading `v` is dropped). Without it those answer `unknown`.
   *
   * @default undefined (keeps what the admin API stored)
   */
  latestVersion?: string;
  /**
   * Versions flagged as bad: `check_project` answers `flagged: true` for them.
   *
   * @default undefined (keeps what the admin API stored)
   */
  badVersions?: string[];
}

/** The per-address sliding window of the migas routes, as migas-server keeps it. */
export interface MigasRateLimitOptions {
  /**
   * The window's length, in milliseconds (migas' `MIGAS_REQUEST_WINDOW`).
   *
   * @default 60000
   */
  windowMs?: number;
  /**
   * How many requests one client address may make per window, refused ones
   * included (migas' `MIGAS_MAX_REQUESTS_PER_WINDOW`); `Infinity` disables the limit.
   *
   * @default 1000
   */
  maxRequests?: number;
}

/** The migas settings of {@linkcode createServer}. */
export interface MigasServerOptions {
  /**
   * Projects registered, with their latest and bad versions, whenever the
   * store opens; more can be registered at `POST /api/admin/register`.
   *
   * @default []
   */
  projects?: MigasProjectOptions[];
  /**
   * The largest body accepted by `/api/breadcrumb` and `/graphql`, in bytes
   * (migas' `MIGAS_MAX_REQUEST_SIZE`); larger ones get 413.
   *
   * @default 2500
   */
  maxRequestBytes?: number;
  /**
   * The per-address sliding window; past it requests get 429
   * `Too many requests, wait a minute.`
   *
   * @default { windowMs: 60000, maxRequests: 1000 }
   */
  rateLimit?: MigasRateLimitOptions;
}

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
   * Where state is kept: a SQLite file path (opened in WAL mode), `":memory:"`,
   * or a store instance. {@linkcode EdgewireServer.close} closes it either way.
   *
   * @default ":memory:"
   */
  store?: string | ServerStore;
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
   * that route answers 403 `admin_disabled`.
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
   * Honch capture (`POST /capture`, `/e`, `/chunks`): project keys, size
   * limits and how long partial uploads are kept.
   *
   * @default { projectKeys: [], maxMessageBytes: 1048576, maxFrameBytes: 65536, partialTtlMs: 86400000 }
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
   * @returns The response.
   */
  fetch(request: Request, env?: unknown): Promise<Response>;
  /**
   * Closes the store. Calling it again does nothing; requests afterwards get
   * 503 `server_closed`.
   *
   * @returns Once closed.
   */
  close(): Promise<void>;
}

const SECRET_META_KEY = "challenge_secret";
const DEFAULT_TOKEN_TTL_MS = 90 * 86_400_000;

function fail(field: string, requirement: string, current: string): never {
  throw new InvalidArgumentError(
    field,
    `Cannot create server as '${field}' must be ${requirement}: current ${current}`,
  );
}

function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return `value is ${String(value)}`;
  }
  if (typeof value === "string") return `value is ${JSON.stringify(value)}`;
  return `type is ${typeof value}`;
}

function integerOption(
  field: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `an integer in ${min}..${max}`, show(value));
  }
  return value;
}

function limiterOptions(
  field: string,
  value: RateLimitOptions | undefined,
  capacity: number,
  refillPerSecond: number,
): Required<RateLimitOptions> {
  if (value === undefined) return { capacity, refillPerSecond };
  if (typeof value !== "object" || value === null) fail(field, "an object", show(value));
  const c = value.capacity ?? capacity;
  const r = value.refillPerSecond ?? refillPerSecond;
  if (typeof c !== "number" || !(c >= 1)) {
    fail(`${field}.capacity`, "at least 1, or Infinity to disable", show(c));
  }
  if (typeof r !== "number" || !(r > 0) || !Number.isFinite(r)) {
    fail(`${field}.refillPerSecond`, "a positive finite number", show(r));
  }
  return { capacity: c, refillPerSecond: r };
}

const HONCH_MIN_BYTES = 4096;

function honchSettings(value: HonchServerOptions | undefined): HonchSettings {
  if (value === undefined) value = {};
  if (typeof value !== "object" || value === null) fail("honch", "an object", show(value));
  const keys = value.projectKeys ?? [];
  if (!Array.isArray(keys)) fail("honch.projectKeys", "an array of strings", show(keys));
  const projectKeyHashes = keys.map((key, index) => {
    const field = `honch.projectKeys[${index}]`;
    if (typeof key !== "string") fail(field, "a string", show(key));
    // Only the length is reported: the key itself never appears in a message.
    if (key.length === 0 || /\s/.test(key)) {
      fail(field, "a non-empty string without whitespace", `length is ${key.length}`);
    }
    return sha256Bytes(key);
  });
  return {
    projectKeyHashes,
    maxMessageBytes: integerOption(
      "honch.maxMessageBytes",
      value.maxMessageBytes,
      1_048_576,
      HONCH_MIN_BYTES,
      2 ** 31 - 1,
    ),
    maxFrameBytes: integerOption(
      "honch.maxFrameBytes",
      value.maxFrameBytes,
      65_536,
      HONCH_MIN_BYTES,
      2 ** 31 - 1,
    ),
    partialTtlMs: integerOption(
      "honch.partialTtlMs",
      value.partialTtlMs,
      86_400_000,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

function stringList(field: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) fail(field, "an array of strings", show(value));
  value.forEach((item, index) => {
    if (typeof item !== "string") fail(`${field}[${index}]`, "a string", show(item));
  });
  return [...value];
}

function migasSettings(value: MigasServerOptions | undefined): MigasSettings {
  if (value === undefined) value = {};
  if (typeof value !== "object" || value === null) fail("migas", "an object", show(value));
  const projectsOption = value.projects ?? [];
  if (!Array.isArray(projectsOption)) {
    fail("migas.projects", "an array of projects", show(projectsOption));
  }
  const projects = projectsOption.map((entry, index): MigasProjectSeed => {
    const field = `migas.projects[${index}]`;
    if (typeof entry !== "object" || entry === null) fail(field, "an object", show(entry));
    if (typeof entry.project !== "string" || !entry.project.includes("/")) {
      fail(`${field}.project`, "a string as 'owner/repo'", show(entry.project));
    }
    if (entry.latestVersion !== undefined && typeof entry.latestVersion !== "string") {
      fail(`${field}.latestVersion`, "a string", show(entry.latestVersion));
    }
    return {
      project: entry.project,
      latestVersion: entry.latestVersion,
      badVersions: stringList(`${field}.badVersions`, entry.badVersions),
    };
  });
  const rateLimit = value.rateLimit ?? {};
  if (typeof rateLimit !== "object" || rateLimit === null) {
    fail("migas.rateLimit", "an object", show(rateLimit));
  }
  const maxRequests = rateLimit.maxRequests ?? 1000;
  if (
    typeof maxRequests !== "number" ||
    !(maxRequests === Infinity || (Number.isInteger(maxRequests) && maxRequests >= 1 &&
      maxRequests <= 1_000_000))
  ) {
    fail("migas.rateLimit.maxRequests", "an integer in 1..1000000, or Infinity", show(maxRequests));
  }
  return {
    projects,
    maxRequestBytes: integerOption(
      "migas.maxRequestBytes",
      value.maxRequestBytes,
      2500,
      1,
      1_048_576,
    ),
    windowMs: integerOption(
      "migas.rateLimit.windowMs",
      rateLimit.windowMs,
      60_000,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxRequests,
  };
}

function defaultClientAddress(_request: Request, env: unknown): string | undefined {
  if (typeof env !== "object" || env === null) return undefined;
  const remote = (env as { remoteAddr?: unknown }).remoteAddr;
  if (typeof remote !== "object" || remote === null) return undefined;
  const hostname = (remote as { hostname?: unknown }).hostname;
  return typeof hostname === "string" ? hostname : undefined;
}

function isStore(value: unknown): value is ServerStore {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return [
    "ensureMeta",
    "markChallengeUsed",
    "recordInstall",
    "findInstallToken",
    "appendHonchFrame",
    "completeHonchMessage",
    "registerMigasProject",
    "addMigasBreadcrumb",
    "countMigasUsage",
    "close",
  ].every(
    (method) => typeof candidate[method] === "function",
  );
}

/**
 * Creates the reference server: the mkStats API under `/api/v1` and `/api`,
 * Honch capture at `POST /capture` (`/e`, `/chunks`) with the admin read
 * `GET /api/honch/events`, the migas routes (`/api/breadcrumb`,
 * `/api/usage/{owner/repo}`, `/api/admin/register`, `/graphql`),
 * `GET /healthz`, JSON 404s, and JSON errors that never leak details. The
 * public routes answer CORS preflights (see `cors`); the admin routes never do.
 * Options are validated here, synchronously; the store opens on the first
 * request.
 *
 * @param options Store, secret, admin key, difficulty, lifetimes, limits, Honch capture, migas, CORS and clock.
 * @returns The server; hand `server.fetch` to `Deno.serve`, `Bun.serve` or a Node adapter.
 * @throws {InvalidArgumentError} When an option is out of range.
 *
 * @example Answer a health check
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 *
 * const server = createServer({ store: ":memory:", difficulty: 4 });
 * const health = await server.fetch(new Request("http://localhost/healthz"));
 * console.log(await health.json()); // { ok: true }
 * await server.close();
 * ```
 */
export function createServer(options: ServerOptions = {}): EdgewireServer {
  if (typeof options !== "object" || options === null) {
    fail("options", "an object", show(options));
  }
  const storeOption = options.store ?? ":memory:";
  if (typeof storeOption === "string") {
    if (storeOption.length === 0) {
      fail("store", "a file path, ':memory:' or a store", 'value is ""');
    }
  } else if (!isStore(storeOption)) {
    fail("store", "a file path, ':memory:' or a ServerStore", show(storeOption));
  }
  const secretOption = options.secret;
  if (secretOption !== undefined) {
    if (typeof secretOption !== "string") fail("secret", "a string", show(secretOption));
    // Only the length is reported: the secret itself never appears in a message.
    if (secretOption.length < 32) {
      fail("secret", "at least 32 characters", `length is ${secretOption.length}`);
    }
  }
  const adminKey = options.adminKey;
  if (adminKey !== undefined) {
    if (typeof adminKey !== "string") fail("adminKey", "a string", show(adminKey));
    if (adminKey.length === 0 || /\s/.test(adminKey)) {
      fail("adminKey", "a non-empty string without whitespace", `length is ${adminKey.length}`);
    }
  }
  const difficulty = integerOption("difficulty", options.difficulty, 4, 1, 16);
  const challengeTtlMs = integerOption(
    "challengeTtlMs",
    options.challengeTtlMs,
    300_000,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const installTokenTtlMs = integerOption(
    "installTokenTtlMs",
    options.installTokenTtlMs,
    DEFAULT_TOKEN_TTL_MS,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const bodyLimitBytes = integerOption(
    "bodyLimitBytes",
    options.bodyLimitBytes,
    16_384,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  if (options.now !== undefined && typeof options.now !== "function") {
    fail("now", "a function returning milliseconds", show(options.now));
  }
  if (options.clientAddress !== undefined && typeof options.clientAddress !== "function") {
    fail("clientAddress", "a function", show(options.clientAddress));
  }
  const rateLimit = options.rateLimit ?? {};
  if (typeof rateLimit !== "object" || rateLimit === null) {
    fail("rateLimit", "an object", show(rateLimit));
  }
  const honch = honchSettings(options.honch);
  const migas = migasSettings(options.migas);
  const cors = corsSettings(options.cors, fail, show);
  const installLimits = limiterOptions("rateLimit.install", rateLimit.install, 30, 0.5);
  const addressLimits = limiterOptions("rateLimit.address", rateLimit.address, 120, 2);

  const userNow = options.now;
  const now = userNow === undefined ? () => Date.now() : () => userNow();
  const resolveAddress = options.clientAddress ?? defaultClientAddress;

  let closed = false;
  let closing: Promise<void> | undefined;
  let store: ServerStore | undefined;
  let ready: Promise<ServerState> | undefined;
  let lastPrune = -Infinity;

  const open = async (): Promise<ServerState> => {
    store ??= typeof storeOption === "string" ? new SqliteStore(storeOption) : storeOption;
    for (const seed of migas.projects) {
      await store.registerMigasProject({ ...seed, now: now() });
    }
    const secretText = secretOption ??
      await store.ensureMeta(
        SECRET_META_KEY,
        hex.encode(crypto.getRandomValues(new Uint8Array(32))),
      );
    return { store, secret: new TextEncoder().encode(secretText) };
  };

  const context: ServerContext = {
    now,
    difficulty,
    challengeTtlMs,
    installTokenTtlMs,
    bodyLimitBytes,
    adminKeyHash: adminKey === undefined ? undefined : sha256Bytes(adminKey),
    honch,
    installLimiter: new TokenBucketLimiter({ ...installLimits, now }),
    addressLimiter: new TokenBucketLimiter({ ...addressLimits, now }),
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
      return resolveAddress(request, env) ?? "unknown";
    },
    async maintain(target: ServerStore): Promise<void> {
      const time = now();
      if (time - lastPrune < 60_000) return;
      lastPrune = time;
      await target.prune(time);
    },
  };

  const app = new Hono();
  installCors(app, cors);
  app.get("/healthz", (c) => c.json({ ok: true }));
  const mkstats = mkstatsRoutes(context);
  app.route("/api/v1", mkstats);
  app.route("/api", mkstats);
  app.route("/", honchRoutes(context));
  app.route("/", migasRoutes(context, migas));
  app.notFound((c) => c.json({ error: "not_found" }, 404));
  app.onError((error) => {
    if (error instanceof RequestRejection) return error.toResponse();
    // Real bugs only; no detail leaves the process, where it could carry a token.
    return new RequestRejection(500, { error: "internal" }).toResponse();
  });

  return {
    app,
    async fetch(request: Request, env?: unknown): Promise<Response> {
      if (closed) return closedRejection().toResponse();
      return await app.fetch(request, env);
    },
    close(): Promise<void> {
      // Every caller, concurrent ones included, waits for the one real close.
      closing ??= (async () => {
        closed = true;
        if (ready !== undefined) await ready.catch(() => {});
        const opened = store ?? (typeof storeOption === "string" ? undefined : storeOption);
        store = undefined;
        await opened?.close();
      })();
      return closing;
    },
  };
}

function closedRejection(): RequestRejection {
  return new RequestRejection(503, { error: "server_closed" });
}
