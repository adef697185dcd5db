/**
 * Usage counts (`get_usage`): breadcrumbs, or distinct users, of a project
 * between two dates, asked as migas-py asks them.
 *
 * @module
 */

import { operation } from "./_graphql.ts";
import { filterResponse, GENERIC_ERROR, postGraphql } from "./_request.ts";
import type { MigasSettings } from "./_settings.ts";
import type { UsageOptions } from "./options.ts";
import type { UsageResult } from "./results.ts";

function dateText(value: string | Date): string {
  if (typeof value === "string") return value;
  return value.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Asks the server for the project's usage; never rejects.
 *
 * @param settings The client's settings.
 * @param project The project, as `owner/repo`.
 * @param start The first day, as `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` or a Date.
 * @param end The end; the server's now when `undefined`.
 * @param options Whether to count distinct users.
 * @returns The count, or the fallback with the reason of a failure.
 */
export async function getUsage(
  settings: MigasSettings,
  project: string,
  start: string | Date,
  end: string | Date | undefined,
  options: UsageOptions,
): Promise<UsageResult> {
  const unique = options.unique ?? false;
  const query = operation("query", "get_usage", [
    ["project", project],
    ["start", dateText(start)],
    ["end", end === undefined ? undefined : dateText(end)],
    ["unique", unique],
  ]);
  const fallback: UsageResult = { success: false, hits: 0, unique, message: GENERIC_ERROR };
  return filterResponse(await postGraphql(settings, query), "get_usage", fallback);
}
