/**
 * `Migas`: usage breadcrumbs and version checks for a CLI or library,
 * speaking what migas-py sends to a migas server, over REST (`POST
 * /api/breadcrumb`) or GraphQL (`POST /graphql`). Every call resolves, never
 * rejects, and never takes longer than the timeout; `MIGAS_OPTOUT` and
 * `DO_NOT_TRACK` turn everything off before any id is read or written.
 * Version checks are cached in `storage` and asked at most once per
 * `checkIntervalMs` per project. A breadcrumb that cannot be delivered (a
 * 5xx, 408, 429, timeout, network error, an answer that is not migas') is
 * queued in `storage`, with backoff, and sent by a later call of this run or
 * the next, with the same `Idempotency-Key`; only migas' own refusal drops it.
 *
 * @module
 */

import { processLifecycle } from "../core/runtime/mod.ts";
import { postMigas } from "./_request.ts";
import { addProject } from "./_add_project.ts";
import { BreadcrumbDelivery } from "./_breadcrumb_delivery.ts";
import { Breadcrumbs } from "./_breadcrumbs.ts";
import { RunContext } from "./_run_context.ts";
import { type MigasSettings, optedOut, resolveSettings } from "./_settings.ts";
import { getUsage } from "./_usage.ts";
import { VersionChecks } from "./_version_check.ts";
import {
  type BreadcrumbOptions,
  type MigasOptions,
  type MigasProtocol,
  OPTED_OUT_MESSAGE,
  type UsageOptions,
} from "./options.ts";
import type {
  AddProjectResult,
  BreadcrumbResult,
  CheckProjectResult,
  MigasFailure,
  MigasQueueStats,
  UsageResult,
} from "./results.ts";
import { startTrack, type TrackHandle } from "./track.ts";

function failure(): MigasFailure {
  return { success: false, errors: [{ message: OPTED_OUT_MESSAGE }] };
}

/**
 * The migas client. Create one per process with {@linkcode createMigas}, or
 * use the module functions after {@linkcode setup}.
 *
 * @example A CLI's whole use
 * ```ts
 * import { createMigas, formatUpdateNotice } from "@edgewire/sdk/migas";
 *
 * const migas = createMigas({ endpoint: "http://127.0.0.1:8000", protocol: "graphql" });
 * const run = migas.track("owner/tool", "1.1.0");
 * const notice = formatUpdateNotice(await migas.checkProject("owner/tool", "1.1.0"));
 * if (notice !== "") console.error(notice);
 * await run.finish();
 * ```
 */
export class Migas {
  /** The server's base URL, without a trailing `/` or `/graphql`. */
  readonly endpoint: string;
  /** How breadcrumbs travel. */
  readonly protocol: MigasProtocol;
  /** The deadline of each request, in milliseconds. */
  readonly timeoutMs: number;
  readonly #settings: MigasSettings;
  readonly #context: RunContext;
  readonly #delivery: BreadcrumbDelivery;
  readonly #breadcrumbs: Breadcrumbs;
  readonly #checks: VersionChecks;
  readonly #tracks = new Map<string, TrackHandle>();

  /**
   * Creates a client. Nothing is read, probed or sent until a method is called.
   *
   * @param options The server, the protocol and the platform services.
   * @throws {InvalidArgumentError} When an option has a value the client cannot use.
   */
  constructor(options: MigasOptions = {}) {
    const settings = resolveSettings(options);
    this.#settings = settings;
    this.endpoint = settings.endpoint;
    this.protocol = settings.protocol;
    this.timeoutMs = settings.timeoutMs;
    this.#context = new RunContext(settings);
    // Nothing touches storage until a call finds telemetry on
    this.#delivery = new BreadcrumbDelivery({
      storage: settings.storage,
      maxQueued: settings.maxQueuedEvents,
      backoff: settings.backoff,
      now: settings.now,
      random: options.random,
      post: (crumb, timeoutMs) =>
        postMigas(settings, settings.endpoint + crumb.path, crumb.body, crumb.key, timeoutMs),
    });
    this.#breadcrumbs = new Breadcrumbs(settings, this.#context, this.#delivery);
    this.#checks = new VersionChecks(settings);
  }

  /**
   * Whether telemetry is disabled by `MIGAS_OPTOUT` (any non-empty value)
   * or `DO_NOT_TRACK` (any value but `""`, `"0"` and `"false"`). Read at
   * every call, so a user can opt out at any time.
   *
   * @returns `true` when nothing may be sent.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ env: (name) => (name === "DO_NOT_TRACK" ? "1" : undefined) });
   * console.log(migas.disabled()); // true
   * ```
   */
  disabled(): boolean {
    return optedOut(this.#settings.env);
  }

  /**
   * Sends one breadcrumb: the project, its version, the environment, and
   * the process status.
   *
   * @param project The project, as `owner/repo`.
   * @param version The version in use.
   * @param options The status, its description, the error, and whether to wait for storage.
   * @returns The server's answer, the fallback with the reason of a failure, or
   * {@linkcode MigasFailure} when telemetry is disabled.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * await migas.addBreadcrumb("owner/tool", "1.0.0", { status: "C", statusDesc: "Completed" });
   * ```
   */
  async addBreadcrumb(
    project: string,
    version: string,
    options: BreadcrumbOptions = {},
  ): Promise<BreadcrumbResult | MigasFailure> {
    if (this.disabled()) return failure();
    return await this.#breadcrumbs.send(project, version, options);
  }

  /**
   * Reports a use of the project and learns its latest and bad versions.
   * Over GraphQL this is migas-py 0.4's `add_project`; over REST, migas-py
   * 0.5's waited breadcrumb followed by a (cached) {@linkcode checkProject},
   * combined into the same shape.
   *
   * @param project The project, as `owner/repo`.
   * @param version The version in use.
   * @returns The latest version, the bad versions and whether they were cached, or
   * {@linkcode MigasFailure} when telemetry is disabled.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000", protocol: "graphql" });
   * const { latest_version } = await migas.addProject("owner/tool", "1.0.0") as { latest_version?: string };
   * ```
   */
  async addProject(project: string, version: string): Promise<AddProjectResult | MigasFailure> {
    if (this.disabled()) return failure();
    return await addProject(
      {
        settings: this.#settings,
        context: this.#context,
        breadcrumbs: this.#breadcrumbs,
        checks: this.#checks,
      },
      project,
      version,
    );
  }

  /**
   * Asks for the project's latest version and whether `version` is flagged,
   * at most once per `checkIntervalMs` per project: meanwhile the kept
   * answer is served with `cached: true`, as it is when the server cannot
   * be reached. Concurrent calls share one request.
   *
   * @param project The project, as `owner/repo`.
   * @param version The version in use.
   * @returns Whether the version is flagged and the latest version, or
   * {@linkcode MigasFailure} when telemetry is disabled.
   *
   * @example
   * ```ts
   * import { createMigas, formatUpdateNotice } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * console.log(formatUpdateNotice(await migas.checkProject("owner/tool", "1.0.0")));
   * ```
   */
  async checkProject(
    project: string,
    version: string,
  ): Promise<CheckProjectResult | MigasFailure> {
    if (this.disabled()) return failure();
    return await this.#checks.check(project, version);
  }

  /**
   * Counts the project's breadcrumbs (or distinct users) between two dates.
   *
   * @param project The project, as `owner/repo`.
   * @param start The first day, as `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` or a Date.
   * @param end The end; the server's now when left out.
   * @param options Whether to count distinct users.
   * @returns The count, or {@linkcode MigasFailure} when telemetry is disabled.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * const usage = await migas.getUsage("owner/tool", "2024-01-01", undefined, { unique: true });
   * ```
   */
  async getUsage(
    project: string,
    start: string | Date,
    end?: string | Date,
    options: UsageOptions = {},
  ): Promise<UsageResult | MigasFailure> {
    if (this.disabled()) return failure();
    return await getUsage(this.#settings, project, start, end, options);
  }

  /**
   * Sends the breadcrumbs queued in `storage` by earlier failed calls (of
   * this run or an earlier one), oldest first, until the queue is empty or
   * a failure starts the backoff. Sends and touches nothing when telemetry
   * is disabled. Never rejects.
   *
   * @returns The queue's state afterwards.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * const { queued } = await migas.flush();
   * ```
   */
  async flush(): Promise<MigasQueueStats> {
    if (this.disabled()) return this.queueStats();
    try {
      await this.#delivery.flush();
    } catch (error) {
      this.#settings.log("DEBUG", `Cannot send the queued breadcrumbs: ${String(error)}`);
    }
    return this.queueStats();
  }

  /**
   * The breadcrumb queue's state: breadcrumbs queued and sent, what was
   * dropped and why (migas' refusals as `rejected`), and the remaining backoff.
   *
   * @returns A snapshot of the counters.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * console.log(createMigas().queueStats().queued); // 0
   * ```
   */
  queueStats(): MigasQueueStats {
    return this.#delivery.stats();
  }

  /**
   * Tracks a run: an `R` breadcrumb now and exactly one final breadcrumb,
   * `C` at exit, `F` with the error's class and message on an uncaught
   * error, `S` on a signal, through the `lifecycle` adapter or the handle.
   * A second call for the same project returns the same handle.
   *
   * @param project The project, as `owner/repo`.
   * @param version The version in use.
   * @returns The run's handle.
   *
   * @example
   * ```ts
   * import { createMigas } from "@edgewire/sdk/migas";
   *
   * const migas = createMigas({ endpoint: "http://127.0.0.1:8000" });
   * const run = migas.track("owner/tool", "1.0.0");
   * try {
   *   // the tool's work
   *   await run.finish();
   * } catch (error) {
   *   await run.finish(error);
   *   throw error;
   * }
   * ```
   */
  track(project: string, version: string): TrackHandle {
    let handle = this.#tracks.get(project);
    if (handle === undefined) {
      const lifecycle = this.#settings.options.lifecycle ?? processLifecycle();
      handle = startTrack(
        (name, at, options) => this.addBreadcrumb(name, at, options),
        lifecycle,
        project,
        version,
      );
      this.#tracks.set(project, handle);
    }
    return handle;
  }
}

/**
 * Creates a {@linkcode Migas} client.
 *
 * @param options The server, the protocol and the platform services.
 * @returns The client.
 * @throws {InvalidArgumentError} When an option has a value the client cannot use.
 *
 * @example
 * ```ts
 * import { createMigas } from "@edgewire/sdk/migas";
 *
 * const migas = createMigas({ endpoint: "http://127.0.0.1:8000", protocol: "rest", timeoutMs: 2000 });
 * await migas.addBreadcrumb("owner/tool", "1.0.0");
 * ```
 */
export function createMigas(options: MigasOptions = {}): Migas {
  return new Migas(options);
}
