import { MemoryStorage } from "../../src/core/storage.ts";
import assert from "node:assert/strict";
import { createMigas } from "../../src/migas/client.ts";
import type { MigasLifecycle } from "../../src/migas/options.ts";
import { envOf, fakeFetch, migasResponse } from "./_helpers.ts";

function fakeLifecycle() {
  const hooks: {
    exit?: () => Promise<unknown>;
    error?: (error: unknown) => Promise<unknown>;
    signal?: (signal: string) => Promise<unknown>;
  } = {};
  const lifecycle: MigasLifecycle = {
    onExit: (callback) => void (hooks.exit = callback),
    onError: (callback) => void (hooks.error = callback),
    onSignal: (callback) => void (hooks.signal = callback),
  };
  return { lifecycle, hooks };
}

function setupTracked() {
  const { fetch, seen } = fakeFetch(() => migasResponse({ success: true, message: "" }, 202));
  const { lifecycle, hooks } = fakeLifecycle();
  const migas = createMigas({
    fileExists: () => false,
    storage: new MemoryStorage(),
    endpoint: "http://migas.test",
    env: envOf({}),
    fetch,
    lifecycle,
    logger: () => {},
  });
  const procs = () => seen.map((request) => JSON.parse(request.body).proc);
  return { migas, hooks, procs };
}

class ConfigError extends Error {}

Deno.test("a run that ends normally sends R at start and one C at exit", async () => {
  const { migas, hooks, procs } = setupTracked();
  const run = migas.track("owner/tool", "1.0.0");
  await run.started;
  await hooks.exit!();
  await hooks.exit!();
  assert.deepEqual(procs(), [
    { status: "R", status_desc: "Started" },
    { status: "C", status_desc: "Completed" },
  ]);
});

Deno.test("a run that throws sends one F with the error's class and message", async () => {
  const { migas, hooks, procs } = setupTracked();
  migas.track("owner/tool", "1.0.0");
  await hooks.error!(new ConfigError("missing 'input' option"));
  await hooks.exit!();
  assert.deepEqual(procs(), [
    { status: "R", status_desc: "Started" },
    {
      status: "F",
      status_desc: "Errored",
      error_type: "ConfigError",
      error_desc: "missing 'input' option",
    },
  ]);
});

Deno.test("a run stopped by SIGTERM sends one S and nothing at the exit that follows", async () => {
  const { migas, hooks, procs } = setupTracked();
  migas.track("owner/tool", "1.0.0");
  await hooks.signal!("SIGTERM");
  await hooks.exit!();
  assert.deepEqual(procs(), [
    { status: "R", status_desc: "Started" },
    { status: "S", status_desc: "Terminated (SIGTERM)" },
  ]);
});

Deno.test("a run stopped by SIGINT is suspended, in migas-py's words", async () => {
  const { migas, hooks, procs } = setupTracked();
  migas.track("owner/tool", "1.0.0");
  await hooks.signal!("SIGINT");
  assert.deepEqual(procs()[1], { status: "S", status_desc: "Suspended" });
});

Deno.test("tracking a project twice returns the same run and sends one R", async () => {
  const { migas, procs } = setupTracked();
  const first = migas.track("owner/tool", "1.0.0");
  const second = migas.track("owner/tool", "1.0.0");
  assert.equal(first, second);
  await first.finish();
  await second.finish(new Error("late"));
  assert.deepEqual(procs().map((proc) => proc.status), ["R", "C"]);
});

Deno.test("with the default process hooks, finish() on the handle sends the final breadcrumb", async () => {
  const { fetch, seen } = fakeFetch();
  const migas = createMigas({
    fileExists: () => false,
    storage: new MemoryStorage(),
    endpoint: "http://migas.test",
    env: envOf({}),
    fetch,
    logger: () => {},
  });
  const run = migas.track("owner/tool", "1.0.0");
  await run.finish(new RangeError("too big"));
  assert.deepEqual(seen.map((request) => JSON.parse(request.body).proc.error_type), [
    undefined,
    "RangeError",
  ]);
});
