/**
 * What the tests that run code inside Cloudflare's workerd share: Miniflare 4
 * (`npm:miniflare`, which brings the `workerd` binary as an npm package),
 * loaded once; the options that ignore such a test when it could not load
 * (unless EDGEWIRE_REQUIRE_RUNTIMES=1); a Worker bundled from an entry and
 * served on 127.0.0.1 with no compatibility flags, so on web standards alone;
 * and, for a test file of a D1 store, one workerd with a fresh D1 database
 * for each test.
 *
 * Miniflare runs inside this Deno process: Miniflare 4 needs Node 22 or later
 * and the machine's Node is 20, while Deno's npm support runs it as is.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { D1Database } from "../../src/server/d1/mod.ts";
import { bundle, REQUIRE_RUNTIMES } from "./runtimes.ts";
import { D1_BRIDGE_WORKER, D1Bridge } from "./_d1_bridge.ts";

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

/** A D1 database no test used before, from {@linkcode D1Databases.fresh}. */
export interface FreshD1 {
  /** The database, reached over HTTP through a Worker that runs each statement on its binding. */
  db: D1Database;
  /**
   * The same database through Miniflare's own binding proxy: slower, a round trip for every
   * `prepare()` and `bind()`, for checking what the bridge returns against it.
   *
   * @returns The binding.
   */
  proxy(): Promise<D1Database>;
}

/** The D1 databases of one test file, from {@linkcode startD1}. */
export interface D1Databases extends AsyncDisposable {
  /**
   * Hands out a database no one used yet, checked to hold no table.
   *
   * @returns The database.
   * @throws {AssertionError} When every database was handed out, naming the count to raise,
   * or when it is not empty.
   */
  fresh(): Promise<FreshD1>;
  /**
   * Stops workerd and removes its databases; later calls reject.
   *
   * @returns Once workerd is gone.
   */
  stop(): Promise<void>;
}

/**
 * Starts workerd through Miniflare once for a test file, with `count` empty
 * in-memory D1 databases (bindings `DB0`, `DB1`, …, about 3 ms of startup
 * each) and a Worker that runs statements on them for this process (see
 * `_d1_bridge.ts`), so each test takes a fresh database without starting
 * workerd again. Call it at the module's top level, not inside a test, whose
 * resource check would count workerd, and stop it in the file's last test;
 * when that test does not run, Miniflare stops workerd as the process exits.
 *
 * @param count How many databases the file's tests take in all.
 * @returns The databases; stop them (or `await using`) to end workerd.
 * @throws {Error} When Miniflare could not be loaded, naming what .ci/run installs.
 *
 * @example
 * ```ts
 * import { startD1 } from "./workerd.ts";
 *
 * await using databases = await startD1(2);
 * const { db } = await databases.fresh();
 * console.log(await db.prepare("SELECT ? AS one").bind(1).first()); // { one: 1 }
 * ```
 */
export async function startD1(count: number): Promise<D1Databases> {
  if (miniflare instanceof Error) {
    throw new Error(`Miniflare could not be loaded; .ci/run installs it: ${miniflare.message}`);
  }
  const names = Array.from({ length: count }, (_, index) => `DB${index}`);
  const mf = new miniflare.Miniflare({
    modules: true,
    script: D1_BRIDGE_WORKER,
    compatibilityDate: "2025-09-01",
    d1Databases: names,
    host: "127.0.0.1",
    port: 0,
  });
  let url: URL;
  try {
    url = await mf.ready;
    assert.equal(url.hostname, "127.0.0.1");
  } catch (error) {
    await mf.dispose();
    throw error;
  }
  let handed = 0;
  let stopped: Promise<void> | undefined;
  const stop = () => stopped ??= mf.dispose();
  return {
    async fresh() {
      assert.ok(
        handed < count,
        `All ${count} D1 databases of this file were handed out: pass startD1 a larger count`,
      );
      const binding = names[handed++];
      const db = new D1Bridge(url, binding);
      const { results = [] } = await db.prepare(
        "SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
      ).all();
      assert.deepEqual(results, [], `D1 database ${binding} is not empty`);
      return { db, proxy: () => mf.getD1Database(binding) };
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
