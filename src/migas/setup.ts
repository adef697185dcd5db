/**
 * The module-level migas API, as migas-py offers it: `setup()` once per
 * process (a later call replaces the earlier client), then the functions,
 * which use that client. Before `setup()` every function answers migas-py's
 * "setup incomplete" failure and sends nothing.
 *
 * @module
 */

import { Migas } from "./client.ts";
import type { BreadcrumbOptions, MigasOptions, UsageOptions } from "./options.ts";
import type { TrackHandle } from "./track.ts";
import type {
  AddProjectResult,
  BreadcrumbResult,
  CheckProjectResult,
  MigasFailure,
  UsageResult,
} from "./results.ts";

/** What a function answers before {@linkcode setup}. */
export const NOT_SETUP_MESSAGE = "migas setup incomplete - did you call `setup()`?";

let current: Migas | undefined;

function notSetup(): MigasFailure {
  return { success: false, errors: [{ message: NOT_SETUP_MESSAGE }] };
}

/**
 * Sets up the process-wide migas client; a later call replaces it (runs
 * already tracked keep the client they started with).
 *
 * @param options The server, the protocol and the platform services.
 * @returns The client the module functions now use.
 * @throws {InvalidArgumentError} When an option has a value the client cannot use.
 *
 * @example
 * ```ts
 * import { setup } from "@edgewire/sdk/migas";
 *
 * setup({ endpoint: "http://127.0.0.1:8000", protocol: "graphql", timeoutMs: 2000 });
 * ```
 */
export function setup(options: MigasOptions = {}): Migas {
  current = new Migas(options);
  return current;
}

/**
 * Sends one breadcrumb with the client of {@linkcode setup}; see {@linkcode Migas.addBreadcrumb}.
 *
 * @param project The project, as `owner/repo`.
 * @param version The version in use.
 * @param options The status, its description, the error, and whether to wait for storage.
 * @returns The server's answer, or a {@linkcode MigasFailure} when disabled or not set up.
 *
 * @example
 * ```ts
 * import { addBreadcrumb, setup } from "@edgewire/sdk/migas";
 *
 * setup({ endpoint: "http://127.0.0.1:8000" });
 * await addBreadcrumb("owner/tool", "1.0.0", { status: "C", statusDesc: "Completed", wait: true });
 * ```
 */
export function addBreadcrumb(
  project: string,
  version: string,
  options: BreadcrumbOptions = {},
): Promise<BreadcrumbResult | MigasFailure> {
  if (current === undefined) return Promise.resolve(notSetup());
  return current.addBreadcrumb(project, version, options);
}

/**
 * Reports a use and learns the latest and bad versions with the client of
 * {@linkcode setup}; see {@linkcode Migas.addProject}.
 *
 * @param project The project, as `owner/repo`.
 * @param version The version in use.
 * @returns The versions, or a {@linkcode MigasFailure} when disabled or not set up.
 *
 * @example
 * ```ts
 * import { addProject, formatUpdateNotice, setup } from "@edgewire/sdk/migas";
 *
 * setup({ endpoint: "http://127.0.0.1:8000", protocol: "graphql" });
 * console.log(formatUpdateNotice(await addProject("owner/tool", "1.0.0")));
 * ```
 */
export function addProject(
  project: string,
  version: string,
): Promise<AddProjectResult | MigasFailure> {
  if (current === undefined) return Promise.resolve(notSetup());
  return current.addProject(project, version);
}

/**
 * Checks the version in use (cached and throttled) with the client of
 * {@linkcode setup}; see {@linkcode Migas.checkProject}.
 *
 * @param project The project, as `owner/repo`.
 * @param version The version in use.
 * @returns The check, or a {@linkcode MigasFailure} when disabled or not set up.
 *
 * @example
 * ```ts
 * import { checkProject, formatUpdateNotice, setup } from "@edgewire/sdk/migas";
 *
 * setup({ endpoint: "http://127.0.0.1:8000" });
 * const notice = formatUpdateNotice(await checkProject("owner/tool", "1.0.0"));
 * if (notice !== "") console.error(notice);
 * ```
 */
export function checkProject(
  project: string,
  version: string,
): Promise<CheckProjectResult | MigasFailure> {
  if (current === undefined) return Promise.resolve(notSetup());
  return current.checkProject(project, version);
}

/**
 * Counts the project's uses with the client of {@linkcode setup}; see {@linkcode Migas.getUsage}.
 *
 * @param project The project, as `owner/repo`.
 * @param start The first day, as `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` or a Date.
 * @param end The end; the server's now when left out.
 * @param options Whether to count distinct users.
 * @returns The count, or a {@linkcode MigasFailure} when disabled or not set up.
 *
 * @example
 * ```ts
 * import { getUsage, setup } from "@edgewire/sdk/migas";
 *
 * setup({ endpoint: "http://127.0.0.1:8000" });
 * const usage = await getUsage("owner/tool", "2024-01-01", "2024-02-01");
 * ```
 */
export function getUsage(
  project: string,
  start: string | Date,
  end?: string | Date,
  options: UsageOptions = {},
): Promise<UsageResult | MigasFailure> {
  if (current === undefined) return Promise.resolve(notSetup());
  return current.getUsage(project, start, end, options);
}

/**
 * Tracks a run with the client of {@linkcode setup}; see {@linkcode Migas.track}.
 * Before setup the handle sends nothing and answers the setup failure.
 *
 * @param project The project, as `owner/repo`.
 * @param version The version in use.
 * @returns The run's handle.
 *
 * @example
 * ```ts
 * import { setup, track } from "@edgewire/sdk/migas";
 *
 * setup({ endpoint: "http://127.0.0.1:8000" });
 * const run = track("owner/tool", "1.0.0");
 * await run.finish();
 * ```
 */
export function track(project: string, version: string): TrackHandle {
  if (current !== undefined) return current.track(project, version);
  const answer = Promise.resolve(notSetup());
  return { project, started: answer, finish: () => answer, suspend: () => answer };
}
