/**
 * A tracked run: an `R` breadcrumb at start and exactly one final
 * breadcrumb, `C` at exit, `F` with the error's class and message on an
 * uncaught error, `S` on a signal, through the lifecycle adapter or the
 * handle; the lifecycle hooks are removed once the final one is sent.
 *
 * @module
 */

import type { BreadcrumbOptions, MigasLifecycle } from "./options.ts";
import type { BreadcrumbResult, MigasFailure } from "./results.ts";

/**
 * A tracked run, from `Migas.track`.
 *
 * @example
 * ```ts
 * import { createMigas, type TrackHandle } from "@edgewire/sdk/migas";
 *
 * const run: TrackHandle = createMigas().track("owner/tool", "1.0.0");
 * await run.finish();
 * ```
 */
export interface TrackHandle {
  /** The project tracked. */
  readonly project: string;
  /** The answer to the `R` breadcrumb sent at start. */
  readonly started: Promise<BreadcrumbResult | MigasFailure>;
  /**
   * Sends the final breadcrumb once: `C` without an error, `F` with the
   * error's class and message. Later calls (and later lifecycle events)
   * answer the first call's result.
   *
   * @param error What ended the run, if it failed.
   * @returns The answer to the final breadcrumb.
   */
  finish(error?: unknown): Promise<BreadcrumbResult | MigasFailure>;
  /**
   * Sends the final breadcrumb once as `S` (suspended), for a signal.
   *
   * @param signal The signal's name.
   * @returns The answer to the final breadcrumb.
   */
  suspend(signal?: string): Promise<BreadcrumbResult | MigasFailure>;
}

/** Sends one breadcrumb, as `Migas.addBreadcrumb` does. */
export type SendBreadcrumb = (
  project: string,
  version: string,
  options: BreadcrumbOptions,
) => Promise<BreadcrumbResult | MigasFailure>;

/**
 * The class name migas records for an error. A set `name` survives
 * minification, which renames classes; a class that leaves it at "Error" is
 * known by its constructor's name instead.
 */
function errorType(error: unknown): string {
  if (error instanceof Error) {
    if (typeof error.name === "string" && error.name !== "" && error.name !== "Error") {
      return error.name;
    }
    const name = error.constructor?.name;
    return name !== undefined && name !== "" ? name : "Error";
  }
  return typeof error;
}

function errorDesc(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts tracking a run: sends the `R` breadcrumb and registers the
 * lifecycle hooks that send the final one.
 *
 * @param send Sends a breadcrumb.
 * @param lifecycle The runtime's exit, error and signal hooks.
 * @param project The project, as `owner/repo`.
 * @param version The version in use.
 * @returns The run's handle.
 *
 * @example
 * ```ts
 * import { startTrack } from "./track.ts";
 *
 * const sent: string[] = [];
 * const run = startTrack(async (_project, _version, options) => {
 *   sent.push(options.status ?? "R");
 *   return { success: true };
 * }, {}, "owner/tool", "1.0.0");
 * await run.finish();
 * console.log(sent); // ["R", "C"]
 * ```
 */
export function startTrack(
  send: SendBreadcrumb,
  lifecycle: MigasLifecycle,
  project: string,
  version: string,
): TrackHandle {
  const started = send(project, version, { status: "R", statusDesc: "Started" });
  let final: Promise<BreadcrumbResult | MigasFailure> | undefined;
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const end = (options: BreadcrumbOptions) => {
    // The start goes first so the server sees R before the final status
    final ??= started.then(() => send(project, version, options)).finally(settle);
    return final;
  };
  const handle: TrackHandle = {
    project,
    started,
    finish: (error?: unknown) =>
      end(
        error === undefined ? { status: "C", statusDesc: "Completed" } : {
          status: "F",
          statusDesc: "Errored",
          errorType: errorType(error),
          errorDesc: errorDesc(error),
        },
      ),
    suspend: (signal = "SIGINT") =>
      end({
        status: "S",
        // migas-py's words: Ctrl-C is a KeyboardInterrupt, other signals a termination
        statusDesc: signal === "SIGINT" ? "Suspended" : `Terminated (${signal})`,
      }),
  };
  const removers = [
    lifecycle.onExit?.(() => handle.finish()),
    lifecycle.onError?.((error) => handle.finish(error ?? new Error("Unknown error"))),
    lifecycle.onSignal?.((signal) => handle.suspend(signal)),
  ];
  // Once the final breadcrumb is out, the program's own exit and signal handling are back
  void settled.then(() => removers.forEach((remove) => typeof remove === "function" && remove()));
  return handle;
}
