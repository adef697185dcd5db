/**
 * Starts a reference server process the way a person would (`deno task
 * serve`, or the Node example), waits for its listening line, and uses each
 * module's client against it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/core/storage.ts";
import { HonchClient } from "../../src/honch/mod.ts";
import { type CheckProjectResult, createMigas, type MigasFailure } from "../../src/migas/mod.ts";
import { MkStatsClient } from "../../src/mkstats/mod.ts";
import { SERVE_VARIABLES } from "../../examples/_serve_config.ts";
import { startChild } from "../_helpers/runtimes.ts";

const START_MS = 60_000;

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
