/**
 * The migas side of the reference server, answering as migas-server 0.9 does:
 * `POST /api/breadcrumb`, `GET /api/usage/{owner/repo}`, the admin
 * `POST /api/admin/register`, and `POST /graphql` with migas' schema
 * (`add_breadcrumb`, `add_project`, `check_project`, `get_usage`, …) run by
 * the reference `graphql` package.
 *
 * There is no GitHub lookup here: a project's latest version and bad versions
 * come from the admin API or the server options. REST errors are FastAPI's
 * `{"detail": …}` bodies, GraphQL errors the standard `{"data": null,
 * "errors": […]}` shape, and every answer carries `X-Backend-Server`.
 *
 * @module
 */

import { Hono } from "hono";
import { buildSchema, graphql, GraphQLError, type GraphQLSchema } from "graphql";
import { requireAdmin, type ServerContext } from "./_context.ts";
import { readBody, RequestRejection } from "./_validate.ts";
import { SlidingWindowLimiter } from "./_sliding_window.ts";
import type { MigasBreadcrumbRecord, ServerStore } from "./store/types.ts";

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
}

/** What `X-Backend-Server` says: the migas-server release these routes follow. */
const BACKEND_SERVER = "migas@0.9";
const VERSION = /^[A-Za-z0-9._+-]+$/;
const TOO_MANY = "Too many requests, wait a minute.";
const BAD_FORMAT = "Invalid project format (expected owner/repo).";
const NOT_REGISTERED = "Project is not registered.";
const JSON_HEADERS = { "content-type": "application/json" } as const;
/** Past this a body is no longer counted, only refused. */
const COUNT_LIMIT = 1_048_576;

const SDL = `
scalar DateTime
scalar Version
scalar SafeStr
scalar JSON

enum Container { unknown docker apptainer }
enum User { general dev ci }
enum Status {
  R
  running
  C
  completed
  F
  failed
  S
  suspended
  pending @deprecated(reason: "Pending is now running")
  success @deprecated(reason: "Success is now completed")
  error @deprecated(reason: "Error is now failed")
}

type BreadcrumbResult { success: Boolean! message: String! }
type CheckProjectResult { success: Boolean! latest: String! flagged: Boolean! message: String! }

input ContextInput {
  session_id: String = null
  user_id: String = null
  user_type: User! = general
  platform: String! = "unknown"
  container: Container! = unknown
  is_ci: Boolean! = false
}
input ProcessInput {
  status: Status! = R
  status_desc: SafeStr = null
  error_type: SafeStr = null
  error_desc: SafeStr = null
}
input ProjectInput {
  project: String!
  project_version: Version!
  language: String!
  language_version: Version!
  session_id: String = null
  user_id: String = null
  user_type: User! = general
  platform: String! = "unknown"
  container: Container! = unknown
  is_ci: Boolean! = false
  status: Status! = R
  status_desc: SafeStr = null
  error_type: SafeStr = null
  error_desc: SafeStr = null
}

type Query {
  get_projects: [String!]!
  check_project(project: String!, project_version: String!): CheckProjectResult!
  get_usage(project: String!, start: DateTime!, end: DateTime = null, unique: Boolean! = false): JSON!
}

type Mutation {
  add_breadcrumb(
    project: String!
    project_version: String!
    language: String!
    language_version: String!
    ctx: ContextInput!
    proc: ProcessInput!
  ): BreadcrumbResult!
  add_project(p: ProjectInput!): JSON!
  register_project(project: String!): JSON!
}
`;

/** Every spelling of a status, deprecated ones included, to the letter stored. */
const STATUS: Readonly<Record<string, string>> = {
  R: "R",
  running: "R",
  pending: "R",
  C: "C",
  completed: "C",
  success: "C",
  F: "F",
  failed: "F",
  error: "F",
  S: "S",
  suspended: "S",
};
const REST_STATUS = ["R", "C", "F", "S"];
const USER_TYPES = ["general", "dev", "ci"];
const CONTAINERS = ["unknown", "docker", "apptainer"];
const TRUE_WORDS = new Set(["1", "on", "t", "true", "y", "yes"]);
const FALSE_WORDS = new Set(["0", "off", "f", "false", "n", "no"]);

let schemaCache: GraphQLSchema | undefined;

function schema(): GraphQLSchema {
  schemaCache ??= buildSchema(SDL);
  return schemaCache;
}

/** An answer decided before the handler finishes, carried up by `throw`. */
class Answer {
  constructor(readonly response: Response) {}
}

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...JSON_HEADERS, ...headers },
  });
}

function detail(status: number, message: unknown, headers?: Record<string, string>): never {
  throw new Answer(json({ detail: message }, status, headers));
}

function graphqlError(status: number, message: string): never {
  throw new Answer(json({ data: null, errors: [{ message }] }, status));
}

/** One pydantic-style validation error, as FastAPI lists them in a 422. */
interface FieldError {
  type: string;
  loc: (string | number)[];
  msg: string;
}

function unprocessable(errors: FieldError[]): never {
  detail(422, errors);
}

/** Refuses a body that is not a JSON object, as migas' request models do. */
function requireObjectBody(body: unknown): asserts body is Record<string, unknown> {
  if (!isObject(body)) {
    unprocessable([{
      type: "model_attributes_type",
      loc: ["body"],
      msg: "Input should be a valid dictionary or object to extract fields from",
    }]);
  }
}

/** Versions outside migas' alphabet are kept as `unknown`, never refused. */
function sanitiseVersion(value: string): string {
  return VERSION.test(value) ? value : "unknown";
}

function stripV(version: string): string {
  return version.replace(/^v+/, "");
}

/** Python's `str()` of a GraphQL literal, as migas' SafeStr scalar gives it. */
function safeString(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return String(value);
  return JSON.stringify(value);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** Parses migas' DateTime forms, `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`. */
function parseDateTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = DATE_TIME.exec(value) ?? DATE.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1).map(Number);
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(time);
  // Date.UTC rolls 2024-02-31 over into March; a calendar date must survive unchanged.
  if (
    check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59
  ) {
    return undefined;
  }
  return time;
}

function laxBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === "string") {
    const word = value.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a body under migas' size limit, counting past it to report the size as migas does. */
async function readLimitedBody(
  request: Request,
  limit: number,
  tooLarge: (size: number, limit: number) => never,
): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await request.body?.cancel().catch(() => {});
    tooLarge(declared, limit);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBody(request, COUNT_LIMIT);
  } catch (error) {
    if (error instanceof RequestRejection && error.status === 413) tooLarge(COUNT_LIMIT, limit);
    throw error;
  }
  if (bytes.byteLength > limit) tooLarge(bytes.byteLength, limit);
  return bytes;
}

function sizeMessage(size: number, limit: number): string {
  return `Request body (${size}) exceeds maximum size (${limit})`;
}

type JsonResult = { ok: true; value: unknown } | { ok: false };

function parseJson(bytes: Uint8Array): JsonResult {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

/** Reads fields like a pydantic model, collecting every error rather than stopping at one. */
class FieldReader {
  constructor(
    readonly source: Record<string, unknown>,
    readonly loc: string[],
    readonly errors: FieldError[] = [],
  ) {}

  #fail(field: string, type: string, msg: string): undefined {
    this.errors.push({ type, loc: [...this.loc, field], msg });
    return undefined;
  }

  string(field: string, fallback?: string): string | undefined {
    const value = this.source[field];
    if (value === undefined) {
      return fallback ?? this.#fail(field, "missing", "Field required");
    }
    if (typeof value !== "string") {
      return this.#fail(field, "string_type", "Input should be a valid string");
    }
    return value;
  }

  optionalString(field: string): string | undefined {
    const value = this.source[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") {
      return this.#fail(field, "string_type", "Input should be a valid string");
    }
    return value;
  }

  choice(field: string, choices: string[], fallback: string): string {
    const value = this.source[field];
    if (value === undefined) return fallback;
    if (typeof value === "string" && choices.includes(value)) return value;
    const quoted = choices.map((choice) => `'${choice}'`);
    const list = `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
    this.#fail(field, "enum", `Input should be ${list}`);
    return fallback;
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.source[field];
    if (value === undefined) return fallback;
    const parsed = laxBoolean(value);
    if (parsed === undefined) this.#fail(field, "bool_type", "Input should be a valid boolean");
    return parsed ?? fallback;
  }

  object(field: string, model: string): FieldReader {
    const value = this.source[field];
    const loc = [...this.loc, field];
    if (value === undefined) return new FieldReader({}, loc, this.errors);
    if (!isObject(value)) {
      this.#fail(field, "model_type", `Input should be a valid dictionary or instance of ${model}`);
      return new FieldReader({}, loc, this.errors);
    }
    return new FieldReader(value, loc, this.errors);
  }
}

/** Validates a REST breadcrumb as migas' `BreadcrumbRequest` model does. */
function readBreadcrumb(body: unknown, now: number): MigasBreadcrumbRecord {
  requireObjectBody(body);
  const root = new FieldReader(body, ["body"]);
  const project = root.string("project");
  const projectVersion = root.string("project_version");
  const language = root.string("language", "python");
  const languageVersion = root.string("language_version", "0.0.0");
  const ctx = root.object("ctx", "ContextPayload");
  const proc = root.object("proc", "ProcessPayload");
  const record = {
    userId: ctx.optionalString("user_id"),
    sessionId: ctx.optionalString("session_id"),
    userType: ctx.choice("user_type", USER_TYPES, "general"),
    platform: ctx.string("platform", "unknown"),
    container: ctx.choice("container", CONTAINERS, "unknown"),
    isCi: ctx.boolean("is_ci", false),
    status: proc.choice("status", REST_STATUS, "R"),
    statusDesc: proc.optionalString("status_desc"),
    errorType: proc.optionalString("error_type"),
    errorDesc: proc.optionalString("error_desc"),
  };
  if (root.errors.length > 0) unprocessable(root.errors);
  return {
    project: project!,
    projectVersion: sanitiseVersion(projectVersion!),
    language: language!,
    languageVersion: sanitiseVersion(languageVersion!),
    timestamp: now,
    ...record,
    platform: record.platform!,
  };
}

/** What the GraphQL resolvers see of the request. */
interface ResolverContext {
  store: ServerStore;
  now: number;
  isRoot: () => boolean;
}

function input(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}

function crumbFromInput(
  project: string,
  versions: { project: unknown; language: unknown; languageName: unknown },
  ctx: Record<string, unknown>,
  proc: Record<string, unknown>,
  now: number,
): MigasBreadcrumbRecord {
  return {
    project,
    projectVersion: sanitiseVersion(String(versions.project)),
    language: String(versions.languageName),
    languageVersion: sanitiseVersion(String(versions.language)),
    timestamp: now,
    sessionId: (ctx.session_id as string | null) ?? undefined,
    userId: (ctx.user_id as string | null) ?? undefined,
    userType: String(ctx.user_type ?? "general"),
    platform: String(ctx.platform ?? "unknown"),
    container: String(ctx.container ?? "unknown"),
    isCi: ctx.is_ci === true,
    status: STATUS[String(proc.status ?? "R")] ?? "R",
    statusDesc: safeString(proc.status_desc),
    errorType: safeString(proc.error_type),
    errorDesc: safeString(proc.error_desc),
  };
}

function latestOf(latestVersion: string | undefined): string {
  return latestVersion === undefined ? "unknown" : stripV(latestVersion);
}

function graphqlDateTime(value: unknown, argument: string): number {
  const time = parseDateTime(value);
  if (time === undefined) {
    throw new GraphQLError(
      `Invalid '${argument}': expected a DateTime as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ`,
    );
  }
  return time;
}

async function usage(
  store: ServerStore,
  project: string,
  start: number,
  end: number,
  unique: boolean,
): Promise<Record<string, unknown>> {
  if (await store.findMigasProject(project) === undefined) {
    return {
      hits: 0,
      message: `Project "${project}" is not being tracked`,
      unique,
      success: false,
    };
  }
  const hits = await store.countMigasUsage({ project, start, end, unique });
  return { hits, message: "", unique, success: true };
}

const ROOT = {
  get_projects(_args: unknown, context: ResolverContext): Promise<string[]> {
    return context.store.listMigasProjects();
  },
  async check_project(
    args: { project: string; project_version: string },
    context: ResolverContext,
  ): Promise<Record<string, unknown>> {
    const record = await context.store.findMigasProject(args.project);
    const latest = latestOf(record?.latestVersion);
    return {
      success: latest !== "unknown",
      latest,
      flagged: record?.badVersions.includes(args.project_version) ?? false,
      message: "",
    };
  },
  get_usage(
    args: { project: string; start: unknown; end: unknown; unique: boolean },
    context: ResolverContext,
  ): Promise<Record<string, unknown>> {
    const start = graphqlDateTime(args.start, "start");
    const end = args.end === null || args.end === undefined
      ? context.now
      : graphqlDateTime(args.end, "end");
    return usage(context.store, args.project, start, end, args.unique);
  },
  async add_breadcrumb(
    args: Record<string, unknown>,
    context: ResolverContext,
  ): Promise<Record<string, unknown>> {
    const project = String(args.project);
    if (!project.includes("/")) return { success: false, message: "" };
    if (await context.store.findMigasProject(project) === undefined) {
      return { success: false, message: "Project is not yet registered." };
    }
    await context.store.addMigasBreadcrumb(crumbFromInput(
      project,
      {
        project: args.project_version,
        language: args.language_version,
        languageName: args.language,
      },
      input(args.ctx),
      input(args.proc),
      context.now,
    ));
    return { success: true, message: "" };
  },
  async add_project(
    args: { p: Record<string, unknown> },
    context: ResolverContext,
  ): Promise<Record<string, unknown>> {
    const p = input(args.p);
    const project = String(p.project);
    if (!project.includes("/")) return { success: false };
    const record = await context.store.findMigasProject(project);
    if (record === undefined) return { success: false };
    await context.store.addMigasBreadcrumb(crumbFromInput(
      project,
      { project: p.project_version, language: p.language_version, languageName: p.language },
      p,
      p,
      context.now,
    ));
    const latest = latestOf(record.latestVersion);
    return {
      bad_versions: record.badVersions,
      cached: true,
      latest_version: latest,
      message: "",
      success: latest !== "unknown",
    };
  },
  async register_project(
    args: { project: string },
    context: ResolverContext,
  ): Promise<Record<string, unknown>> {
    if (!context.isRoot()) throw new GraphQLError("User is not authenticated");
    if (!args.project.includes("/")) return { success: false, message: BAD_FORMAT };
    const created = await context.store.registerMigasProject({
      project: args.project,
      now: context.now,
    });
    return {
      success: true,
      message: created ? "Project is now registered." : "Project is already registered.",
    };
  },
};

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
export function migasRoutes(context: ServerContext, settings: MigasSettings): Hono {
  const routes = new Hono();
  const window = new SlidingWindowLimiter({
    windowMs: settings.windowMs,
    maxRequests: settings.maxRequests,
    now: context.now,
  });

  // Every answer, refusals included, names the backend as migas-server does.
  const handle =
    (body: (request: Request, env: unknown, url: URL) => Promise<Response>) =>
    async (c: { req: { raw: Request }; env: unknown }): Promise<Response> => {
      let response: Response;
      try {
        response = await body(c.req.raw, c.env, new URL(c.req.raw.url));
      } catch (error) {
        if (error instanceof Answer) response = error.response;
        else if (error instanceof RequestRejection) response = error.toResponse();
        else throw error;
      }
      response.headers.set("x-backend-server", BACKEND_SERVER);
      return response;
    };

  const limit = (request: Request, env: unknown, refuse: () => never): void => {
    if (!window.hit(context.clientAddress(request, env))) refuse();
  };

  const restBody = async (request: Request, env: unknown): Promise<unknown> => {
    const bytes = await readLimitedBody(
      request,
      settings.maxRequestBytes,
      (size, max) => detail(413, sizeMessage(size, max)),
    );
    limit(request, env, () => detail(429, TOO_MANY));
    const parsed = parseJson(bytes);
    if (!parsed.ok) {
      unprocessable([{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error" }]);
    }
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

  routes.post(
    "/api/breadcrumb",
    handle(async (request, env, url) => {
      const wait = queryBoolean(url, "wait");
      const body = await restBody(request, env);
      const crumb = readBreadcrumb(body, context.now());
      if (!crumb.project.includes("/")) detail(400, BAD_FORMAT);
      const { store } = await context.state();
      if (await store.findMigasProject(crumb.project) === undefined) detail(400, NOT_REGISTERED);
      // Stored before answering even without `wait`: an accepted breadcrumb is never lost.
      await store.addMigasBreadcrumb(crumb);
      return json({ success: true, message: "" }, wait ? 200 : 202);
    }),
  );

  routes.get(
    "/api/usage/:project{.+}",
    handle(async (request, env, url) => {
      limit(request, env, () => detail(429, TOO_MANY));
      const project = decodeURIComponent(url.pathname.slice("/api/usage/".length));
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
        detail(401, "Missing or malformed Authorization header.", { "www-authenticate": "Bearer" });
      }
      try {
        requireAdmin(context, request);
      } catch (error) {
        if (!(error instanceof RequestRejection) || error.status !== 401) throw error;
        detail(401, "Invalid or insufficient token.", { "www-authenticate": "Bearer" });
      }
      const bytes = await readLimitedBody(
        request,
        context.bodyLimitBytes,
        (size, max) => detail(413, sizeMessage(size, max)),
      );
      const parsed = parseJson(bytes);
      if (!parsed.ok) {
        unprocessable([{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error" }]);
      }
      const body = parsed.value;
      requireObjectBody(body);
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
      if (!project!.includes("/")) detail(400, BAD_FORMAT);
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
      const bytes = await readLimitedBody(
        request,
        settings.maxRequestBytes,
        (size, max) => graphqlError(413, sizeMessage(size, max)),
      );
      limit(request, env, () => graphqlError(429, TOO_MANY));
      const parsed = parseJson(bytes);
      if (!parsed.ok || !isObject(parsed.value)) {
        graphqlError(400, "Unable to parse request body as JSON");
      }
      const { query, variables, operationName } = parsed.value;
      if (typeof query !== "string" || query.length === 0) {
        graphqlError(400, "No GraphQL query found in the request");
      }
      if (variables !== undefined && variables !== null && !isObject(variables)) {
        graphqlError(400, "Variables must be a JSON object");
      }
      if (
        operationName !== undefined && operationName !== null && typeof operationName !== "string"
      ) {
        graphqlError(400, "Operation name must be a string");
      }
      const { store } = await context.state();
      const resolverContext: ResolverContext = {
        store,
        now: context.now(),
        isRoot: () => isRoot(context, request),
      };
      const result = await graphql({
        schema: schema(),
        source: query,
        rootValue: ROOT,
        contextValue: resolverContext,
        variableValues: variables ?? undefined,
        operationName: operationName ?? undefined,
      });
      // A store failure is the server's fault: it is reported without its detail.
      const errors = result.errors?.map((error) =>
        error.originalError !== undefined && error.originalError !== null &&
          !(error.originalError instanceof GraphQLError)
          ? { message: "Internal server error", locations: error.locations, path: error.path }
          : error.toJSON()
      );
      return json(
        errors === undefined
          ? { data: result.data ?? null }
          : { data: result.data ?? null, errors },
        200,
      );
    }),
  );

  return routes;
}
