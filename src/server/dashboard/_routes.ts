/**
 * The `/dashboard` routes: the login form and its POST, the logout, one page
 * per service, and the stylesheet. Every answer carries the dashboard's
 * security headers (its Content Security Policy first). Without an admin key
 * every dashboard path answers 403 `admin_disabled`, as `/metrics` does; each
 * request is charged to the caller's address like `/metrics`, and login
 * attempts to a stricter limiter of their own per address (whose keys
 * `/metrics` counts in `edgewire_rate_limit_keys`). A wrong key is counted
 * under `dashboard_login_failed` in `edgewire_http_rejections_total`, a
 * login refused by the limiter under `rate_limited`.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { digestsEqual, enforceRateLimit, type ServerContext, sha256Bytes } from "../_context.ts";
import { discard, mediaType, readBody, RequestRejection } from "../_validate.ts";
import { TokenBucketLimiter } from "../rate_limit.ts";
import type { ServerMetrics } from "../_observe.ts";
import type { EmitterBroker } from "../emitter/broker.ts";
import type { SpotRelay } from "../spot/relay.ts";
import type { SafeHtml } from "./_html.ts";
import { dashboardPage, type DashboardPath, loginPage } from "./_layout.ts";
import { sameOrigin, SECURITY_HEADERS } from "./_security.ts";
import {
  clearedSessionCookie,
  DashboardSessions,
  readSessionCookie,
  sessionCookie,
} from "./_session.ts";
import { DASHBOARD_CSS } from "./_style.ts";
import type { DashboardSources } from "./_sources.ts";
import { RateSamples } from "./_rate_samples.ts";
import { overviewPage } from "./_overview_page.ts";
import { mkstatsPage } from "./_mkstats_page.ts";
import { honchPage } from "./_honch_page.ts";
import { migasPage } from "./_migas_page.ts";
import { emitterPage } from "./_emitter_page.ts";
import { spotPage } from "./_spot_page.ts";

/** Login attempts one address may make in a burst. */
export const LOGIN_BURST = 10;
/** Login attempts an address regains per second: one every 30 seconds. */
const LOGIN_REFILL_PER_SECOND = 1 / 30;
/** The largest login form read, in bytes. */
const LOGIN_BODY_BYTES = 4096;

/**
 * Creates the limiter of login attempts: {@linkcode LOGIN_BURST} per
 * address, then one every 30 seconds.
 *
 * @param now The server's clock, in milliseconds.
 * @returns The limiter, to hand to {@linkcode dashboardRoutes} and count in `/metrics`.
 * @throws Never.
 * @example
 * ```ts
 * import { dashboardLoginLimiter } from "./_routes.ts";
 *
 * const limiter = dashboardLoginLimiter(Date.now);
 * console.log(limiter.take("203.0.113.7").allowed, limiter.size); // true 1
 * ```
 */
export function dashboardLoginLimiter(now: () => number): TokenBucketLimiter {
  return new TokenBucketLimiter({
    capacity: LOGIN_BURST,
    refillPerSecond: LOGIN_REFILL_PER_SECOND,
    now,
  });
}

/** What the dashboard is built from. */
export interface DashboardDependencies {
  /** The server-wide context: clock, admin key hash, limiters, client address, state, Honch keys. */
  readonly context: ServerContext;
  /** The counters `/metrics` renders. */
  readonly metrics: ServerMetrics;
  /** The Emitter broker, or `undefined` when nothing has used it yet. */
  readonly emitter: () => EmitterBroker | undefined;
  /** The Spot relay, or `undefined` when nothing has used it yet. */
  readonly spot: () => SpotRelay | undefined;
  /** The limiter of login attempts; one of its own when left out. */
  readonly loginLimiter?: TokenBucketLimiter;
}

/**
 * Builds the dashboard's routes, relative to `/dashboard`.
 *
 * @param dependencies The server context, the counters, and the live broker and relay.
 * @returns A Hono app to mount at `/dashboard`.
 */
export function dashboardRoutes(dependencies: DashboardDependencies): Hono {
  const { context, metrics } = dependencies;
  const sources: DashboardSources = {
    now: context.now,
    startedAt: context.now(),
    store: async () => (await context.state()).store,
    honchProjectKeyHashes: context.honch.projectKeyHashes,
    emitter: dependencies.emitter,
    spot: dependencies.spot,
    metrics: () => metrics.snapshot(),
  };
  const sessions = new DashboardSessions(context.now);
  const loginLimiter = dependencies.loginLimiter ?? dashboardLoginLimiter(context.now);
  const samples = new RateSamples();
  const routes = new Hono();

  routes.use("*", async (c, next) => {
    try {
      await enforceRateLimit(context.addressLimiter, context.clientAddress(c.req.raw, c.env));
      if (context.adminKeyHash === undefined) {
        throw new RequestRejection(403, { error: "admin_disabled" });
      }
      // A rejection a route throws is answered by the app's error handler before this returns
      await next();
    } catch (error) {
      if (!(error instanceof RequestRejection)) throw error;
      // Answered here, so the headers below go on it; `/metrics` counts it by its code
      c.error = error;
      c.res = error.toResponse();
    }
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });

  const adminKeyHash = (): Uint8Array => context.adminKeyHash!;
  const signedIn = async (request: Request): Promise<boolean> => {
    const { secret } = await context.state();
    return sessions.valid(secret, adminKeyHash(), readSessionCookie(request));
  };
  const show = (c: Context, body: SafeHtml, status: 200 | 401 | 403 | 429 = 200): Response =>
    c.html(body.value, status);
  const home = (c: Context, cookie?: string): Response => {
    const headers: Record<string, string> = { location: "/dashboard" };
    if (cookie !== undefined) headers["set-cookie"] = cookie;
    return c.body(null, 303, headers);
  };
  const page =
    (path: DashboardPath, render: (c: Context) => Promise<SafeHtml>) =>
    async (c: Context): Promise<Response> => {
      if (!(await signedIn(c.req.raw))) return path === "" ? show(c, loginPage()) : home(c);
      return show(c, dashboardPage(path, await render(c)));
    };

  routes.get("/style.css", (c) => c.body(DASHBOARD_CSS, 200, { "content-type": "text/css" }));
  routes.get("/", page("", () => overviewPage(sources)));
  routes.get("/mkstats", page("/mkstats", (c) => mkstatsPage(sources, c.req.query("plugin"))));
  routes.get("/honch", page("/honch", () => honchPage(sources)));
  routes.get("/migas", page("/migas", () => migasPage(sources)));
  routes.get("/emitter", page("/emitter", () => emitterPage(sources, samples)));
  routes.get("/spot", page("/spot", () => spotPage(sources)));

  const foreign = (c: Context): Response =>
    show(c, loginPage("This form must be sent from the dashboard's own page"), 403);

  routes.post("/login", async (c) => {
    const request = c.req.raw;
    // Nothing is read of a form that is refused: the key in it is never looked at
    if (!sameOrigin(request)) {
      await discard(request.body);
      return foreign(c);
    }
    const taken = loginLimiter.take(context.clientAddress(request, c.env));
    if (!taken.allowed) {
      await discard(request.body);
      const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
      c.header("retry-after", String(seconds));
      // Counted in `/metrics` like every other limiter's refusal; the page is still the answer
      c.error = new RequestRejection(429, { error: "rate_limited" });
      return show(c, loginPage(`Too many attempts: try again in ${seconds} seconds`), 429);
    }
    if (mediaType(request.headers.get("content-type")) !== "application/x-www-form-urlencoded") {
      await discard(request.body);
      throw new RequestRejection(415, { error: "unsupported_media_type" });
    }
    const form = new URLSearchParams(
      new TextDecoder().decode(await readBody(request, LOGIN_BODY_BYTES)),
    );
    const key = form.get("key") ?? "";
    // Both sides hashed first: the comparison takes the same time whatever the key's length
    if (!digestsEqual(sha256Bytes(key), adminKeyHash())) {
      c.error = new RequestRejection(401, { error: "dashboard_login_failed" });
      return show(c, loginPage("That key is not the admin key: check it and try again"), 401);
    }
    const { secret } = await context.state();
    return home(c, sessionCookie(sessions.issue(secret, adminKeyHash())));
  });

  routes.post("/logout", async (c) => {
    const request = c.req.raw;
    await discard(request.body);
    if (!sameOrigin(request)) return foreign(c);
    const { secret } = await context.state();
    sessions.revoke(secret, adminKeyHash(), readSessionCookie(request));
    return home(c, clearedSessionCookie());
  });

  return routes;
}
