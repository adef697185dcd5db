/**
 * The ingest routes served without Hono's dispatch: a `POST` to one of a
 * few exact paths (an mkStats ping or event, a migas breadcrumb, a Honch
 * capture) goes
 * straight to its handler, with what the app's middleware would have done
 * done here in one step (the body deadline, CORS headers, the error answer,
 * the count and log of `/metrics`). CORS headers go only on the answer to a
 * request with an `Origin`, as a browser sends: the services' own clients
 * send none and get none. Each of those middleware layers costs an
 * await and a closure per request, a fifth of the route's time on the
 * hottest routes. The handlers are the very functions Hono also mounts, so
 * a request answers the same either way; anything else (another method, an
 * upgrade, a path with a trailing slash) goes through Hono.
 *
 * @module
 */

import { getPath } from "hono/utils/url";
import { stampBodyDeadline } from "./_body_deadline.ts";
import { type CorsSettings, withCors } from "./_cors.ts";
import { recordOutcome, type ServerMetrics } from "./_observe.ts";
import { rejectionOf } from "./_validate.ts";
import type { ServerLogEntry } from "./options.ts";

/** A route's handler, as both Hono and the direct path call it. */
export type RouteHandler = (request: Request, env: unknown) => Promise<Response>;

/** Registers a route's handler for the direct path, by its full path. */
export type ExposeRoute = (path: string, handler: RouteHandler) => void;

/** What the direct path needs from the app: what its middleware would have used. */
export interface DirectSettings {
  /** The counters of `/metrics`. */
  readonly metrics: ServerMetrics;
  /** Where 4xx and 5xx entries go. */
  readonly log: (entry: ServerLogEntry) => void;
  /** The clock, in milliseconds. */
  readonly now: () => number;
  /** How long a body may take to arrive, in milliseconds. */
  readonly bodyTimeoutMs: number;
  /** Which origins may call the public routes. */
  readonly cors: CorsSettings;
}

/** The routes served directly, by exact path, and how to serve them. */
export class DirectRoutes {
  readonly #routes = new Map<string, RouteHandler>();
  readonly #settings: DirectSettings;

  /**
   * Creates an empty table.
   *
   * @param settings What the app's middleware would have used.
   */
  constructor(settings: DirectSettings) {
    this.#settings = settings;
  }

  /** Adds `POST path`; the function form is handed to the routes files. */
  readonly add: ExposeRoute = (path, handler) => {
    this.#routes.set(path, handler);
  };

  /**
   * Answers `request` when it is a `POST` to an exact path of the table and
   * no upgrade.
   *
   * @param request The request.
   * @param env The runtime's per-request value (Deno's `ServeHandlerInfo`, a Worker's env).
   * @returns The answer, or `undefined` when Hono must route the request.
   */
  serve(request: Request, env: unknown): Promise<Response> | undefined {
    if (request.method !== "POST" || this.#routes.size === 0) return undefined;
    // Hono's own reading of the path, so both ways route the same requests
    const route = getPath(request);
    const handler = this.#routes.get(route);
    if (handler === undefined || request.headers.has("upgrade")) return undefined;
    return this.#run(request, env, route, handler);
  }

  async #run(
    request: Request,
    env: unknown,
    route: string,
    handler: RouteHandler,
  ): Promise<Response> {
    const settings = this.#settings;
    const started = settings.now();
    stampBodyDeadline(request, settings.bodyTimeoutMs);
    let response: Response;
    let error: unknown;
    try {
      response = await handler(request, env);
    } catch (thrown) {
      error = thrown;
      // As the app's error handler answers
      response = rejectionOf(thrown).toResponse();
    }
    // Only a browser's request carries an Origin, and only its answer needs CORS headers. The
    // services' own clients send none; a header more takes Deno's answer off its fast path, about
    // 4 µs of the 26 µs of CPU an unkeyed mkStats event takes. (A POST answer is not cached.)
    if (request.headers.has("origin")) response = withCors(settings.cors, request, response);
    recordOutcome(settings.metrics, settings.log, settings.now, {
      started,
      method: "POST",
      route,
      response,
      error,
    });
    return response;
  }
}
