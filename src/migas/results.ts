/**
 * The answers of the migas functions, with migas' field names. Every call
 * resolves, never rejects: a failure is an answer with `success: false`.
 *
 * @module
 */

import type { QueueStats } from "../core/queue.ts";

/**
 * One error of a failed call.
 *
 * @example
 * ```ts
 * import type { MigasErrorEntry } from "@edgewire/sdk/migas";
 *
 * const entry: MigasErrorEntry = { message: "migas telemetry is disabled." };
 * ```
 */
export interface MigasErrorEntry {
  /** What went wrong, in migas' words. */
  message: string;
}

/**
 * The answer of a call that sent nothing: telemetry is disabled, or
 * `setup()` was not called.
 *
 * @example
 * ```ts
 * import type { MigasFailure } from "@edgewire/sdk/migas";
 *
 * const failure: MigasFailure = { success: false, errors: [{ message: "migas telemetry is disabled." }] };
 * ```
 */
export interface MigasFailure {
  /** Always `false`. */
  success: false;
  /** Why nothing was sent. */
  errors: MigasErrorEntry[];
}

/**
 * The answer to a breadcrumb.
 *
 * @example
 * ```ts
 * import type { BreadcrumbResult } from "@edgewire/sdk/migas";
 *
 * const result: BreadcrumbResult = { success: true, message: "" };
 * ```
 */
export interface BreadcrumbResult {
  /** Whether the server took the breadcrumb. */
  success: boolean;
  /** The server's message, or why the call failed; GraphQL answers may leave it out. */
  message?: string;
  /** The GraphQL errors, or the timeout / unreachable error, when there were any. */
  errors?: MigasErrorEntry[];
}

/**
 * The answer to {@linkcode Migas.addProject}.
 *
 * @example
 * ```ts
 * import type { AddProjectResult } from "@edgewire/sdk/migas";
 *
 * const result: AddProjectResult = {
 *   success: true, latest_version: "1.2.0", bad_versions: [], cached: false, message: "",
 *   project: "owner/tool", project_version: "1.1.0",
 * };
 * ```
 */
export interface AddProjectResult {
  /** Whether the server took the breadcrumb and knows the project. */
  success: boolean;
  /** The latest release, or `null` when unknown. */
  latest_version: string | null;
  /** Versions the project's authors flagged as bad. */
  bad_versions: string[];
  /** Whether the server (or, over REST, this client) answered from its cache. */
  cached: boolean;
  /** The server's message, or why the call failed. */
  message: string;
  /** The project asked about (added by this client, for {@linkcode formatUpdateNotice}). */
  project: string;
  /** The version in use (added by this client, for {@linkcode formatUpdateNotice}). */
  project_version: string;
  /** The GraphQL errors, or the timeout / unreachable error, when there were any. */
  errors?: MigasErrorEntry[];
}

/**
 * The answer to {@linkcode Migas.checkProject}.
 *
 * @example
 * ```ts
 * import type { CheckProjectResult } from "@edgewire/sdk/migas";
 *
 * const result: CheckProjectResult = {
 *   success: true, flagged: false, latest: "1.2.0", message: "",
 *   project: "owner/tool", project_version: "1.1.0",
 * };
 * ```
 */
export interface CheckProjectResult {
  /** Whether the server knows the project's latest version. */
  success: boolean;
  /** Whether the version in use is flagged as bad. */
  flagged: boolean;
  /** The latest release, or `null` when unknown. */
  latest: string | null;
  /** The server's message, or why the call failed. */
  message: string;
  /** `true` when the answer comes from this client's cache, not the server. */
  cached?: boolean;
  /** The project asked about (added by this client, for {@linkcode formatUpdateNotice}). */
  project: string;
  /** The version in use (added by this client, for {@linkcode formatUpdateNotice}). */
  project_version: string;
  /** The GraphQL errors, or the timeout / unreachable error, when there were any. */
  errors?: MigasErrorEntry[];
}

/**
 * The answer to {@linkcode Migas.getUsage}.
 *
 * @example
 * ```ts
 * import type { UsageResult } from "@edgewire/sdk/migas";
 *
 * const result: UsageResult = { success: true, hits: 42, unique: false, message: "" };
 * ```
 */
export interface UsageResult {
  /** Whether the project is tracked. */
  success: boolean;
  /** Breadcrumbs (or distinct users, with `unique`) in the range. */
  hits: number;
  /** Whether `hits` counts distinct users. */
  unique: boolean;
  /** The server's message, or why the call failed. */
  message: string;
  /** The GraphQL errors, or the timeout / unreachable error, when there were any. */
  errors?: MigasErrorEntry[];
}

/**
 * The breadcrumb queue's state, from {@linkcode Migas.queueStats}.
 *
 * @example
 * ```ts
 * import type { MigasQueueStats } from "@edgewire/sdk/migas";
 *
 * const stats: MigasQueueStats = {
 *   queued: 1, bytes: 420, dropped: 0, droppedByReason: {}, persistErrors: 0,
 *   sent: 3, backoffRemainingMs: 1000,
 * };
 * ```
 */
export interface MigasQueueStats extends QueueStats {
  /** Breadcrumbs migas took. */
  sent: number;
  /** Milliseconds until the client contacts migas again; 0 when not backing off. */
  backoffRemainingMs: number;
}
