/**
 * The options of the migas client, the types they name, and the defaults
 * and fixed messages migas-py users know.
 *
 * @module
 */

import type { Jitter } from "../core/backoff.ts";
import type { Storage } from "../core/storage.ts";
import type { FileExists, MigasEnvironment, MigasUserType } from "./environment.ts";

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
 * import type { MigasProtocol } from "@edgewire/sdk/migas";
 *
 * const protocol: MigasProtocol = "graphql";
 * ```
 */
export type MigasProtocol = "rest" | "graphql";

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
 * Hooks into the runtime's process lifecycle, for `Migas.track`.
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

/** Options of `Migas` and `setup`. */
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
  protocol?: MigasProtocol;
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
   * Hooks into the process lifecycle for `Migas.track`: the final
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
   * The most undelivered events (breadcrumbs) kept in `storage` for a later call;
   * beyond it the oldest is dropped and counted in `queueStats()`.
   *
   * @default 100
   */
  maxQueuedEvents?: number;
  /**
   * The backoff after a breadcrumb could not be delivered (a 5xx, 408, 429,
   * timeout, network error or an answer that is not migas'), in
   * milliseconds: capped exponential from `initialMs` to `maxMs`, full
   * jitter unless `jitter` says otherwise; `Retry-After` wins up to `maxMs`.
   * While it runs, breadcrumbs are queued without sending.
   *
   * @default { initialMs: 1000, maxMs: 300000, jitter: "full" }
   */
  backoff?: { initialMs?: number; maxMs?: number; jitter?: Jitter };
  /**
   * A source of uniform numbers in [0, 1), for the backoff's jitter.
   *
   * @default Math.random
   */
  random?: () => number;
}

/** Options of `Migas.addBreadcrumb`. */
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

/** Options of `Migas.getUsage`. */
export interface UsageOptions {
  /**
   * Count distinct users instead of breadcrumbs.
   *
   * @default false
   */
  unique?: boolean;
}
