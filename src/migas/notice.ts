/**
 * The one line a CLI prints after a version check: a newer release, or a
 * flagged version to move away from.
 *
 * @module
 */

import { compareVersions } from "./_version.ts";
import type { AddProjectResult, CheckProjectResult, MigasFailure } from "./results.ts";

/**
 * Words the answer of a version check for the user: `A newer version X of P
 * is available (you have Y)`, `Version Y of P is flagged: upgrade to X`, or
 * `""` when there is nothing to say (a failed check, an up-to-date or newer
 * version).
 *
 * @param result What {@linkcode Migas.checkProject} or {@linkcode Migas.addProject} answered.
 * @returns The notice, or `""`.
 *
 * @example
 * ```ts
 * import { formatUpdateNotice } from "@edgewire/sdk/migas";
 *
 * const notice = formatUpdateNotice({
 *   success: true, flagged: false, latest: "1.2.0", message: "",
 *   project: "owner/tool", project_version: "1.1.0",
 * });
 * console.log(notice); // "A newer version 1.2.0 of owner/tool is available (you have 1.1.0)"
 * ```
 */
export function formatUpdateNotice(
  result: CheckProjectResult | AddProjectResult | MigasFailure,
): string {
  if (!result.success) return "";
  const { project, project_version: version } = result;
  const [latest, flagged] = "flagged" in result
    ? [result.latest, result.flagged]
    : [result.latest_version, result.bad_versions.includes(result.project_version)];
  const usable = typeof latest === "string" && latest !== "" && latest !== "unknown";
  if (flagged) {
    const target = usable && compareVersions(latest, version) !== 0 ? latest : "a newer version";
    return `Version ${version} of ${project} is flagged: upgrade to ${target}`;
  }
  if (usable && compareVersions(latest, version) > 0) {
    return `A newer version ${latest} of ${project} is available (you have ${version})`;
  }
  return "";
}
