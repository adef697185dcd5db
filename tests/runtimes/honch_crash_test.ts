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
import { BUN, NODE20 } from "./_matrix.ts";
import {
  basicEnv,
  bundle,
  describeRuntime,
  ignoredUnlessRequired,
  type LocatedRuntime,
  requireBinary,
  runChild,
} from "../_helpers/runtimes.ts";

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

const DENO: LocatedRuntime = { title: "Deno", binary: Deno.execPath(), version: Deno.version.deno };

/** What comes before the script file on the command line: Deno needs `run` and permissions. */
function scriptArgs(runtime: LocatedRuntime): string[] {
  return runtime === DENO ? ["run", "-A", "--no-config"] : [];
}

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
  runtime: LocatedRuntime,
  script: string,
  state: string,
  mode: Mode,
  hook: boolean,
): Promise<Outcome> {
  const output = await runChild(requireBinary(runtime), [...scriptArgs(runtime), script], {
    env: basicEnv({
      NO_COLOR: "1",
      HONCH_CRASH_STATE: state,
      HONCH_CRASH_MODE: mode,
      HONCH_CRASH_HOOK: hook ? "1" : "0",
    }),
    clearEnv: true,
    timeoutMs: CHILD_MS,
  });
  return {
    code: output.code,
    stdout: output.stdout,
    stderr: output.stderr,
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
      endpoint: base,
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

async function checkRuntime(runtime: LocatedRuntime): Promise<void> {
  requireBinary(runtime);
  await using built = await bundle(new URL("./_honch_crash.ts", import.meta.url), {
    platform: "browser",
  });
  const { dir, file: script } = built;
  for (const mode of ["exception", "rejection", "module"] as const) {
    const expected = EXPECTED[mode];
    const label = `${describeRuntime(runtime)}, ${mode}`;
    const plain = await runCrash(runtime, script, `${dir}/${mode}-plain/state.json`, mode, false);
    const state = `${dir}/${mode}-hooked/state.json`;
    const hooked = await runCrash(runtime, script, state, mode, true);
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
}

Deno.test("under Deno a crash keeps its printout and exit code and the hook persists a $crash", () =>
  checkRuntime(DENO));

Deno.test({
  name: "under Node 20 a crash keeps its printout and exit code and the hook persists a $crash",
  ignore: ignoredUnlessRequired(NODE20),
  fn: () => checkRuntime(NODE20),
});

Deno.test({
  name: "under Bun a crash keeps its printout and exit code and the hook persists a $crash",
  ignore: ignoredUnlessRequired(BUN),
  fn: () => checkRuntime(BUN),
});
