/**
 * Starts a reference server process the way a person would (`deno task
 * serve`, or the Node example built into a temporary copy), waits for its
 * listening line, and uses each module's client against it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/core/storage.ts";
import { HonchClient } from "../../src/honch/mod.ts";
import { type CheckProjectResult, createMigas, type MigasFailure } from "../../src/migas/mod.ts";
import { MkStatsClient } from "../../src/mkstats/mod.ts";
import { SERVE_VARIABLES } from "../../examples/_serve_config.ts";
import {
  bundle,
  installed,
  type LocatedRuntime,
  locateRuntime,
  REPOSITORY_ROOT,
  REQUIRE_RUNTIMES,
  requireBinary,
  runChild,
  RUNTIMES,
  startChild,
} from "../_helpers/runtimes.ts";

const START_MS = 60_000;

/** The script `deno task serve` runs. */
const SERVE_SCRIPT = `${REPOSITORY_ROOT}examples/ingest_server.ts`;

/** The Node example's folder, where .ci/run installs its `node_modules`. */
const NODE_EXAMPLE = `${REPOSITORY_ROOT}examples/node`;

let nodeFound: LocatedRuntime | undefined;
/** The Node that runs the Node example (its SQLite store needs `node:sqlite`), found once asked for. */
const nodeRuntime = () => nodeFound ??= locateRuntime(RUNTIMES.nodeSqlite);

/** Which of `packages` the Node example's `node_modules` lacks. */
const lacking = (packages: string[]) =>
  packages.filter((name) => !installed(`${NODE_EXAMPLE}/node_modules/${name}`));

/** Every serve variable empty (so unset), whatever the machine running the tests has set. */
export const CLEARED = Object.fromEntries(SERVE_VARIABLES.map(({ name }) => [name, ""]));

/** A server process started by {@linkcode serveProcess}. */
export interface Served extends AsyncDisposable {
  /** Its origin, from the listening line. */
  base: string;
  /** Everything printed before the listening line. */
  banner: string;
  /** Sends the signal and resolves with the exit code and the whole output. */
  stop(signal: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts `command args` with `env` (every serve variable cleared first) and waits until it listens. */
export async function serveProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<Served> {
  const started = await startChild(command, args, {
    env: { ...CLEARED, NO_COLOR: "1", ...env },
    ready: /^Listening on (http:\/\/127\.0\.0\.1:(\d+)) /m,
    timeoutMs: START_MS,
  });
  let stopped: ReturnType<Served["stop"]> | undefined;
  const stop = (signal: Deno.Signal) => {
    stopped ??= (async () => {
      started.child.kill(signal);
      const { code, stdout, stderr } = await started.ended;
      return { code, stdout, stderr };
    })();
    return stopped;
  };
  const [, base, port] = started.ready;
  assert.notEqual(port, "0", "the real port is printed, not 0");
  return {
    base,
    banner: started.banner,
    stop,
    [Symbol.asyncDispose]: () => stop("SIGKILL").then(),
  };
}

/** Starts `deno task serve`'s script with `env` and waits until it listens. */
export function serveTask(env: Record<string, string>): Promise<Served> {
  return serveProcess(Deno.execPath(), ["run", "-A", SERVE_SCRIPT], env);
}

/** Runs `deno task serve`'s script with `env` to its end, for settings that stop it at once. */
export async function serveTaskFails(
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr, timedOut } = await runChild(
    Deno.execPath(),
    ["run", "-A", SERVE_SCRIPT],
    { env: { ...CLEARED, NO_COLOR: "1", ...env }, timeoutMs: START_MS },
  );
  assert.ok(!timedOut, `serve was still running after ${START_MS} ms: ${stdout}${stderr}`);
  return { code, stdout, stderr };
}

/**
 * The `Deno.test` options of a test of the Node example: ignored when its Node
 * or one of `packages` is missing, unless EDGEWIRE_REQUIRE_RUNTIMES=1 (then
 * it fails); and no resource sanitizer, as for every server process here.
 */
export function nodeExampleTest(
  packages: string[],
): Pick<Deno.TestDefinition, "ignore" | "sanitizeResources"> {
  return {
    ignore: !REQUIRE_RUNTIMES &&
      (nodeRuntime().binary === undefined || lacking(packages).length > 0),
    sanitizeResources: false,
  };
}

/**
 * Builds the Node example into a temporary folder (the bundle, its
 * `package.json` and `server.mjs`, and a link to its `node_modules`), so a
 * test writes nothing into the checkout, and serves it there with Node on
 * port 0 with `env(dir)`. Fails when its Node or one of `packages` is
 * missing. Disposing of it kills the server and removes the folder.
 */
export async function serveNodeExample(
  packages: string[],
  env: (dir: string) => Record<string, string>,
): Promise<Served & { dir: string }> {
  const node = requireBinary(nodeRuntime());
  const missing = lacking(packages);
  assert.deepEqual(missing, [], `examples/node lacks ${missing}; .ci/run runs npm ci there`);
  const built = await bundle(`${NODE_EXAMPLE}/_bundle_entry.ts`, {
    platform: "node",
    output: "dist/edgewire.mjs",
  });
  const { dir } = built;
  let served: Served;
  try {
    for (const file of ["package.json", "server.mjs"]) {
      await Deno.copyFile(`${NODE_EXAMPLE}/${file}`, `${dir}/${file}`);
    }
    await Deno.symlink(`${NODE_EXAMPLE}/node_modules`, `${dir}/node_modules`);
    served = await serveProcess(node, [`${dir}/server.mjs`], { EDGEWIRE_PORT: "0", ...env(dir) });
  } catch (error) {
    await built[Symbol.asyncDispose]();
    throw error;
  }
  return {
    ...served,
    dir,
    async [Symbol.asyncDispose]() {
      try {
        await served[Symbol.asyncDispose]();
      } finally {
        await built[Symbol.asyncDispose]();
      }
    },
  };
}

/** A temporary directory, removed when disposed. */
export async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "edgewire-serve-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

async function adminGet(base: string, path: string, key: string) {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(response.status, 200, `GET ${path}`);
  return await response.json();
}

/** Uses each module's client against the server and reads back what it recorded. */
export async function exercise(
  base: string,
  adminKey: string,
  honchKey: string,
  project: string,
): Promise<CheckProjectResult | MigasFailure> {
  assert.deepEqual(await (await fetch(`${base}/healthz`)).json(), { ok: true });

  const mkstats = new MkStatsClient({
    pluginId: "serve_test",
    pluginVersion: "1.0.0",
    endpoint: `${base}/api`,
    storage: new MemoryStorage(),
  });
  assert.deepEqual(await mkstats.trackEvent("served"), { ok: true });
  const stats = await adminGet(base, "/api/v1/stats/serve_test", adminKey);
  assert.equal(stats.installs, 1);
  assert.deepEqual(stats.events.map((e: { event: string }) => e.event), ["served"]);

  const honch = new HonchClient({
    apiKey: honchKey,
    deviceId: "serve-test",
    deviceModel: "test",
    firmwareVersion: "1.0.0",
    endpoint: base,
    storage: new MemoryStorage(),
  });
  honch.track("served", { n: 1 });
  const flushed = await honch.flush({ deadlineMs: 5000 });
  await honch.shutdown({ deadlineMs: 5000 });
  assert.equal(flushed.remaining, 0, flushed.error?.message ?? "events left queued");
  const { events } = await adminGet(
    base,
    `/api/honch/events?project_key=${honchKey}&limit=100`,
    adminKey,
  );
  assert.ok(events.some((e: { event: string }) => e.event === "served"), JSON.stringify(events));

  const migas = createMigas({
    endpoint: base,
    storage: new MemoryStorage(),
    env: () => undefined,
    lifecycle: {},
  });
  const crumb = await migas.addBreadcrumb(project, "1.0.0", { status: "C", wait: true });
  assert.equal(crumb.success, true, JSON.stringify(crumb));
  const check = await migas.checkProject(project, "1.0.0");
  const usage = await (await fetch(`${base}/api/usage/${project}?start=2020-01-01`)).json();
  assert.equal(usage.hits, 1, JSON.stringify(usage));
  return check;
}
