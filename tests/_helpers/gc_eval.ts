/**
 * Runs a script in a child Deno started with `--expose-gc`, for tests that
 * measure heap bytes: the child can collect garbage before each reading, so
 * only what is still held is counted.
 *
 * @module
 */

import assert from "node:assert/strict";

/**
 * Runs `script` with `deno eval --v8-flags=--expose-gc` and returns what it
 * printed; its errors go to this process's stderr.
 *
 * @param script The module source; `globalThis.gc()` is defined in it.
 * @returns Its standard output, trimmed.
 * @throws {AssertionError} When the child exits with another code than 0.
 * @example
 * ```ts
 * import { evalWithGc } from "./gc_eval.ts";
 *
 * console.log(await evalWithGc("globalThis.gc(); console.log(typeof globalThis.gc)")); // "function"
 * ```
 */
export async function evalWithGc(script: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(output.code, 0);
  return new TextDecoder().decode(output.stdout).trim();
}
