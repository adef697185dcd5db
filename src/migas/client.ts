/**
 * `Migas`: usage breadcrumbs and version checks for a CLI or library,
 * speaking what migas-py sends to a migas server, over REST (`POST
 * /api/breadcrumb`) or GraphQL (`POST /graphql`). Every call resolves, never
 * rejects, and never takes longer than the timeout; `MIGAS_OPTOUT` and
 * `DO_NOT_TRACK` turn everything off before any id is read or written.
 * Version checks are cached in `storage` and asked at most once per
 * `checkIntervalMs` per project. A breadcrumb that cannot be delivered (a
 * 5xx, 408, 429, timeout, network error, an answer that is not migas') is
 * queued in `storage`, with backoff, and sent by a later call of this run or
 * the next, with the same `Idempotency-Key`; only migas' own refusal drops it.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import {
  configDirectory,
  fileExists,
  privateFileStorage,
  processLifecycle,
  readEnv,
} from "../core/runtime/mod.ts";
import { MemoryStorage, type Storage } from "../core/storage.ts";
import { IDEMPOTENCY_KEY_HEADER, newIdempotencyKey } from "../core/delivery/idempotency.ts";
import { BreadcrumbDelivery, type QueuedCrumb } from "./_breadcrumb_delivery.ts";
import { GqlEnum, operation } from "./_graphql.ts";
import { filterResponse, type MigasResponse, send } from "./_request.ts";
import {
  type FileExists,
  gatherEnvironment,
  type MigasEnvironment,
  type MigasUserType,
} from "./environment.ts";
import type {
  AddProjectResult,
  BreadcrumbResult,
  CheckProjectResult,
  MigasFailure,
  MigasQueueStats,
  UsageResult,
} from "./results.ts";

/** The version this client reports in its `User-Agent` (`migas-client/<version>`). */
export const MIGAS_CLIENT_VERSION = "0.1.0";

/** The public migas server, used when neither `endpoint` nor `MIGAS_ENDPOINT` names another. */
export const DEFAULT_MIGAS_ENDPOINT = "https://migas.nipreps.org";

/** How long a version check answer is reused before the server is asked again: 24 h. */
export const DEFAULT_CHECK_INTERVAL_MS = 86_400_000;

/** The deadline of a request when neither `timeoutMs` nor `MIGAS_TIMEOUT` sets one, as migas-py. */
export const DEFAULT_MIGAS_TIMEOUT_MS = 3000;

/** What a call answers when telemetry is disabled. */
export const OPTED_OUT_MESSAGE = "migas telemetry is disabled.";

/** What a breadcrumb call answers when it queued the breadcrumb without sending, while backing off. */
export const QUEUED_MESSAGE = "Breadcrumb queued: migas failed recently, a later call sends it.";

/**
 * How a breadcrumb travels: `"rest"` as migas-py 0.5 (`POST /api/breadcrumb`),
 * `"graphql"` as migas-py 0.4 (`add_breadcrumb`, `add_project`). Version
 * checks and usage are GraphQL queries in both, as in migas-py.
 *
 * @example
 * ```ts
 * import type { MigasTransport } from "@edgewire/sdk/migas";
 *
 * const transport: MigasTransport = "graphql";
 * ```
 */
export type MigasTransport = "rest" | "graphql";

/**
 * A process status: running, completed, failed, suspended.
 *
 * @example
 * ```ts
 * import type { MigasStatus } from "@edgewire/sdk/migas";
 *
 * const status: MigasStatus = "C";
 * ```
 */
export type MigasStatus = "R" | "C" | "F" | "S";

/**
 * Python's logging levels, which `MIGAS_LOG_LEVEL` names.
 *
 * @example
 * ```ts
 * import type { MigasLogLevel } from "@edgewire/sdk/migas";
 *
 * const level: MigasLogLevel = "DEBUG";
 * ```
 */
export type MigasLogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";

/**
 * Hooks into the runtime's process lifecycle, for {@linkcode Migas.track}.
 * Each registration is optional; a callback returns a promise the adapter
 * may await (bounded by the timeout) before the process ends.
 *
 * @example A Deno adapter
 * ```ts
 * import type { MigasLifecycle } from "@edgewire/sdk/migas";
 *
 * const lifecycle: MigasLifecycle = {
 *   onExit: (callback) => addEventListener("beforeunload", () => void callback()),
 *   onError: (callback) => addEventListener("error", (event) => void callback(event.error)),
 *   onSignal: (callback) => {
 *     for (const signal of ["SIGINT", "SIGTERM"] as const) {
 *       Deno.addSignalListener(signal, () => void callback(signal).finally(() => Deno.exit(130)));
 *     }
 *   },
 * };
 * ```
 */
export interface MigasLifecycle {
  /** Registers the callback to run when the program ends normally; may return a remover. */
  onExit?(callback: () => Promise<unknown>): (() => void) | void;
  /** Registers the callback to run on an uncaught error; may return a remover. */
  onError?(callback: (error: unknown) => Promise<unknown>): (() => void) | void;
  /** Registers the callback to run on a signal (`"SIGINT"`, `"SIGTERM"`); may return a remover. */
  onSignal?(callback: (signal: string) => Promise<unknown>): (() => void) | void;
}

/** Options of {@linkcode Migas} and {@linkcode setup}. */
export interface MigasOptions {
  /**
   * The migas server's base URL; a trailing `/graphql` is removed, as migas-py does.
   *
   * @default the `MIGAS_ENDPOINT` environment variable, else "https://migas.nipreps.org"
   */
  endpoint?: string;
  /**
   * How breadcrumbs travel.
   *
   * @default "rest"
   */
  transport?: MigasTransport;
  /**
   * The deadline of each request, in milliseconds.
   *
   * @default `MIGAS_TIMEOUT` (seconds) × 1000, else 3000
   */
  timeoutMs?: number;
  /**
   * Where the user id and the version check cache are kept.
   *
   * @default a private file (`$XDG_CONFIG_HOME/migas/edgewire.json`, mode 0600) where the
   * runtime can write one (Deno with permission, Node, Bun), else a new MemoryStorage
   */
  storage?: Storage;
  /**
   * How long a version check answer is reused, in milliseconds; 0 asks every time.
   *
   * @default 86400000 (24 h)
   */
  checkIntervalMs?: number;
  /**
   * Who runs the tool.
   *
   * @default "ci" in CI, else "general"
   */
  userType?: MigasUserType;
  /**
   * The user id to report, instead of the random one kept in `storage`.
   *
   * @default a random UUID, generated once and kept in `storage`
   */
  userId?: string;
  /**
   * The session id sent with every breadcrumb of this instance.
   *
   * @default a random UUID
   */
  sessionId?: string;
  /**
   * Hooks into the process lifecycle for {@linkcode Migas.track}: the final
   * breadcrumb goes out at a normal exit (`C`), an uncaught error (`F`) or
   * SIGINT / SIGTERM (`S`); the hooks are removed once it is sent.
   *
   * @default processLifecycle(): Deno, Node and Bun processes; none in browsers and Workers
   */
  lifecycle?: MigasLifecycle;
  /**
   * Probes `/.dockerenv` and `/singularity`, as migas-py does.
   *
   * @default the runtime's own probe where it can read files (Deno with permission, Node, Bun);
   * elsewhere the container is `"unknown"`
   */
  fileExists?: FileExists;
  /**
   * Reads one environment variable (`MIGAS_*`, `DO_NOT_TRACK`, the CI signatures).
   *
   * @default readEnv
   */
  env?: (name: string) => string | undefined;
  /**
   * Fields that replace what environment detection finds.
   *
   * @default {}
   */
  environment?: Partial<MigasEnvironment>;
  /**
   * Receives log lines at or above `logLevel`.
   *
   * @default console.debug / info / warn / error
   */
  logger?: (level: MigasLogLevel, message: string) => void;
  /**
   * The lowest level logged.
   *
   * @default `MIGAS_LOG_LEVEL`, else "WARNING"
   */
  logLevel?: MigasLogLevel;
  /**
   * The fetch implementation.
   *
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The clock, in epoch milliseconds, for the version check cache.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * Makes the user and session ids.
   *
   * @default crypto.randomUUID
   */
  randomUUID?: () => string;
  /**
   * The most undelivered breadcrumbs kept in `storage` for a later call;
   * beyond it the oldest is dropped and counted in `queueStats()`.
   *
   * @default 100
   */
  maxQueuedBreadcrumbs?: number;
  /**
   * A source of uniform numbers in [0, 1), for the backoff's jitter.
   *
   * @default Math.random
   */
  random?: () => number;
}

/** Options of {@linkcode Migas.addBreadcrumb}. */
export interface BreadcrumbOptions {
  /**
   * The process status.
   *
   * @default "R"
   */
  status?: MigasStatus;
  /**
   * A description of the status.
   *
   * @default undefined
   */
  statusDesc?: string;
  /**
   * The error's class name, for `"F"`.
   *
   * @default undefined
   */
  errorType?: string;
  /**
   * The error's message, for `"F"`.
   *
   * @default undefined
   */
  errorDesc?: string;
  /**
   * Over REST, wait for the server to store the breadcrumb (`?wait=true`, a
   * `200`) instead of its `202`.
   *
   * @default false
   */
  wait?: boolean;
}

/** Options of {@linkcode Migas.getUsage}. */
export interface UsageOptions {
  /**
   * Count distinct users instead of breadcrumbs.
   *
   * @default false
   */
  unique?: boolean;
}

/**
 * A tracked run, from {@linkcode Migas.track}.
 *
 * @example
 * ```ts
 * import { createMigas, type TrackHandle } from "@edgewire/sdk/migas";
 *
 * const run: TrackHandle = createMigas().track("owner/tool", "1.0.0");
 * await run.finish();
 * ```
 */
export interface TrackHandle {
  /** The project tracked. */
  readonly project: string;
  /** The answer to the `R` breadcrumb sent at start. */
  readonly started: Promise<BreadcrumbResult | MigasFailure>;
  /**
   * Sends the final breadcrumb once: `C` without an error, `F` with the
   * error's class and message. Later calls (and later lifecycle events)
   * answer the first call's result.
   *
   * @param error What ended the run, if it failed.
   * @returns The answer to the final breadcrumb.
   */
  finish(error?: unknown): Promise<BreadcrumbResult | MigasFailure>;
  /**
   * Sends the final breadcrumb once as `S` (suspended), for a signal.
   *
   * @param signal The signal's name.
   * @returns The answer to the final breadcrumb.
   */
  suspend(signal?: string): Promise<BreadcrumbResult | MigasFailure>;
}

interface CachedCheck {
  at: number;
  version: string;
  result: CheckProjectResult;
}

const USER_ID_KEY = "migas:user_id";
const CHECK_KEY = "migas:check:";
const LEVELS: readonly MigasLogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const GENERIC_ERROR = "[migas] An error occurred.";

/**
 * The migas client. Create one per process with {@linkcode createMigas}, or
 * use the module functions after {@linkcode setup}.
 *
 * @example A CLI's whole use
 * ```ts
 * import { createMigas, formatUpdateNotice } from "@edgewire/sdk/migas";
 *
 * const migas = createMigas({ endpoint: "http://127.0.0.1:8000", transport: "graphql" });
 * const run = migas.track("owner/tool", "1.1.0");
 * const notice = formatUpdateNotice(await migas.checkProject("owner/tool", "1.1.0"));
 * if (notice !== "") console.error(notice);
 * await run.finish();
 * ```
 */
export class Migas {
  /** The server's base URL, without a trailing `/` or `/graphql`. */
  readonly endpoint: string;
  /** How breadcrumbs travel. */
  readonly transport: MigasTransport;
  /** The deadline of each request, in milliseconds. */
  readonly timeoutMs: number;
  readonly #storage: Storage;
  readonly #checkIntervalMs: number;
  readonly #options: MigasOptions;
  readonly #env: (name: string) => string | undefined;
  readonly #now: () => number;
  readonly #randomUUID: () => string;
  readonly #logLevel: number;
  readonly #logger: (level: MigasLogLevel, message: string) => void;
  readonly #tracks = new Map<string, TrackHandle>();
  readonly #checks = new Map<string, Promise<CheckProjectResult>>();
  readonly #delivery: BreadcrumbDelivery;
  #environment: Promise<MigasEnvironment> | undefined;
  #userId: Promise<string> | undefined;
  #sessionId: string | undefined;

  /**
   * Creates a client. Nothing is read, probed or sent until a method is called.
   *
   * @param options The server, the transport and the platform services.
   * @throws {InvalidArgumentError} When an option has a value the client cannot use.
   */
  constructor(options: MigasOptions = {}) {
    const env = options.env ?? readEnv;
    this.#env = (name) => {
      try {
        return env(name);
      } catch {
        return undefined;
      }
    };
    const endpoint = options.endpoint ?? this.#env("MIGAS_ENDPOINT") ?? DEFAULT_MIGAS_ENDPOINT;
    if (!URL.canParse(endpoint)) {
      throw new InvalidArgumentError(
        "endpoint",
        `Cannot set up migas as 'endpoint' must be an absolute URL: current value is ${endpoint}`,
      );
    }
    this.endpoint = endpoint.replace(/\/+$/, "").replace(/\/graphql$/, "");
    const transport = options.transport ?? "rest";
    if (transport !== "rest" && transport !== "graphql") {
      throw new InvalidArgumentError(
        "transport",
        `Cannot set up migas as 'transport' must be "rest" or "graphql": current value is ${
          String(transport)
        }`,
      );
    }
    this.transport = transport;
    this.timeoutMs = options.timeoutMs ?? this.#envTimeout() ?? DEFAULT_MIGAS_TIMEOUT_MS;
    if (!(this.timeoutMs > 0) || !Number.isFinite(this.timeoutMs)) {
      throw new InvalidArgumentError(
        "timeoutMs",
        `Cannot set up migas as 'timeoutMs' must be a positive number: current value is ${this.timeoutMs}`,
      );
    }
    this.#checkIntervalMs = options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
    if (!(this.#checkIntervalMs >= 0) || !Number.isFinite(this.#checkIntervalMs)) {
      throw new InvalidArgumentError(
        "checkIntervalMs",
        `Cannot set up migas as 'checkIntervalMs' must be 0 or more: current value is ${this.#checkIntervalMs}`,
      );
    }
    const level = (options.logLevel ?? this.#env("MIGAS_LOG_LEVEL") ?? "WARNING").toUpperCase();
    // Python also accepts WARN; an unknown level keeps the default rather than failing the tool
    const index = LEVELS.indexOf((level === "WARN" ? "WARNING" : level) as MigasLogLevel);
    this.#logLevel = index === -1 ? 2 : index;
    this.#logger = options.logger ?? defaultLogger;
    // migas-py keeps the user id in a private file; so do we where the runtime has files
    const folder = configDirectory();
    this.#storage = options.storage ??
      (folder === undefined ? undefined : privateFileStorage(`${folder}/migas/edgewire.json`)) ??
      new MemoryStorage();
    this.#now = options.now ?? Date.now;
    this.#randomUUID = options.randomUUID ?? (() => crypto.randomUUID());
    this.#options = options;
    // Nothing touches storage until a call finds telemetry on
    this.#delivery = new BreadcrumbDelivery({
      storage: this.#storage,
      maxQueued: options.maxQueuedBreadcrumbs ?? 100,
      now: this.#now,
      random: options.random,
      post: (crumb, timeoutMs) => this.#postCrumb(crumb, timeoutMs),
    });
  }

  /**
   * Whether telemetry is disabled by `MIGAS_OPTOUT` (any non-empty value)
   * or `DO_NOT_TRACK` (any value but `""`, `"0"` and `"false"`). Read at
   * every call, so a user can opt out at any time.
   *
   * @returns `true` when nothing may be sent.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ env: (name) => (name === "DO_NOT_TRACK" ? "1" : undefined) });
   * console.log(migas.disabled()); // true
   * ```
   */
  disabled(): boolean {
    if ((this.#env("MIGAS_OPTOUT") ?? "") !== "") return true;
    const dnt = (this.#env("DO_NOT_TRACK") ?? "").trim().toLowerCase();
    return dnt !== "" && dnt !== "0" && dnt !== "false";
  }

  /**
   * Sends one breadcrumb: the project, its version, the environment, and
   * the process status.
   *
   * @param project The project, as `owner/repo`.
   * @param version The version in use.
   * @param options The status, its description, the error, and whether to wait for storage.
   * @returns The server's answer, the fallback with the reason of a failure, or
   * {@linkcode MigasFailure} when telemetry is disabled.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * await migas.addBreadcrumb("owner/tool", "1.0.0", { status: "C", statusDesc: "Completed" });
   * ```
   */
  async addBreadcrumb(
    project: string,
    version: string,
    options: BreadcrumbOptions = {},
  ): Promise<BreadcrumbResult | MigasFailure> {
    if (this.disabled()) return optedOut();
    return await this.#breadcrumb(project, version, options);
  }

  async #breadcrumb(
    project: string,
    version: string,
    options: BreadcrumbOptions,
  ): Promise<BreadcrumbResult> {
    const fallback: BreadcrumbResult = { success: false, message: GENERIC_ERROR };
    const environment = await this.#gather();
    const ctx = {
      user_id: await this.#user(),
      session_id: this.#session(),
      user_type: environment.user_type,
      platform: environment.platform,
      container: environment.container,
      is_ci: environment.is_ci,
    };
    const proc = {
      status: options.status ?? "R",
      status_desc: options.statusDesc,
      error_type: options.errorType,
      error_desc: options.errorDesc,
    };
    if (this.transport === "rest") {
      const body = {
        project,
        project_version: version,
        language: environment.language,
        language_version: environment.language_version,
        ctx,
        proc,
      };
      const path = `/api/breadcrumb${options.wait ? "?wait=true" : ""}`;
      // JSON.stringify drops undefined fields, as migas-py filters out None
      return this.#deliver({ path, body: JSON.stringify(body), operation: "" }, fallback);
    }
    const query = operation("mutation", "add_breadcrumb", [
      ["project", project],
      ["project_version", version],
      ["language", environment.language],
      ["language_version", environment.language_version],
      ["ctx", [
        ["session_id", ctx.session_id],
        ["user_id", ctx.user_id],
        ["user_type", new GqlEnum(ctx.user_type)],
        ["platform", ctx.platform],
        ["container", new GqlEnum(ctx.container)],
        ["is_ci", ctx.is_ci],
      ]],
      ["proc", [
        ["status", new GqlEnum(proc.status)],
        ["status_desc", proc.status_desc],
        ["error_type", proc.error_type],
        ["error_desc", proc.error_desc],
      ]],
    ], ["success"]);
    const crumb = {
      path: "/graphql",
      body: JSON.stringify({ query }),
      operation: "add_breadcrumb",
    };
    return this.#deliver(crumb, fallback);
  }

  async #deliver<T extends { success: boolean; message?: string }>(
    crumb: Omit<QueuedCrumb, "key">,
    fallback: T,
  ): Promise<T & { errors?: { message: string }[] }> {
    const response = await this.#delivery.deliver(
      { ...crumb, key: newIdempotencyKey() },
      this.timeoutMs,
    );
    if (response === undefined) {
      return { ...fallback, message: QUEUED_MESSAGE, errors: [{ message: QUEUED_MESSAGE }] };
    }
    return filterResponse(response.body, crumb.operation, fallback);
  }

  /**
   * Reports a use of the project and learns its latest and bad versions.
   * Over GraphQL this is migas-py 0.4's `add_project`; over REST, migas-py
   * 0.5's waited breadcrumb followed by a (cached) {@linkcode checkProject},
   * combined into the same shape.
   *
   * @param project The project, as `owner/repo`.
   * @param version The version in use.
   * @returns The latest version, the bad versions and whether they were cached, or
   * {@linkcode MigasFailure} when telemetry is disabled.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000", transport: "graphql" });
   * const { latest_version } = await migas.addProject("owner/tool", "1.0.0") as { latest_version?: string };
   * ```
   */
  async addProject(project: string, version: string): Promise<AddProjectResult | MigasFailure> {
    if (this.disabled()) return optedOut();
    const named = { project, project_version: version };
    if (this.transport === "rest") {
      const crumb = await this.#breadcrumb(project, version, { wait: true });
      const check = await this.#sharedCheck(project, version);
      return {
        success: crumb.success,
        latest_version: check.latest,
        bad_versions: check.flagged ? [version] : [],
        cached: check.cached === true,
        message: crumb.message ?? "",
        ...named,
        ...(crumb.errors === undefined ? {} : { errors: crumb.errors }),
      };
    }
    const environment = await this.#gather();
    const query = operation("mutation", "add_project", [["p", [
      ["project", project],
      ["project_version", version],
      ["language", environment.language],
      ["language_version", environment.language_version],
      ["is_ci", environment.is_ci],
      ["status", new GqlEnum("R")],
      ["user_id", await this.#user()],
      ["session_id", this.#session()],
      ["user_type", new GqlEnum(environment.user_type)],
      ["container", new GqlEnum(environment.container)],
      ["platform", environment.platform],
    ]]]);
    const fallback = {
      success: false,
      latest_version: null,
      bad_versions: [],
      cached: false,
      message: GENERIC_ERROR,
    };
    const body = JSON.stringify({ query });
    const answer = await this.#deliver(
      { path: "/graphql", body, operation: "add_project" },
      fallback,
    );
    const result: AddProjectResult = {
      ...fallback,
      ...answer,
      ...(answer.success ? { message: answer.message ?? "" } : {}),
      ...named,
    };
    if (result.success && typeof result.latest_version === "string") {
      // The answer is a version check too: the next checkProject need not ask again
      await this.#remember(project, version, {
        success: true,
        flagged: result.bad_versions.includes(version),
        latest: result.latest_version,
        message: "",
        ...named,
      });
    }
    return result;
  }

  /**
   * Asks for the project's latest version and whether `version` is flagged,
   * at most once per `checkIntervalMs` per project: meanwhile the kept
   * answer is served with `cached: true`, as it is when the server cannot
   * be reached. Concurrent calls share one request.
   *
   * @param project The project, as `owner/repo`.
   * @param version The version in use.
   * @returns Whether the version is flagged and the latest version, or
   * {@linkcode MigasFailure} when telemetry is disabled.
   *
   * @example
   * ```ts
   * import { createMigas, formatUpdateNotice } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * console.log(formatUpdateNotice(await migas.checkProject("owner/tool", "1.0.0")));
   * ```
   */
  async checkProject(
    project: string,
    version: string,
  ): Promise<CheckProjectResult | MigasFailure> {
    if (this.disabled()) return optedOut();
    return await this.#sharedCheck(project, version);
  }

  #sharedCheck(project: string, version: string): Promise<CheckProjectResult> {
    const key = `${project}\u0000${version}`;
    let pending = this.#checks.get(key);
    if (pending === undefined) {
      pending = this.#check(project, version).finally(() => this.#checks.delete(key));
      this.#checks.set(key, pending);
    }
    return pending;
  }

  /**
   * Counts the project's breadcrumbs (or distinct users) between two dates.
   *
   * @param project The project, as `owner/repo`.
   * @param start The first day, as `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` or a Date.
   * @param end The end; the server's now when left out.
   * @param options Whether to count distinct users.
   * @returns The count, or {@linkcode MigasFailure} when telemetry is disabled.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * const usage = await migas.getUsage("owner/tool", "2024-01-01", undefined, { unique: true });
   * ```
   */
  async getUsage(
    project: string,
    start: string | Date,
    end?: string | Date,
    options: UsageOptions = {},
  ): Promise<UsageResult | MigasFailure> {
    if (this.disabled()) return optedOut();
    const unique = options.unique ?? false;
    const query = operation("query", "get_usage", [
      ["project", project],
      ["start", dateText(start)],
      ["end", end === undefined ? undefined : dateText(end)],
      ["unique", unique],
    ]);
    const fallback: UsageResult = { success: false, hits: 0, unique, message: GENERIC_ERROR };
    return filterResponse(await this.#graphql(query), "get_usage", fallback);
  }

  /**
   * Sends the breadcrumbs queued in `storage` by earlier failed calls (of
   * this run or an earlier one), oldest first, until the queue is empty or
   * a failure starts the backoff. Sends and touches nothing when telemetry
   * is disabled. Never rejects.
   *
   * @returns The queue's state afterwards.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * const { queued } = await migas.flush();
   * ```
   */
  async flush(): Promise<MigasQueueStats> {
    if (this.disabled()) return this.queueStats();
    try {
      await this.#delivery.flush();
    } catch (error) {
      this.#log("DEBUG", `Cannot send the queued breadcrumbs: ${String(error)}`);
    }
    return this.queueStats();
  }

  /**
   * The breadcrumb queue's state: breadcrumbs queued and sent, what was
   * dropped and why (migas' refusals as `rejected`), and the remaining backoff.
   *
   * @returns A snapshot of the counters.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * console.log(createMigas().queueStats().queued); // 0
   * ```
   */
  queueStats(): MigasQueueStats {
    return this.#delivery.stats();
  }

  /**
   * Tracks a run: an `R` breadcrumb now and exactly one final breadcrumb,
   * `C` at exit, `F` with the error's class and message on an uncaught
   * error, `S` on a signal, through the `lifecycle` adapter or the handle.
   * A second call for the same project returns the same handle.
   *
   * @param project The project, as `owner/repo`.
   * @param version The version in use.
   * @returns The run's handle.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * const run = migas.track("owner/tool", "1.0.0");
   * try {
   *   // the tool's work
   *   await run.finish();
   * } catch (error) {
   *   await run.finish(error);
   *   throw error;
   * }
   * ```
   */
  track(project: string, version: string): TrackHandle {
    const known = this.#tracks.get(project);
    if (known !== undefined) return known;
    const started = this.addBreadcrumb(project, version, { status: "R", statusDesc: "Started" });
    let final: Promise<BreadcrumbResult | MigasFailure> | undefined;
    let settle: () => void = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const end = Object.assign((options: BreadcrumbOptions) => {
      // The start goes first so the server sees R before the final status
      final ??= started.then(() => this.addBreadcrumb(project, version, options)).finally(settle);
      return final;
    }, { settled });
    const handle: TrackHandle = {
      project,
      started,
      finish: (error?: unknown) =>
        end(
          error === undefined ? { status: "C", statusDesc: "Completed" } : {
            status: "F",
            statusDesc: "Errored",
            errorType: errorType(error),
            errorDesc: errorDesc(error),
          },
        ),
      suspend: (signal = "SIGINT") =>
        end({
          status: "S",
          // migas-py's words: Ctrl-C is a KeyboardInterrupt, other signals a termination
          statusDesc: signal === "SIGINT" ? "Suspended" : `Terminated (${signal})`,
        }),
    };
    this.#tracks.set(project, handle);
    const lifecycle = this.#options.lifecycle ?? processLifecycle();
    const removers = [
      lifecycle.onExit?.(() => handle.finish()),
      lifecycle.onError?.((error) => handle.finish(error ?? new Error("Unknown error"))),
      lifecycle.onSignal?.((signal) => handle.suspend(signal)),
    ];
    // Once the final breadcrumb is out, the program's own exit and signal handling are back
    void end.settled.then(() =>
      removers.forEach((remove) => typeof remove === "function" && remove())
    );
    return handle;
  }

  async #check(project: string, version: string): Promise<CheckProjectResult> {
    const named = { project, project_version: version };
    let kept: CachedCheck | undefined;
    try {
      const text = await this.#storage.get(CHECK_KEY + project);
      kept = text === undefined ? undefined : JSON.parse(text) as CachedCheck;
    } catch (error) {
      this.#log("DEBUG", `Cannot read the cached check of ${project}: ${String(error)}`);
    }
    const usable = kept !== undefined && kept.version === version;
    if (usable && this.#now() - kept!.at < this.#checkIntervalMs) {
      return { ...kept!.result, cached: true };
    }
    const query = operation("query", "check_project", [
      ["project", project],
      ["project_version", version],
    ], ["success", "flagged", "latest", "message"]);
    const fallback = { success: false, flagged: false, latest: null, message: GENERIC_ERROR };
    const answer = filterResponse(await this.#graphql(query), "check_project", fallback);
    const result: CheckProjectResult = { ...fallback, ...answer, ...named };
    if (result.success) {
      await this.#remember(project, version, result);
      return result;
    }
    // A stale answer is still a better notice than none while the server is away
    if (usable) return { ...kept!.result, cached: true };
    return result;
  }

  async #remember(project: string, version: string, result: CheckProjectResult): Promise<void> {
    const { cached: _cached, errors: _errors, ...plain } = result;
    const entry: CachedCheck = { at: this.#now(), version, result: plain };
    try {
      await this.#storage.set(CHECK_KEY + project, JSON.stringify(entry));
    } catch (error) {
      this.#log("DEBUG", `Cannot cache the check of ${project}: ${String(error)}`);
    }
  }

  #gather(): Promise<MigasEnvironment> {
    this.#environment ??= gatherEnvironment({
      env: this.#env,
      fileExists: this.#options.fileExists ?? ((path: string) => fileExists(path)),
      userType: this.#options.userType,
      overrides: this.#options.environment,
    });
    return this.#environment;
  }

  #user(): Promise<string> {
    this.#userId ??= (async () => {
      if (this.#options.userId !== undefined) return this.#options.userId;
      try {
        const kept = await this.#storage.get(USER_ID_KEY);
        if (kept !== undefined && kept !== "") return kept;
        const made = this.#randomUUID();
        await this.#storage.set(USER_ID_KEY, made);
        return made;
      } catch (error) {
        // Without storage the id is stable for this process only, which is still useful
        this.#log("DEBUG", `Cannot keep the migas user id: ${String(error)}`);
        return this.#randomUUID();
      }
    })();
    return this.#userId;
  }

  #session(): string {
    this.#sessionId ??= this.#options.sessionId ?? this.#randomUUID();
    return this.#sessionId;
  }

  async #graphql(query: string): Promise<unknown> {
    return (await this.#post(`${this.endpoint}/graphql`, JSON.stringify({ query }))).body;
  }

  #postCrumb(crumb: QueuedCrumb, timeoutMs?: number): Promise<MigasResponse> {
    return this.#post(this.endpoint + crumb.path, crumb.body, crumb.key, timeoutMs);
  }

  async #post(
    url: string,
    body: string,
    key?: string,
    timeoutMs = this.timeoutMs,
  ): Promise<MigasResponse> {
    this.#log("DEBUG", `POST ${url} ${body}`);
    const headers: Record<string, string> = {
      "User-Agent": `migas-client/${MIGAS_CLIENT_VERSION}`,
      "Accept": "*/*",
      "Content-Type": "application/json; charset=utf-8",
    };
    if (key !== undefined) headers[IDEMPOTENCY_KEY_HEADER] = key;
    const response = await send(
      this.#options.fetch ?? globalThis.fetch,
      url,
      body,
      headers,
      Math.min(this.timeoutMs, timeoutMs),
    );
    if (response.headers !== undefined && !response.headers.has("x-backend-server")) {
      this.#log("WARNING", `The answer from ${url} has no X-Backend-Server header: is it migas?`);
    }
    return response;
  }

  #envTimeout(): number | undefined {
    const text = this.#env("MIGAS_TIMEOUT");
    if (text === undefined || text.trim() === "") return undefined;
    const ms = Number(text) * 1000;
    // A user's typo in the environment must not stop their tool: the default applies
    return ms > 0 && Number.isFinite(ms) ? ms : undefined;
  }

  #log(level: MigasLogLevel, message: string): void {
    if (LEVELS.indexOf(level) < this.#logLevel) return;
    try {
      this.#logger(level, message);
    } catch {
      // A broken logger must not break the tool
    }
  }
}

/**
 * Creates a {@linkcode Migas} client.
 *
 * @param options The server, the transport and the platform services.
 * @returns The client.
 * @throws {InvalidArgumentError} When an option has a value the client cannot use.
 *
 * @example
 * ```ts
 * import { createMigas } from "@edgewire/sdk/migas";
 *
 * const migas = createMigas({ endpoint: "http://127.0.0.1:8000", transport: "rest", timeoutMs: 2000 });
 * await migas.addBreadcrumb("owner/tool", "1.0.0");
 * ```
 */
export function createMigas(options: MigasOptions = {}): Migas {
  return new Migas(options);
}

function optedOut(): MigasFailure {
  return { success: false, errors: [{ message: OPTED_OUT_MESSAGE }] };
}

function defaultLogger(level: MigasLogLevel, message: string): void {
  const line = `[migas] ${message}`;
  if (level === "DEBUG") console.debug(line);
  else if (level === "INFO") console.info(line);
  else if (level === "WARNING") console.warn(line);
  else console.error(line);
}

function errorType(error: unknown): string {
  if (error instanceof Error) {
    // A set `name` survives minification, which renames classes; a class that leaves it
    // at "Error" is known by its constructor's name instead
    if (typeof error.name === "string" && error.name !== "" && error.name !== "Error") {
      return error.name;
    }
    const name = error.constructor?.name;
    return name !== undefined && name !== "" ? name : "Error";
  }
  return typeof error;
}

function errorDesc(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function dateText(value: string | Date): string {
  if (typeof value === "string") return value;
  return value.toISOString().replace(/\.\d{3}Z$/, "Z");
}
