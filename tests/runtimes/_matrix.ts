/**
 * What the runtime matrix tests share: the Node and Bun binaries they run a
 * browser bundle under, each with the name `detectRuntime()` must report
 * inside it, and running such a bundle to its end for the JSON report it
 * prints last.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  basicEnv,
  bundle,
  describeRuntime,
  type LocatedRuntime,
  locateRuntime,
  requireBinary,
  runChild,
  RUNTIMES,
} from "../_helpers/runtimes.ts";

/** A runtime binary found on this machine, or why it was not, and what `detectRuntime()` must report inside it. */
export interface Runtime extends LocatedRuntime {
  /** What `detectRuntime()` must report inside it. */
  name: "node" | "bun";
}

/** The machine's Node 20. */
export const NODE20: Runtime = { name: "node", ...locateRuntime(RUNTIMES.node20) };
/** The Node 22 .ci/run installs. */
export const NODE22: Runtime = { name: "node", ...locateRuntime(RUNTIMES.node22) };
/** Bun. */
export const BUN: Runtime = { name: "bun", ...locateRuntime(RUNTIMES.bun) };

/** The label a run under `runtime` reports itself with, such as `node_22`. */
export function runLabel(runtime: Runtime): string {
  return `${runtime.name}_${runtime.version?.split(".")[0] ?? "missing"}`;
}

/**
 * Bundles `entry` for browsers, runs it under `runtime` with `env` (and only
 * HOME, TMPDIR and PATH besides), killed after `timeoutMs`, checks it exited
 * with 0 and printed no errors, and returns the JSON its last line of output
 * holds.
 */
export async function runBundled<T>(
  runtime: Runtime,
  entry: URL,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<T> {
  const binary = requireBinary(runtime);
  await using built = await bundle(entry, { platform: "browser" });
  const output = await runChild(binary, [built.file], {
    env: basicEnv(env),
    clearEnv: true,
    timeoutMs,
  });
  const stderr = output.stderr.trim();
  assert.ok(
    output.success,
    `${describeRuntime(runtime)} exited with ${output.code} ${output.signal ?? ""}: ${stderr}`,
  );
  assert.equal(stderr, "", `${describeRuntime(runtime)} printed errors`);
  return JSON.parse(output.stdout.trim().split("\n").at(-1)!) as T;
}
