/**
 * migas: usage breadcrumbs and version checks for CLIs and libraries,
 * compatible with a migas server (REST or GraphQL), from any JavaScript
 * runtime. Honours `MIGAS_OPTOUT` and `DO_NOT_TRACK`, caches version checks,
 * and never delays a program by more than its timeout.
 *
 * @example
 * ```ts
 * import { checkProject, formatUpdateNotice, setup, track } from "@edgewire/sdk/migas";
 *
 * setup({ endpoint: "http://127.0.0.1:8000" });
 * const run = track("owner/tool", "1.0.0");
 * const notice = formatUpdateNotice(await checkProject("owner/tool", "1.0.0"));
 * if (notice !== "") console.error(notice);
 * await run.finish();
 * ```
 *
 * @module
 */

// Types of the core that migas' options name, so this entry point documents on its own
export type { Storage } from "../core/storage.ts";
export type { RuntimeName } from "../core/runtime/mod.ts";
export { type CiInfo, detectCi } from "./ci.ts";
export { createMigas, Migas } from "./client.ts";
export {
  type BreadcrumbOptions,
  DEFAULT_CHECK_INTERVAL_MS,
  DEFAULT_MIGAS_ENDPOINT,
  DEFAULT_MIGAS_TIMEOUT_MS,
  MIGAS_CLIENT_VERSION,
  type MigasLifecycle,
  type MigasLogLevel,
  type MigasOptions,
  type MigasProtocol,
  type MigasStatus,
  OPTED_OUT_MESSAGE,
  QUEUED_MESSAGE,
  type UsageOptions,
} from "./options.ts";
export type { TrackHandle } from "./track.ts";
export {
  detectContainer,
  type EnvironmentOptions,
  type FileExists,
  gatherEnvironment,
  type MigasContainer,
  type MigasEnvironment,
  type MigasUserType,
} from "./environment.ts";
export { formatUpdateNotice } from "./notice.ts";
export type {
  AddProjectResult,
  BreadcrumbResult,
  CheckProjectResult,
  MigasErrorEntry,
  MigasFailure,
  MigasQueueStats,
  UsageResult,
} from "./results.ts";
export {
  addBreadcrumb,
  addProject,
  checkProject,
  getUsage,
  NOT_SETUP_MESSAGE,
  setup,
  track,
} from "./setup.ts";
