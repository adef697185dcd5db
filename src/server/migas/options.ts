/**
 * The options of the migas routes, `ServerOptions.migas`: seeded projects,
 * the body limit, the rate limit and the GraphQL bounds.
 *
 * @module
 */

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
  /**
   * The bounds on one `POST /graphql` request, checked before it runs; past
   * any of them the request gets 400 with a GraphQL error.
   *
   * @default { maxAliases: 5, maxDepth: 6, maxCost: 30, introspection: false }
   */
  graphql?: MigasGraphqlOptions;
}

/** The bounds on one migas GraphQL request, checked before anything runs. */
export interface MigasGraphqlOptions {
  /**
   * How many aliased fields one request may hold.
   *
   * @default 5
   */
  maxAliases?: number;
  /**
   * How deeply selections may nest (a root field is depth 1).
   *
   * @default 6
   */
  maxDepth?: number;
  /**
   * The most a request may cost: each field costs 1 and each `get_usage` 10
   * (fragments counted each time they are spread).
   *
   * @default 30
   */
  maxCost?: number;
  /**
   * Whether `__schema` and `__type` queries are answered.
   *
   * @default false
   */
  introspection?: boolean;
}
