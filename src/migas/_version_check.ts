/**
 * Version checks (`check_project`) and their cache: an answer is kept in
 * storage per project and reused for `checkIntervalMs`, served stale (with
 * `cached: true`) while the server cannot be reached, and concurrent checks
 * of one project and version share one request.
 *
 * @module
 */

import { operation } from "./_graphql.ts";
import { filterResponse, GENERIC_ERROR, postGraphql } from "./_request.ts";
import type { MigasSettings } from "./_settings.ts";
import type { CheckProjectResult } from "./results.ts";

interface CachedCheck {
  at: number;
  version: string;
  result: CheckProjectResult;
}

const CHECK_KEY = "migas:check:";

/** The version checks of one client. */
export class VersionChecks {
  readonly #settings: MigasSettings;
  readonly #pending = new Map<string, Promise<CheckProjectResult>>();

  /** @param settings The client's settings. */
  constructor(settings: MigasSettings) {
    this.#settings = settings;
  }

  /** Checks a version, from the cache when fresh; concurrent calls share one request. */
  check(project: string, version: string): Promise<CheckProjectResult> {
    const key = `${project}\u0000${version}`;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#check(project, version).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Keeps an answer (from a check or `add_project`) for the next check. */
  async remember(project: string, version: string, result: CheckProjectResult): Promise<void> {
    const { cached: _cached, errors: _errors, ...plain } = result;
    const entry: CachedCheck = { at: this.#settings.now(), version, result: plain };
    try {
      await this.#settings.storage.set(CHECK_KEY + project, JSON.stringify(entry));
    } catch (error) {
      this.#settings.log("DEBUG", `Cannot cache the check of ${project}: ${String(error)}`);
    }
  }

  async #check(project: string, version: string): Promise<CheckProjectResult> {
    const { storage, now, checkIntervalMs, log } = this.#settings;
    const named = { project, project_version: version };
    let kept: CachedCheck | undefined;
    try {
      const text = await storage.get(CHECK_KEY + project);
      kept = text === undefined ? undefined : JSON.parse(text) as CachedCheck;
    } catch (error) {
      log("DEBUG", `Cannot read the cached check of ${project}: ${String(error)}`);
    }
    const usable = kept !== undefined && kept.version === version ? kept : undefined;
    if (usable !== undefined && now() - usable.at < checkIntervalMs) {
      return { ...usable.result, cached: true };
    }
    const query = operation("query", "check_project", [
      ["project", project],
      ["project_version", version],
    ], ["success", "flagged", "latest", "message"]);
    const fallback = { success: false, flagged: false, latest: null, message: GENERIC_ERROR };
    const answer = filterResponse(
      await postGraphql(this.#settings, query),
      "check_project",
      fallback,
    );
    const result: CheckProjectResult = { ...fallback, ...answer, ...named };
    if (result.success) {
      await this.remember(project, version, result);
      return result;
    }
    // A stale answer is still a better notice than none while the server is away
    if (usable !== undefined) return { ...usable.result, cached: true };
    return result;
  }
}
