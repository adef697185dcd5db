/**
 * Cross-origin access for the server's public routes only: the ingest and
 * version-check routes answer preflight requests and carry
 * `Access-Control-Allow-Origin` on every answer, errors included, so a page
 * on another origin can read a 400, 401 or 429. (The ingest `POST`s the
 * server serves directly, `_direct.ts`, add them only when the request has
 * an `Origin`, as every browser request does.) The admin routes never do:
 * they get no CORS header, and a preflight to them (or to any other path) is
 * refused with 403 `cors_forbidden`. No route allows credentials.
 *
 * @module
 */

import type { Context, Hono, Next } from "hono";
import { invalidArgument } from "../core/validate.ts";

/** Which origins may call the public routes, resolved from `ServerOptions.cors`. */
export interface CorsSettings {
  /** `"*"` for any origin, else the exact origins allowed (possibly none). */
  readonly origins: "*" | ReadonlySet<string>;
}

/**
 * The public routes and their methods, as paths of the app itself. Anything
 * not listed (the admin reads and `POST /api/admin/register` among them) is
 * same-origin only.
 */
const PUBLIC_ROUTES: readonly (readonly [path: string, method: string])[] = [
  ["/healthz", "GET"],
  ["/api/v1/handshake", "POST"],
  ["/api/v1/data", "POST"],
  ["/api/v1/event", "POST"],
  ["/api/handshake", "POST"],
  ["/api/data", "POST"],
  ["/api/event", "POST"],
  ["/capture", "POST"],
  ["/e", "POST"],
  ["/chunks", "POST"],
  ["/api/breadcrumb", "POST"],
  ["/api/usage/*", "GET"],
  ["/graphql", "POST"],
];

/**
 * The request headers the clients send that a preflight must allow. JSON and
 * Honch frame content types are not CORS-safelisted; migas sets `User-Agent`,
 * which browsers that honour it send as a non-safelisted header. Credentials
 * (`Authorization`, cookies) are never allowed.
 */
const ALLOWED_HEADERS =
  "content-type, x-honch-project-key, x-honch-stream-id, idempotency-key, user-agent";

/** Answers the page may read besides the safelisted ones. */
const EXPOSED_HEADERS = "retry-after";

/** How long a browser may cache a preflight, in seconds (Chromium caps it at 7200). */
const MAX_AGE_SECONDS = "7200";

function fail(field: string, rule: string, current: unknown): never {
  // An origin is public by nature, so a wrong one is shown to help the operator
  throw invalidArgument("create server", field, rule, current, { reveal: true });
}

/**
 * Reads `ServerOptions.cors`.
 *
 * @param value The option as given.
 * @returns The settings; any origin when unset.
 * @throws {InvalidArgumentError} When the option is malformed.
 */
export function corsSettings(value: unknown): CorsSettings {
  if (value === undefined) return { origins: "*" };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("cors", "an object", value);
  }
  const origins = (value as { origins?: unknown }).origins ?? "*";
  if (origins === "*") return { origins };
  if (!Array.isArray(origins)) {
    fail("cors.origins", "'*' or an array of origins", origins);
  }
  const allowed = new Set<string>();
  origins.forEach((origin: unknown, index) => {
    const field = `cors.origins[${index}]`;
    if (typeof origin !== "string" || !isOrigin(origin)) {
      fail(
        field,
        "an origin such as 'https://app.example', without path or slash",
        origin,
      );
    }
    allowed.add(origin);
  });
  return { origins: allowed };
}

/**
 * Adds CORS to `app`: preflight answers and response headers for the public
 * routes, and a 403 for every other preflight. Call it before the routes are
 * added, so the headers are set on what they answer, errors included.
 *
 * @param app The server's app.
 * @param settings Which origins are allowed.
 */
export function installCors(app: Hono, settings: CorsSettings): void {
  for (const [path, method] of PUBLIC_ROUTES) {
    app.use(path, async (c: Context, next: Next) => {
      const origin = c.req.header("origin");
      const allowed = allowOrigin(settings, origin);
      if (isPreflight(c.req.raw)) {
        const requested = c.req.header("access-control-request-method");
        if (allowed === undefined || requested !== method) {
          return refuse(settings);
        }
        const headers = new Headers({
          "access-control-allow-origin": allowed,
          "access-control-allow-methods": method,
          "access-control-allow-headers": ALLOWED_HEADERS,
          "access-control-max-age": MAX_AGE_SECONDS,
        });
        if (settings.origins !== "*") headers.set("vary", "Origin");
        return new Response(null, { status: 204, headers });
      }
      await next();
      const decorated = decorate(c.res, settings, allowed);
      // Hono's setter merges headers again: only a copy needs it.
      if (decorated !== c.res) c.res = decorated;
    });
  }
  // Any other preflight (the admin routes, unknown paths) is refused outright.
  app.options("*", (c: Context, next: Next) => {
    if (isPreflight(c.req.raw)) return refuse(undefined);
    return next();
  });
}

/**
 * Gives a public route's answer the CORS headers the middleware of
 * {@linkcode installCors} gives it, for the routes the server serves without
 * Hono's dispatch (never a preflight: those go through Hono).
 *
 * @param settings Which origins are allowed.
 * @param request The request, for its `Origin`.
 * @param response The route's answer.
 * @returns The answer with its headers, in place when they are mutable.
 */
export function withCors(
  settings: CorsSettings,
  request: Request,
  response: Response,
): Response {
  return decorate(
    response,
    settings,
    allowOrigin(settings, request.headers.get("origin") ?? undefined),
  );
}

function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("origin") &&
    request.headers.has("access-control-request-method");
}

/** The `Access-Control-Allow-Origin` value for `origin`, or `undefined` when it is not allowed. */
function allowOrigin(settings: CorsSettings, origin: string | undefined): string | undefined {
  if (settings.origins === "*") return "*";
  return origin !== undefined && settings.origins.has(origin) ? origin : undefined;
}

function refuse(settings: CorsSettings | undefined): Response {
  const headers = new Headers({ "content-type": "application/json; charset=UTF-8" });
  if (settings !== undefined && settings.origins !== "*") headers.set("vary", "Origin");
  return new Response(JSON.stringify({ error: "cors_forbidden" }), { status: 403, headers });
}

function decorate(
  response: Response,
  settings: CorsSettings,
  allowed: string | undefined,
): Response {
  if (settings.origins === "*" && allowed === undefined) return response;
  const apply = (headers: Headers) => {
    if (settings.origins !== "*") headers.append("vary", "Origin");
    if (allowed !== undefined) {
      headers.set("access-control-allow-origin", allowed);
      headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    }
  };
  try {
    // In place, as on every answer the routes build: a copy per request is measurable.
    apply(response.headers);
    return response;
  } catch {
    // A response built elsewhere (a runtime's upgrade answer) may have immutable headers.
  }
  const headers = new Headers(response.headers);
  apply(headers);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

function isOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && url.origin === text;
}
