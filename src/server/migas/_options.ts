/**
 * Validates the migas options (`ServerOptions.migas`) once, into the
 * settings its routes use: seeded projects, limits and GraphQL bounds.
 *
 * @module
 */

import { fail, integerOption } from "../_option_rules.ts";
import type { MigasServerOptions } from "./options.ts";
import type { MigasProjectSeed, MigasSettings } from "./routes.ts";

function stringList(field: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) fail(field, "an array of strings", value);
  value.forEach((item, index) => {
    if (typeof item !== "string") fail(`${field}[${index}]`, "a string", item);
  });
  return [...value];
}

/**
 * Validates `ServerOptions.migas` into the settings its routes use.
 *
 * @param value The option, or `undefined` for the defaults.
 * @returns The settings.
 * @throws {InvalidArgumentError} When a field breaks its rule, naming it.
 */
export function migasSettings(value: MigasServerOptions | undefined): MigasSettings {
  if (value === undefined) value = {};
  if (typeof value !== "object" || value === null) fail("migas", "an object", value);
  const projectsOption = value.projects ?? [];
  if (!Array.isArray(projectsOption)) {
    fail("migas.projects", "an array of projects", projectsOption);
  }
  const projects = projectsOption.map((entry, index): MigasProjectSeed => {
    const field = `migas.projects[${index}]`;
    if (typeof entry !== "object" || entry === null) fail(field, "an object", entry);
    if (typeof entry.project !== "string" || !entry.project.includes("/")) {
      fail(`${field}.project`, "a string as 'owner/repo'", entry.project);
    }
    if (entry.latestVersion !== undefined && typeof entry.latestVersion !== "string") {
      fail(`${field}.latestVersion`, "a string", entry.latestVersion);
    }
    return {
      project: entry.project,
      latestVersion: entry.latestVersion,
      badVersions: stringList(`${field}.badVersions`, entry.badVersions),
    };
  });
  const rateLimit = value.rateLimit ?? {};
  if (typeof rateLimit !== "object" || rateLimit === null) {
    fail("migas.rateLimit", "an object", rateLimit);
  }
  const maxRequests = rateLimit.maxRequests ?? 1000;
  if (
    typeof maxRequests !== "number" ||
    !(maxRequests === Infinity || (Number.isInteger(maxRequests) && maxRequests >= 1 &&
      maxRequests <= 1_000_000))
  ) {
    fail("migas.rateLimit.maxRequests", "an integer in 1..1000000, or Infinity", maxRequests);
  }
  return {
    projects,
    maxRequestBytes: integerOption(
      "migas.maxRequestBytes",
      value.maxRequestBytes,
      2500,
      1,
      1_048_576,
    ),
    windowMs: integerOption(
      "migas.rateLimit.windowMs",
      rateLimit.windowMs,
      60_000,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxRequests,
    graphql: migasGraphqlSettings(value.graphql),
  };
}

function migasGraphqlSettings(
  value: MigasServerOptions["graphql"],
): MigasSettings["graphql"] {
  if (value === undefined) value = {};
  if (typeof value !== "object" || value === null) fail("migas.graphql", "an object", value);
  const introspection = value.introspection ?? false;
  if (typeof introspection !== "boolean") {
    fail("migas.graphql.introspection", "a boolean", introspection);
  }
  return {
    maxAliases: integerOption("migas.graphql.maxAliases", value.maxAliases, 5, 0, 1000),
    maxDepth: integerOption("migas.graphql.maxDepth", value.maxDepth, 6, 1, 100),
    maxCost: integerOption("migas.graphql.maxCost", value.maxCost, 30, 1, 100_000),
    introspection,
  };
}
