/**
 * What migas reports about the machine a tool runs on: the language and its
 * version, the runtime, the platform, the container (by the same file
 * probes as migas-py, through an injected probe since only a runtime can
 * read files), whether it runs in CI, and the user type.
 *
 * @module
 */

import { detectRuntime, platform, readEnv, type RuntimeName } from "../core/runtime/mod.ts";
import { detectCi } from "./ci.ts";

/**
 * The container a process runs in, as migas' `Container` enum spells it.
 *
 * @example
 * ```ts
 * import type { MigasContainer } from "@edgewire/sdk/migas";
 *
 * const container: MigasContainer = "docker";
 * ```
 */
export type MigasContainer = "unknown" | "docker" | "apptainer";

/**
 * Who runs the tool, as migas' `User` enum spells it.
 *
 * @example
 * ```ts
 * import type { MigasUserType } from "@edgewire/sdk/migas";
 *
 * const userType: MigasUserType = "dev";
 * ```
 */
export type MigasUserType = "general" | "dev" | "ci";

/**
 * Tells whether a file exists; may answer synchronously or asynchronously.
 * A probe that throws or rejects counts as "absent".
 *
 * @example A Deno probe
 * ```ts
 * import type { FileExists } from "@edgewire/sdk/migas";
 *
 * const fileExists: FileExists = (path) => Deno.stat(path).then(() => true, () => false);
 * ```
 */
export type FileExists = (path: string) => boolean | Promise<boolean>;

/**
 * The environment sent with every breadcrumb, with migas' field names.
 *
 * @example
 * ```ts
 * import { gatherEnvironment, type MigasEnvironment } from "@edgewire/sdk/migas";
 *
 * const environment: MigasEnvironment = await gatherEnvironment();
 * ```
 */
export interface MigasEnvironment {
  /** Always `"javascript"`. */
  language: string;
  /** The runtime's version (migas keeps versions matching `^[A-Za-z0-9._+-]+$`), else `"unknown"`. */
  language_version: string;
  /** The runtime's name. */
  runtime: RuntimeName;
  /** The operating system, spelled as Python's `sys.platform` (`"linux"`, `"darwin"`, `"win32"`). */
  platform: string;
  /** The container found by the file probes. */
  container: MigasContainer;
  /** Whether a CI vendor's signature is in the environment. */
  is_ci: boolean;
  /** Who runs the tool. */
  user_type: MigasUserType;
}

/** Options of {@linkcode gatherEnvironment}. */
export interface EnvironmentOptions {
  /**
   * Reads one environment variable, for the CI signatures.
   *
   * @default readEnv (the runtime's environment, where there is one)
   */
  env?: (name: string) => string | undefined;
  /**
   * Probes `/.dockerenv` and `/singularity`. Without one the container is `"unknown"`.
   *
   * @default undefined
   */
  fileExists?: FileExists;
  /**
   * Who runs the tool.
   *
   * @default "ci" in CI, else "general"
   */
  userType?: MigasUserType;
  /**
   * Fields that replace what detection finds.
   *
   * @default {}
   */
  overrides?: Partial<MigasEnvironment>;
}

const VERSION = /^[A-Za-z0-9._+-]+$/;

async function exists(fileExists: FileExists, path: string): Promise<boolean> {
  try {
    return (await fileExists(path)) === true;
  } catch {
    // A probe that cannot look (no permission, no file system) has found nothing
    return false;
  }
}

/**
 * Finds the container the way migas-py does: `/.dockerenv` means Docker,
 * `/singularity` means Apptainer (Singularity), in that order.
 *
 * @param fileExists The file probe; without one the answer is `"unknown"`.
 * @returns The container's name.
 *
 * @example
 * ```ts
 * import { detectContainer } from "@edgewire/sdk/migas";
 *
 * const container = await detectContainer((path) => path === "/.dockerenv");
 * console.log(container); // "docker"
 * ```
 */
export async function detectContainer(fileExists?: FileExists): Promise<MigasContainer> {
  if (fileExists === undefined) return "unknown";
  if (await exists(fileExists, "/.dockerenv")) return "docker";
  if (await exists(fileExists, "/singularity")) return "apptainer";
  return "unknown";
}

/**
 * Gathers the environment migas reports. Clients call it once and keep the answer.
 *
 * @param options The environment reader, the file probe, the user type and overrides.
 * @returns The environment, with migas' field names.
 *
 * @example
 * ```ts
 * import { gatherEnvironment } from "@edgewire/sdk/migas";
 *
 * const environment = await gatherEnvironment({
 *   fileExists: (path) => Deno.stat(path).then(() => true, () => false),
 * });
 * console.log(environment.container, environment.is_ci);
 * ```
 */
export async function gatherEnvironment(
  options: EnvironmentOptions = {},
): Promise<MigasEnvironment> {
  const runtime = detectRuntime();
  const os = platform();
  const isCi = detectCi(options.env ?? readEnv).isCi;
  return {
    language: "javascript",
    language_version: VERSION.test(runtime.version) ? runtime.version : "unknown",
    runtime: runtime.name,
    // Python's spelling, so dashboards that already count migas-py users line up
    platform: os === "windows" ? "win32" : os,
    container: await detectContainer(options.fileExists),
    is_ci: isCi,
    user_type: options.userType ?? (isCi ? "ci" : "general"),
    ...options.overrides,
  };
}
