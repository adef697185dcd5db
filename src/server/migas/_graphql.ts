/**
 * migas' GraphQL API on the reference `graphql` package: migas-server's
 * schema (`add_breadcrumb`, `add_project`, `check_project`, `get_usage`,
 * `get_projects`, `register_project`) and its resolvers over a
 * {@linkcode MigasStore}.
 *
 * @module
 */

import {
  buildSchema,
  type DocumentNode,
  execute,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { type GraphqlLimits, holdsNul, measureDocument } from "./_graphql_limits.ts";
import { RequestRejection } from "../_validate.ts";
import { crumbFingerprint } from "./_idempotency.ts";
import type { MigasBreadcrumbRecord, MigasStore } from "./store.ts";
import type { IdempotencySettlement } from "../common/idempotency_store.ts";
import {
  BAD_FORMAT,
  isObject,
  parseDateTime,
  safeString,
  sanitiseVersion,
  stripV,
} from "./_models.ts";

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

let schemaCache: GraphQLSchema | undefined;

function schema(): GraphQLSchema {
  schemaCache ??= buildSchema(SDL);
  return schemaCache;
}

/** What the GraphQL resolvers see of the request. */
export interface ResolverContext {
  store: MigasStore;
  now: number;
  isRoot: () => boolean;
  /**
   * Runs a recording mutation once per `Idempotency-Key`: `record` runs for
   * the first request, a retry gets the first result back. `record` passes
   * `settleWith(result)` to its store write, so the result is kept with it.
   */
  once: (
    project: string,
    fingerprint: string,
    record: (
      settleWith: (result: Record<string, unknown>) => IdempotencySettlement | undefined,
    ) => Promise<Record<string, unknown>>,
  ) => Promise<Record<string, unknown>>;
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

export async function usage(
  store: MigasStore,
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
    const crumb = crumbFromInput(
      project,
      {
        project: args.project_version,
        language: args.language_version,
        languageName: args.language,
      },
      input(args.ctx),
      input(args.proc),
      context.now,
    );
    return await context.once(
      project,
      crumbFingerprint("add_breadcrumb", crumb),
      async (settleWith) => {
        const result = { success: true, message: "" };
        await context.store.addMigasBreadcrumb(crumb, settleWith(result));
        return result;
      },
    );
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
    const crumb = crumbFromInput(
      project,
      { project: p.project_version, language: p.language_version, languageName: p.language },
      p,
      p,
      context.now,
    );
    return await context.once(
      project,
      crumbFingerprint("add_project", crumb),
      async (settleWith) => {
        const latest = latestOf(record.latestVersion);
        const result = {
          bad_versions: record.badVersions,
          cached: true,
          latest_version: latest,
          message: "",
          success: latest !== "unknown",
        };
        await context.store.addMigasBreadcrumb(crumb, settleWith(result));
        return result;
      },
    );
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

/** A GraphQL request, as `POST /graphql` carries it. */
export interface GraphqlRequest {
  /** The query document. */
  query: string;
  /** The variables, if any. */
  variables?: Record<string, unknown>;
  /** Which operation to run, if the document holds several. */
  operationName?: string;
}

function refuse(code: string, message: string): never {
  throw new RequestRejection(400, { data: null, errors: [{ message }] }, {}, code);
}

/**
 * Runs a GraphQL request against migas' schema. The document is measured
 * against the limits before anything runs, and `charge` is told how many
 * recording mutations it holds before any of them runs. A resolver's store
 * failure is reported without its detail, as the server's fault; a request
 * rejection (an `Idempotency-Key` in use or reused) answers the whole
 * request.
 *
 * @param request The query, variables and operation name.
 * @param context What the resolvers see: the store, the time and whether the caller is root.
 * @param limits Aliases, depth, cost and whether introspection is answered.
 * @param charge Charges the request's items to the rate limit; throws (or rejects) to refuse it.
 * @returns The `{ data, errors? }` body to answer 200 with.
 * @throws {RequestRejection} When the request is over a limit (400), holds a NUL (400), or a resolver refused it as a whole.
 */
export async function runGraphql(
  request: GraphqlRequest,
  context: ResolverContext,
  limits: GraphqlLimits,
  charge: (items: number) => void | Promise<void>,
): Promise<Record<string, unknown>> {
  let document: DocumentNode;
  try {
    document = parse(request.query, { noLocation: false, maxTokens: 2000 });
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    return { data: null, errors: [error.toJSON()] };
  }
  const measure = measureDocument(document, limits);
  if (!measure.ok) refuse(measure.code, measure.message);
  if (holdsNul(document) || holdsNul(request.variables)) {
    refuse("nul_in_text", "Text fields must not contain a NUL character: remove it");
  }
  const rules = limits.introspection
    ? specifiedRules
    : [...specifiedRules, NoSchemaIntrospectionCustomRule];
  const invalid = validate(schema(), document, rules);
  if (invalid.length > 0) return { data: null, errors: invalid.map((error) => error.toJSON()) };
  await charge(measure.items);
  const result = await execute({
    schema: schema(),
    document,
    rootValue: ROOT,
    contextValue: context,
    variableValues: request.variables,
    operationName: request.operationName,
  });
  const rejection = result.errors?.find((error) => error.originalError instanceof RequestRejection);
  if (rejection !== undefined) throw rejection.originalError;
  const errors = result.errors?.map((error) =>
    error.originalError !== undefined && error.originalError !== null &&
      !(error.originalError instanceof GraphQLError)
      ? { message: "Internal server error", locations: error.locations, path: error.path }
      : error.toJSON()
  );
  return errors === undefined
    ? { data: result.data ?? null }
    : { data: result.data ?? null, errors };
}
