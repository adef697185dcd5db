/**
 * What the tests that run code inside Cloudflare's workerd share: Miniflare 4
 * (`npm:miniflare`, which brings the `workerd` binary as an npm package),
 * loaded once; the options that ignore such a test when it could not load
 * (unless EDGEWIRE_REQUIRE_RUNTIMES=1); and a Worker bundled from an entry and
 * served on 127.0.0.1 with no compatibility flags, so on web standards alone.
 *
 * Miniflare runs inside this Deno process: Miniflare 4 needs Node 22 or later
 * and the machine's Node is 20, while Deno's npm support runs it as is.
 *
 * @module
 */

import assert from "node:assert/strict";
import { bundle, REQUIRE_RUNTIMES } from "./runtimes.ts";

// Named here rather than in deno.json so that `deno task demo` on a fresh clone
// does not install workerd (about 200 MB) for tests it never runs
// deno-lint-ignore no-import-prefix
const miniflare = await import("npm:miniflare@^4").catch((error: unknown) => error as Error);

/**
 * The options every workerd test passes to `Deno.test`: ignored when Miniflare
 * could not load, unless EDGEWIRE_REQUIRE_RUNTIMES=1 (then it runs and fails);
 * and no sanitizers, since Miniflare's child process and sockets belong to
 * Node's compatibility layer.
 */
export const WORKERD_TEST = {
  ignore: miniflare instanceof Error && !REQUIRE_RUNTIMES,
  sanitizeResources: false,
  sanitizeOps: false,
} as const;

/** A Worker served by workerd, from {@linkcode serveWorker}. */
export interface ServedWorker extends AsyncDisposable {
  /** Where it answers, on 127.0.0.1. */
  url: URL;
  /** The bundled script it runs. */
  script: string;
}

/**
 * Bundles `entry` for the browser platform and serves it with workerd through
 * Miniflare on 127.0.0.1, on a free port, with a fixed compatibility date and
 * no compatibility flags: plain web standards, as deployed Workers get them.
 *
 * @param entry The Worker's entry module (its default export handles `fetch`).
 * @param bindings The Worker's environment, as text bindings.
 * @returns The served Worker; dispose of it (`await using`) to stop workerd.
 * @throws {Error} When Miniflare could not be loaded, naming what .ci/run installs.
 * @throws {AssertionError} When the bundle fails or workerd listens elsewhere than 127.0.0.1.
 *
 * @example
 * ```ts
 * import { serveWorker } from "./workerd.ts";
 *
 * const entry = new URL("../runtimes/_worker_server_entry.ts", import.meta.url);
 * await using worker = await serveWorker(entry, { ADMIN_KEY: "a", HONCH_KEY: "phc_a" });
 * console.log((await fetch(new URL("/healthz", worker.url))).status); // 200
 * ```
 */
export async function serveWorker(
  entry: URL,
  bindings: Record<string, string>,
): Promise<ServedWorker> {
  if (miniflare instanceof Error) {
    throw new Error(`Miniflare could not be loaded; .ci/run installs it: ${miniflare.message}`);
  }
  let script: string;
  {
    await using built = await bundle(entry, { platform: "browser" });
    script = await Deno.readTextFile(built.file);
  }
  const mf = new miniflare.Miniflare({
    modules: true,
    script,
    compatibilityDate: "2025-09-01",
    compatibilityFlags: [],
    bindings,
    host: "127.0.0.1",
    port: 0,
  });
  try {
    const url = await mf.ready;
    assert.equal(url.hostname, "127.0.0.1");
    return { url, script, [Symbol.asyncDispose]: () => mf.dispose() };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}
