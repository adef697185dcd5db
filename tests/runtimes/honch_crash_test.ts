/**
 * Honch's error hook under real crashes: a browser bundle of
 * `_honch_crash.ts` dies of an uncaught exception, an unhandled rejection
 * and an error thrown while its module runs, under Deno, Node 20 and Bun,
 * once without the hook and once with it. With the hook the program must
 * print the same error and exit with the same code, and its file storage
 * must hold the `$crash`, which the next start then sends to the reference
 * server. A missing Node or Bun makes its test ignored, or failed when
 * EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { HonchClient } from "../../src/honch/mod.ts";
import { privateFileStorage } from "../../src/core/runtime/mod.ts";
import { createServer } from "../../src/server/mod.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const REQUIRED = Deno.env.get("EDGEWIRE_REQUIRE_RUNTIMES") === "1";
const PROJECT_KEY = "phc_crash_test";
const ADMIN_KEY = "admin-key-for-crash-tests";
const CHILD_MS = 60_000;

type Mode = "exception" | "rejection" | "module";

/** What each mode throws, and how the hook labels it. */
const EXPECTED: Record<Mode, { name: string; message: string; source: string }> = {
  exception: { name: "TypeError", message: "disk full at sector 7", source: "exception" },
  rejection: {
    name: "RangeError",
    message: "depth 12 is out of range",
    source: "unhandled_rejection",
  },
  // An ES module that throws while it runs rejects its evaluation promise
  module: { name: "TypeError", message: "disk full at sector 7", source: "unhandled_rejection" },
};

interface Runtime {
  title: string;
  /** The command that runs a script file, or why there is none. */
  command?: string[];
  missing?: string;
}

function probe(binary: string): string | undefined {
  try {
    const { success, stdout } = new Deno.Command(binary, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return success ? new TextDecoder().decode(stdout).trim().replace(/^v/, "") : undefined;
  } catch {
    return undefined;
  }
}

function locate(title: string, candidates: string[], major?: number): Runtime {
  for (const binary of candidates) {
    const version = probe(binary);
    if (version === undefined) continue;
    if (major === undefined || Number(version.split(".")[0]) === major) {
      return { title: `${title} (${version})`, command: [binary] };
    }
  }
  return { title, missing: `No ${title} found; .ci/run installs it` };
}

const DENO: Runtime = { title: "Deno", command: [Deno.execPath(), "run", "-A", "--no-config"] };
const NODE20 = locate("Node 20", ["/usr/bin/node", "node"], 20);
const BUN = locate("Bun", [`${ROOT}.tools/node_modules/.bin/bun`, "bun"]);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  crashes: Record<string, unknown>[];
}

/** The `$crash` events the file storage at `path` holds in its Honch queue. */
async function storedCrashes(path: string): Promise<Record<string, unknown>[]> {
  let file: Record<string, string>;
  try {
    file = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const queue = JSON.parse(file["honch:queue"] ?? '{"items":[]}');
  return (queue.items as { name: string; properties: Record<string, unknown> }[])
    .filter((item) => item.name === "$crash")
    .map((item) => item.properties);
}

async function runCrash(
  runtime: Runtime,
  bundle: string,
  state: string,
  mode: Mode,
  hook: boolean,
): Promise<Outcome> {
  const [binary, ...args] = runtime.command!;
  const output = await new Deno.Command(binary, {
    args: [...args, bundle],
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      NO_COLOR: "1",
      HONCH_CRASH_STATE: state,
      HONCH_CRASH_MODE: mode,
      HONCH_CRASH_HOOK: hook ? "1" : "0",
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CHILD_MS),
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
    crashes: await storedCrashes(state),
  };
}

/** Stderr without its stack frame lines. */
function withoutFrames(stderr: string): string[] {
  return stderr.split("\n").filter((line) => !/^\s+at /.test(line));
}

/** Sends what `state` holds to a fresh reference server and returns the `$crash` it stored. */
async function resendFrom(state: string): Promise<Record<string, unknown>[]> {
  const server = createServer({
    store: ":memory:",
    adminKey: ADMIN_KEY,
    honch: { projectKeys: [PROJECT_KEY] },
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const base = `http://127.0.0.1:${http.addr.port}`;
  try {
    const storage = privateFileStorage(state);
    assert.ok(storage, "Deno keeps files with -A");
    const client = new HonchClient({
      apiKey: PROJECT_KEY,
      deviceId: "dev_crash",
      deviceModel: "crash-test",
      firmwareVersion: "1.0.0",
      endpointUrl: base,
      storage,
      flushMinIntervalMs: 0,
    });
    await client.ready();
    const result = await client.flush({ deadlineMs: 10_000 });
    assert.equal(result.remaining, 0);
    await client.shutdown();
    const response = await fetch(
      `${base}/api/honch/events?project_key=${PROJECT_KEY}&limit=1000`,
      { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
    );
    assert.equal(response.status, 200);
    const { events } = await response.json() as {
      events: { event: string; properties: Record<string, unknown> }[];
    };
    return events.filter((event) => event.event === "$crash").map((event) => event.properties);
  } finally {
    await http.shutdown();
    await server.close();
  }
}

async function checkRuntime(runtime: Runtime): Promise<void> {
  assert.ok(runtime.command, runtime.missing);
  const dir = await Deno.makeTempDir({ prefix: "edgewire-honch-crash-" });
  try {
    const bundle = `${dir}/crash.mjs`;
    const bundled = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "-o",
        bundle,
        `${ROOT}tests/runtimes/_honch_crash.ts`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(bundled.success, new TextDecoder().decode(bundled.stderr));
    for (const mode of ["exception", "rejection", "module"] as const) {
      const expected = EXPECTED[mode];
      const label = `${runtime.title}, ${mode}`;
      const plain = await runCrash(runtime, bundle, `${dir}/${mode}-plain/state.json`, mode, false);
      const state = `${dir}/${mode}-hooked/state.json`;
      const hooked = await runCrash(runtime, bundle, state, mode, true);
      assert.equal(plain.stdout, "ready\n", `${label}: the program got to its crash`);
      assert.equal(hooked.stdout, "ready\n", `${label}: the hooked program got to its crash`);
      assert.notEqual(plain.code, 0, `${label}: the crash fails the program`);
      assert.equal(hooked.code, plain.code, `${label}: the same exit code with the hook`);
      assert.match(plain.stderr, new RegExp(expected.message), `${label}: the error is printed`);
      if (runtime === BUN && mode === "module") {
        // Once anything reads the stack of an error thrown while the entry module runs, Bun
        // prints that error without its module-level frame; the rest is unchanged
        assert.deepEqual(withoutFrames(hooked.stderr), withoutFrames(plain.stderr), label);
      } else {
        assert.equal(hooked.stderr, plain.stderr, `${label}: the same printout with the hook`);
      }
      assert.deepEqual(plain.crashes, [], `${label}: nothing recorded without the hook`);
      assert.equal(hooked.crashes.length, 1, `${label}: one $crash persisted`);
      const [crash] = hooked.crashes;
      assert.equal(crash.name, expected.name, label);
      assert.equal(crash.message, expected.message, label);
      assert.equal(crash.source, expected.source, label);
      assert.match(String(crash.backtrace).split("\n")[0], /failDeep|crash\.mjs/, label);
      if (mode === "exception") {
        const [sent] = await resendFrom(state);
        assert.ok(sent, `${label}: the next start sends the crash`);
        assert.equal(sent.name, expected.name);
        assert.equal(sent.message, expected.message);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("under Deno a crash keeps its printout and exit code and the hook persists a $crash", () =>
  checkRuntime(DENO));

Deno.test({
  name: "under Node 20 a crash keeps its printout and exit code and the hook persists a $crash",
  ignore: !REQUIRED && NODE20.command === undefined,
  fn: () => checkRuntime(NODE20),
});

Deno.test({
  name: "under Bun a crash keeps its printout and exit code and the hook persists a $crash",
  ignore: !REQUIRED && BUN.command === undefined,
  fn: () => checkRuntime(BUN),
});
