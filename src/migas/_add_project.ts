/**
 * `addProject`: a use of the project that also learns its latest and bad
 * versions. Over GraphQL it is migas-py 0.4's `add_project` mutation, whose
 * answer also fills the version check cache; over REST, migas-py 0.5's
 * waited breadcrumb followed by a (cached) version check, combined into the
 * same shape.
 *
 * @module
 */

import type { Breadcrumbs } from "./_breadcrumbs.ts";
import { GqlEnum, operation } from "./_graphql.ts";
import { GENERIC_ERROR } from "./_request.ts";
import type { RunContext } from "./_run_context.ts";
import type { MigasSettings } from "./_settings.ts";
import type { VersionChecks } from "./_version_check.ts";
import type { AddProjectResult } from "./results.ts";

/** What `addProject` works with. */
export interface AddProjectParts {
  settings: MigasSettings;
  context: RunContext;
  breadcrumbs: Breadcrumbs;
  checks: VersionChecks;
}

/**
 * Reports a use of `project` at `version`; never rejects.
 *
 * @param parts The client's settings, run context, breadcrumbs and checks.
 * @param project The project, as `owner/repo`.
 * @param version The version in use.
 * @returns The latest version, the bad versions and whether they were cached.
 */
export async function addProject(
  parts: AddProjectParts,
  project: string,
  version: string,
): Promise<AddProjectResult> {
  const { settings, context, breadcrumbs, checks } = parts;
  const named = { project, project_version: version };
  if (settings.protocol === "rest") {
    const crumb = await breadcrumbs.send(project, version, { wait: true });
    const check = await checks.check(project, version);
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
  const environment = await context.environment();
  const query = operation("mutation", "add_project", [["p", [
    ["project", project],
    ["project_version", version],
    ["language", environment.language],
    ["language_version", environment.language_version],
    ["is_ci", environment.is_ci],
    ["status", new GqlEnum("R")],
    ["user_id", await context.user()],
    ["session_id", context.session()],
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
  const answer = await breadcrumbs.deliver(
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
    await checks.remember(project, version, {
      success: true,
      flagged: result.bad_versions.includes(version),
      latest: result.latest_version,
      message: "",
      ...named,
    });
  }
  return result;
}
