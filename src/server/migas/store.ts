/**
 * What the migas routes keep: registered projects with their version facts,
 * and usage breadcrumbs counted by `GET /api/usage/{owner/repo}`.
 *
 * @module
 */

import type { IdempotencySettlement } from "../common/idempotency_store.ts";

/** A project registered with the migas server, with the version facts it answers. */
export interface MigasProjectRecord {
  /** The project, as `owner/repo`. */
  project: string;
  /** The newest released version, or `undefined` when unknown. */
  latestVersion: string | undefined;
  /** Versions flagged as bad, which `check_project` reports as `flagged`. */
  badVersions: string[];
}

/** What a migas registration changes; an `undefined` field keeps the stored value. */
export interface MigasRegistration {
  /** The project, as `owner/repo`. */
  project: string;
  /** The newest released version; `undefined` keeps the stored one. */
  latestVersion?: string;
  /** Versions flagged as bad; `undefined` keeps the stored list. */
  badVersions?: string[];
  /** The server's current time, in milliseconds. */
  now: number;
}

/** One migas usage breadcrumb, with versions already sanitised. */
export interface MigasBreadcrumbRecord {
  /** The project, as `owner/repo`. */
  project: string;
  /** The project's version, or `unknown`. */
  projectVersion: string;
  /** The client's programming language. */
  language: string;
  /** The language's version, or `unknown`. */
  languageVersion: string;
  /** When the server received it, in milliseconds. */
  timestamp: number;
  /** The telemetry session, when the client sent one. */
  sessionId: string | undefined;
  /** The client's stable identifier, when sent. */
  userId: string | undefined;
  /** `general`, `dev` or `ci`. */
  userType: string;
  /** The client's platform, such as `linux`. */
  platform: string;
  /** `unknown`, `docker` or `apptainer`. */
  container: string;
  /** Whether the client runs under continuous integration. */
  isCi: boolean;
  /** `R`, `C`, `F` or `S`. */
  status: string;
  /** A description of the status. */
  statusDesc: string | undefined;
  /** The type of error encountered. */
  errorType: string | undefined;
  /** A description of the error. */
  errorDesc: string | undefined;
}

/**
 * Which breadcrumbs {@linkcode MigasStore.countMigasUsage} counts. Usage is
 * kept per project and UTC day as breadcrumbs arrive, so a range is counted
 * by whole UTC days: every day from the one `start` falls in to the one `end`
 * falls in.
 */
export interface MigasUsageQuery {
  /** The project, as `owner/repo`. */
  project: string;
  /** A time in the first UTC day counted, in milliseconds. */
  start: number;
  /** A time in the last UTC day counted, in milliseconds. */
  end: number;
  /**
   * Count distinct user ids instead of breadcrumbs: an estimate (a
   * HyperLogLog sketch per day, about 3% standard error, exact in practice
   * for a few dozen users).
   */
  unique: boolean;
}

/**
 * Which usage {@linkcode MigasStore.countMigasUsageByVersion} reads: a
 * project's whole UTC days from the one `start` falls in to the one `end`
 * falls in, as {@linkcode MigasUsageQuery} counts them.
 */
export interface MigasVersionUsageQuery {
  /** The project, as `owner/repo`. */
  project: string;
  /** A time in the first UTC day counted, in milliseconds. */
  start: number;
  /** A time in the last UTC day counted, in milliseconds. */
  end: number;
  /** The most versions answered, from 1 to 1000 (a larger limit answers 1000). */
  limit: number;
}

/** One project version's usage over a range of days. */
export interface MigasVersionUsage {
  /** The project version the breadcrumbs reported, or `unknown`. */
  version: string;
  /** Its breadcrumbs. */
  breadcrumbs: number;
  /** Its distinct user ids: an estimate, as {@linkcode MigasUsageQuery.unique} counts them. */
  users: number;
}

/**
 * The migas part of a server store. Implementations must be safe to call
 * concurrently.
 *
 * @example Register a project and list it
 * ```ts
 * import { MemoryStore, type MigasStore } from "@edgewire/sdk/server";
 *
 * const store: MigasStore = new MemoryStore();
 * console.log(await store.registerMigasProject({ project: "acme/tool", now: 0 })); // true
 * console.log(await store.listMigasProjects()); // ["acme/tool"]
 * ```
 */
export interface MigasStore {
  /**
   * Registers a migas project, or updates the version facts of a registered one.
   *
   * @param registration The project and the facts to set.
   * @returns `true` when the project was new, `false` when it was already registered.
   */
  registerMigasProject(registration: MigasRegistration): Promise<boolean>;
  /**
   * Finds a registered migas project.
   *
   * @param project The project, as `owner/repo`.
   * @returns Its record, or `undefined` when it is not registered.
   */
  findMigasProject(project: string): Promise<MigasProjectRecord | undefined>;
  /**
   * Lists the registered migas projects.
   *
   * @returns Their names, sorted.
   */
  listMigasProjects(): Promise<string[]>;
  /**
   * Stores one migas breadcrumb.
   *
   * @param breadcrumb The breadcrumb.
   * @param settle The idempotency key to settle with the same write, when the request has one.
   */
  addMigasBreadcrumb(
    breadcrumb: MigasBreadcrumbRecord,
    settle?: IdempotencySettlement,
  ): Promise<void>;
  /**
   * Stores many migas breadcrumbs at once, all or none (one transaction where
   * the store has them).
   *
   * @param breadcrumbs The breadcrumbs, in order.
   */
  addMigasBreadcrumbs(breadcrumbs: readonly MigasBreadcrumbRecord[]): Promise<void>;
  /**
   * Counts a project's breadcrumbs, or estimates its distinct users, over a
   * range of UTC days, from aggregates kept as breadcrumbs arrive: the cost
   * follows the number of days, never the number of breadcrumbs.
   *
   * @param query The project, the range of days and whether to count users.
   * @returns The count.
   */
  countMigasUsage(query: MigasUsageQuery): Promise<number>;
  /**
   * Counts a project's breadcrumbs and estimates its distinct users per
   * project version over a range of UTC days, from aggregates kept per
   * project, day and version as breadcrumbs arrive: the cost follows the
   * days and versions in the range, never the number of breadcrumbs.
   *
   * @param query The project, the range of days and the most versions to answer.
   * @returns At most `query.limit` versions, most breadcrumbs first, then by version.
   */
  countMigasUsageByVersion(query: MigasVersionUsageQuery): Promise<MigasVersionUsage[]>;
}
