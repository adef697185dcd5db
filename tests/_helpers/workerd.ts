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
import type { D1Database } from "../../src/server/d1/mod.ts";
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
  /**
   * One of the Worker's D1 databases, reached from this process: the same
   * database the Worker's binding of that name reads and writes.
   *
   * @param name The binding's name, one of {@linkcode WorkerOptions.d1Databases}.
   * @returns The binding.
   */
  d1(name: string): Promise<D1Database>;
}

/** How {@linkcode serveWorker} runs a Worker, beyond its text bindings. */
export interface WorkerOptions {
  /** The compatibility date (2025-09-01 when omitted). */
  compatibilityDate?: string;
  /** The compatibility flags (none when omitted). */
  compatibilityFlags?: string[];
  /** The names of D1 bindings to give it, each an empty in-memory database. */
  d1Databases?: string[];
}

/**
 * Bundles `entry` for the browser platform and serves it with workerd through
 * Miniflare on 127.0.0.1, on a free port, with a fixed compatibility date and
 * no compatibility flags: plain web standards, as deployed Workers get them.
 *
 * @param entry The Worker's entry module (its default export handles `fetch`).
 * @param bindings The Worker's environment, as text bindings.
 * @param options Its compatibility settings and D1 databases.
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
  options: WorkerOptions = {},
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
    compatibilityDate: options.compatibilityDate ?? "2025-09-01",
    compatibilityFlags: options.compatibilityFlags ?? [],
    bindings,
    d1Databases: options.d1Databases ?? [],
    host: "127.0.0.1",
    port: 0,
  });
  try {
    const url = await mf.ready;
    assert.equal(url.hostname, "127.0.0.1");
    return {
      url,
      script,
      d1: (name) => mf.getD1Database(name),
      [Symbol.asyncDispose]: () => mf.dispose(),
    };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}

/** A D1 database run by workerd, from {@linkcode openD1}. */
export interface ServedD1 extends AsyncDisposable {
  /** Its binding, reached from this process. */
  db: D1Database;
}

/**
 * Starts workerd through Miniflare with one empty in-memory D1 database and
 * a Worker that does nothing, and hands back the database's binding, for
 * tests that drive a D1 store from this process.
 *
 * @returns The database; dispose of it (`await using`) to stop workerd.
 * @throws {Error} When Miniflare could not be loaded, naming what .ci/run installs.
 *
 * @example
 * ```ts
 * import { openD1 } from "./workerd.ts";
 *
 * await using d1 = await openD1();
 * console.log(await d1.db.prepare("SELECT 1 AS one").first()); // { one: 1 }
 * ```
 */
export async function openD1(): Promise<ServedD1> {
  if (miniflare instanceof Error) {
    throw new Error(`Miniflare could not be loaded; .ci/run installs it: ${miniflare.message}`);
  }
  const mf = new miniflare.Miniflare({
    modules: true,
    script: "export default {}",
    compatibilityDate: "2025-09-01",
    d1Databases: ["DB"],
  });
  try {
    return { db: await mf.getD1Database("DB"), [Symbol.asyncDispose]: () => mf.dispose() };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}
