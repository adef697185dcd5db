/**
 * The migas side of the reference server, answering as migas-server 0.9 does:
 * `POST /api/breadcrumb`, `GET /api/usage/{owner/repo}`, the admin
 * `POST /api/admin/register`, and `POST /graphql` (the schema and resolvers
 * live in `_graphql.ts`, the request models in `_models.ts`).
 *
 * There is no GitHub lookup here: a project's latest version and bad versions
 * come from the admin API or the server options. REST errors are FastAPI's
 * `{"detail": …}` bodies, GraphQL errors the standard `{"data": null,
 * "errors": […]}` shape, and every answer carries `X-Backend-Server`.
 *
 * @module
 */
import { Hono } from "hono";
import type { ExposeRoute, RouteHandler } from "../_direct.ts";
import { requireAdmin, type ServerContext } from "../_context.ts";
import { answerResponse, readIdempotencyKey, recordOnce } from "../_idempotency.ts";
import { RequestRejection } from "../_validate.ts";
import type { IdempotentAnswer } from "../common/idempotency_store.ts";
import { SlidingWindowLimiter } from "../_sliding_window.ts";
import { SharedWindow } from "../_shared_limit.ts";
import { type ResolverContext, runGraphql, usage } from "./_graphql.ts";
import { type GraphqlLimits, holdsNul } from "./_graphql_limits.ts";
import { crumbFingerprint, GRAPHQL_REFUSALS, REST_REFUSALS } from "./_idempotency.ts";
import {
  BAD_FORMAT,
  detail,
  type FieldError,
  FieldReader,
  isObject,
  json,
  laxBoolean,
  parseDateTime,
  parseJson,
  readBreadcrumb,
  readLimitedBody,
  requireObjectBody,
  sizeMessage,
  TOO_MANY,
  unprocessable,
} from "./_models.ts";

/** One project known to the migas server from its configuration. */
export interface MigasProjectSeed {
  /** The project, as `owner/repo`. */
  project: string;
  /** The newest released version. */
  latestVersion?: string;
  /** Versions flagged as bad. */
  badVersions?: string[];
}

/** The migas settings, resolved from `ServerOptions.migas`. */
export interface MigasSettings {
  /** Projects registered whenever the store opens. */
  readonly projects: readonly MigasProjectSeed[];
  /** The largest request body accepted on the public routes, in bytes. */
  readonly maxRequestBytes: number;
  /** The rate-limit window, in milliseconds. */
  readonly windowMs: number;
  /** How many requests an address may make per window; `Infinity` disables the limit. */
  readonly maxRequests: number;
  /** The bounds on one GraphQL request, checked before it runs. */
  readonly graphql: GraphqlLimits;
}

/** What `X-Backend-Server` says: the migas-server release these routes follow. */
const BACKEND_SERVER = "migas@0.9";
const NOT_REGISTERED = "Project is not registered.";
const NOT_JSON = "Request body must be sent as application/json: set the Content-Type header";
const HOLDS_NUL = "Text fields must not contain a NUL character: remove it";

/**
 * Whether a request declares a JSON body. Only JSON is accepted on routes
 * that record, so a web page cannot post to them cross-site with a simple
 * (`text/plain` or form) request that skips the CORS preflight.
 */
function isJson(request: Request): boolean {
  const type = request.headers.get("content-type");
  if (type === null) return false;
  const media = type.split(";", 1)[0].trim().toLowerCase();
  return media === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}

function graphqlError(status: number, code: string, message: string): never {
  throw new RequestRejection(status, { data: null, errors: [{ message }] }, {}, code);
}

function isRoot(context: ServerContext, request: Request): boolean {
  try {
    requireAdmin(context, request);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the migas routes: `POST /api/breadcrumb`, `GET /api/usage/{owner/repo}`,
 * `POST /api/admin/register` and `POST /graphql`.
 *
 * @param context The server-wide clock, admin key, address resolver and store.
 * @param settings The body limit, rate-limit window and seeded projects.
 * @param expose Given `/api/breadcrumb` with its handler, for the server to
 *   serve it without Hono's dispatch too (see `_direct.ts`).
 * @returns A Hono app holding the routes, to mount at `/`.
 *
 * @example Record a breadcrumb for a registered project
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 *
 * const server = createServer({ migas: { projects: [{ project: "acme/tool", latestVersion: "1.2.0" }] } });
 * const response = await server.fetch(new Request("http://localhost/api/breadcrumb?wait=true", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ project: "acme/tool", project_version: "1.1.0" }),
 * }));
 * console.log(response.status, await response.json()); // 200 { success: true, message: "" }
 * await server.close();
 * ```
 */
export function migasRoutes(
  context: ServerContext,
  settings: MigasSettings,
  expose?: ExposeRoute,
): Hono {
  const routes = new Hono();
  const window = new SlidingWindowLimiter({
    windowMs: settings.windowMs,
    maxRequests: settings.maxRequests,
    now: context.now,
  });
  const shared = context.backplane === undefined ? undefined : new SharedWindow(
    window,
    context.backplane,
    { windowMs: settings.windowMs, maxRequests: settings.maxRequests, now: context.now },
  );

  // Every answer, refusals included, names the backend as migas-server does. A refusal goes
  // on to the app's error handler, so `/metrics` and the log see its reason code.
  const withBackend =
    (body: (request: Request, env: unknown) => Promise<Response>): RouteHandler =>
    async (request, env) => {
      let response: Response;
      try {
        response = await body(request, env);
      } catch (error) {
        if (!(error instanceof RequestRejection)) throw error;
        throw new RequestRejection(
          error.status,
          error.body,
          { ...error.headers, "x-backend-server": BACKEND_SERVER },
          error.code,
        );
      }
      response.headers.set("x-backend-server", BACKEND_SERVER);
      return response;
    };
  const handle = (body: (request: Request, env: unknown) => Promise<Response>) => {
    const handler = withBackend(body);
    return (c: { req: { raw: Request }; env: unknown }) => handler(c.req.raw, c.env);
  };

  const limit = (
    request: Request,
    env: unknown,
    refuse: () => never,
    items = 1,
  ): void | Promise<void> => {
    const address = context.clientAddress(request, env);
    // Counted for every process, in one round trip
    if (shared !== undefined) {
      return shared.hit(address, items).then((allowed) => {
        if (!allowed) refuse();
      });
    }
    // Each item is one hit, so a batch counts as many requests as it holds.
    let allowed = true;
    for (let item = 0; item < items; item++) allowed = window.hit(address) && allowed;
    if (!allowed) refuse();
  };

  const restBody = async (request: Request, env: unknown): Promise<unknown> => {
    if (!isJson(request)) {
      await request.body?.cancel().catch(() => {});
      detail(415, "unsupported_media_type", NOT_JSON);
    }
    const bytes = await readLimitedBody(
      request,
      settings.maxRequestBytes,
      (size, max) => detail(413, "payload_too_large", sizeMessage(size, max)),
    );
    await limit(request, env, () => detail(429, "rate_limited", TOO_MANY));
    const parsed = parseJson(bytes);
    if (!parsed.ok) {
      unprocessable(
        [{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error" }],
        "invalid_json",
      );
    }
    if (holdsNul(parsed.value)) detail(400, "nul_in_text", HOLDS_NUL);
    return parsed.value;
  };

  const queryBoolean = (url: URL, name: string): boolean => {
    const raw = url.searchParams.get(name);
    if (raw === null) return false;
    const value = laxBoolean(raw);
    if (value === undefined) {
      unprocessable([{
        type: "bool_parsing",
        loc: ["query", name],
        msg: "Input should be a valid boolean, unable to interpret input",
      }]);
    }
    return value;
  };

  const breadcrumb = withBackend(async (request, env) => {
    const key = readIdempotencyKey(request, REST_REFUSALS.invalid);
    // Most breadcrumbs carry no query: parsing the URL of each cost more than validating it
    const wait = request.url.includes("?") && queryBoolean(new URL(request.url), "wait");
    const body = await restBody(request, env);
    const crumb = readBreadcrumb(body, context.now());
    if (!crumb.project.includes("/")) detail(400, "invalid_project", BAD_FORMAT);
    const { store } = await context.state();
    if (await store.findMigasProject(crumb.project) === undefined) {
      detail(400, "project_not_registered", NOT_REGISTERED);
    }
    const { answer, replayed } = await recordOnce(
      context,
      store,
      { key, scope: `migas\n${crumb.project}`, fingerprint: () => crumbFingerprint("rest", crumb) },
      REST_REFUSALS,
      async (settleWith) => {
        // Stored before answering even without `wait`: an accepted breadcrumb is never lost.
        const answer = {
          status: wait ? 200 : 202,
          body: JSON.stringify({ success: true, message: "" }),
        };
        await store.addMigasBreadcrumb(crumb, settleWith(answer));
        return answer;
      },
    );
    return answerResponse(answer, replayed);
  });
  routes.post("/api/breadcrumb", (c) => breadcrumb(c.req.raw, c.env));
  expose?.("/api/breadcrumb", breadcrumb);

  routes.get(
    "/api/usage/:project{.+}",
    handle(async (request, env) => {
      const url = new URL(request.url);
      await limit(request, env, () => detail(429, "rate_limited", TOO_MANY));
      let project: string;
      try {
        project = decodeURIComponent(url.pathname.slice("/api/usage/".length));
      } catch {
        detail(
          400,
          "malformed_escape",
          "Project name holds a malformed percent escape: encode it as %XX",
        );
      }
      if (project.includes("\0")) detail(400, "nul_in_text", HOLDS_NUL);
      const errors: FieldError[] = [];
      const startText = url.searchParams.get("start");
      const endText = url.searchParams.get("end");
      const start = parseDateTime(startText);
      const end = endText === null ? context.now() : parseDateTime(endText);
      const dateError = (name: string): FieldError => ({
        type: "datetime_parsing",
        loc: ["query", name],
        msg: "Input should be a valid datetime or date as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
      });
      if (startText === null) {
        errors.push({ type: "missing", loc: ["query", "start"], msg: "Field required" });
      } else if (start === undefined) errors.push(dateError("start"));
      if (end === undefined) errors.push(dateError("end"));
      if (errors.length > 0) unprocessable(errors);
      const unique = queryBoolean(url, "unique");
      const { store } = await context.state();
      return json(await usage(store, project, start!, end!, unique), 200);
    }),
  );

  routes.post(
    "/api/admin/register",
    handle(async (request) => {
      const header = request.headers.get("authorization");
      if (header === null || !/^Bearer[ \t]+\S+[ \t]*$/i.test(header)) {
        detail(401, "unauthorized", "Missing or malformed Authorization header.", {
          "www-authenticate": "Bearer",
        });
      }
      try {
        requireAdmin(context, request);
      } catch (error) {
        if (!(error instanceof RequestRejection) || error.status !== 401) throw error;
        detail(401, "unauthorized", "Invalid or insufficient token.", {
          "www-authenticate": "Bearer",
        });
      }
      const bytes = await readLimitedBody(
        request,
        context.bodyLimitBytes,
        (size, max) => detail(413, "payload_too_large", sizeMessage(size, max)),
      );
      const parsed = parseJson(bytes);
      if (!parsed.ok) {
        unprocessable(
          [{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error" }],
          "invalid_json",
        );
      }
      const body = parsed.value;
      requireObjectBody(body);
      if (holdsNul(body)) detail(400, "nul_in_text", HOLDS_NUL);
      const reader = new FieldReader(body, ["body"]);
      const project = reader.string("project");
      const latestVersion = reader.optionalString("latest_version");
      const bad = body.bad_versions;
      let badVersions: string[] | undefined;
      if (bad !== undefined && bad !== null) {
        if (!Array.isArray(bad)) {
          reader.errors.push({
            type: "list_type",
            loc: ["body", "bad_versions"],
            msg: "Input should be a valid list",
          });
        } else {
          bad.forEach((item, index) => {
            if (typeof item !== "string") {
              reader.errors.push({
                type: "string_type",
                loc: ["body", "bad_versions", index],
                msg: "Input should be a valid string",
              });
            }
          });
          badVersions = bad as string[];
        }
      }
      if (reader.errors.length > 0) unprocessable(reader.errors);
      if (!project!.includes("/")) detail(400, "invalid_project", BAD_FORMAT);
      const { store } = await context.state();
      const created = await store.registerMigasProject({
        project: project!,
        latestVersion,
        badVersions,
        now: context.now(),
      });
      return json({
        success: true,
        message: created ? "Project is now registered." : "Project is already registered.",
      }, 200);
    }),
  );

  routes.post(
    "/graphql",
    handle(async (request, env) => {
      const idempotencyKey = readIdempotencyKey(request, GRAPHQL_REFUSALS.invalid);
      if (!isJson(request)) {
        await request.body?.cancel().catch(() => {});
        graphqlError(415, "unsupported_media_type", NOT_JSON);
      }
      const bytes = await readLimitedBody(
        request,
        settings.maxRequestBytes,
        (size, max) => graphqlError(413, "payload_too_large", sizeMessage(size, max)),
      );
      await limit(request, env, () => graphqlError(429, "rate_limited", TOO_MANY));
      const parsed = parseJson(bytes);
      if (!parsed.ok || !isObject(parsed.value)) {
        graphqlError(400, "invalid_json", "Unable to parse request body as JSON");
      }
      const { query, variables, operationName } = parsed.value;
      if (typeof query !== "string" || query.length === 0) {
        graphqlError(400, "invalid_request", "No GraphQL query found in the request");
      }
      if (variables !== undefined && variables !== null && !isObject(variables)) {
        graphqlError(400, "invalid_request", "Variables must be a JSON object");
      }
      if (
        operationName !== undefined && operationName !== null && typeof operationName !== "string"
      ) {
        graphqlError(400, "invalid_request", "Operation name must be a string");
      }
      const { store } = await context.state();
      const resolverContext: ResolverContext = {
        store,
        now: context.now(),
        isRoot: () => isRoot(context, request),
        // A mutation that records runs once per key; see _idempotency.ts
        once: (project, fields, record) =>
          recordOnce(
            context,
            store,
            { key: idempotencyKey, scope: `migas\n${project}`, fingerprint: () => fields },
            GRAPHQL_REFUSALS,
            async (settleWith) => {
              let answer: IdempotentAnswer | undefined;
              // The resolver decides its result before its write, which keeps it with the key.
              const result = await record((value) =>
                settleWith(answer = { status: 200, body: JSON.stringify(value) })
              );
              return answer ?? { status: 200, body: JSON.stringify(result) };
            },
          ).then(({ answer }) => JSON.parse(answer.body)),
      };
      const answer = await runGraphql(
        {
          query,
          variables: (variables ?? undefined) as Record<string, unknown> | undefined,
          operationName: (operationName ?? undefined) as string | undefined,
        },
        resolverContext,
        settings.graphql,
        (items) => {
          // The request itself was one hit already; every further recording mutation is one more.
          if (items > 1) {
            return limit(
              request,
              env,
              () => graphqlError(429, "rate_limited", TOO_MANY),
              items - 1,
            );
          }
        },
      );
      return json(answer, 200);
    }),
  );

  return routes;
}
