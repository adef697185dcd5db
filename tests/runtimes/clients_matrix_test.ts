/**
 * The runtime matrix: every client module, bundled once for browsers (so it
 * can use no Deno API), runs under Node 20, Node 22 and Bun against the
 * reference server; and the reference server itself runs under Bun (on its
 * `node:sqlite` store) and serves the clients from Deno and from Node 22.
 * Each run is checked by what the server recorded. A runtime that is not
 * installed makes its test ignored, or failed when EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ClientsReport, exerciseClients } from "./_all_clients.ts";
import { startReference, verifyRecorded } from "./_reference.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const REQUIRED = Deno.env.get("EDGEWIRE_REQUIRE_RUNTIMES") === "1";
const CLIENT_RUN_MS = 120_000;
const SERVER_START_MS = 30_000;
const SERVER_STOP_MS = 10_000;

/** A runtime binary found on this machine, or why it was not. */
interface Runtime {
  /** How the test names it, such as `Node 22`. */
  title: string;
  /** What `detectRuntime()` must report inside it. */
  name: "node" | "bun";
  binary?: string;
  version?: string;
  missing?: string;
}

function probeVersion(binary: string): string | undefined {
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

/** The first candidate that runs and, when `major` is given, has that major version. */
function locate(
  title: string,
  name: Runtime["name"],
  candidates: string[],
  major?: number,
): Runtime {
  const seen: string[] = [];
  for (const binary of candidates) {
    const version = probeVersion(binary);
    if (version === undefined) continue;
    if (major === undefined || Number(version.split(".")[0]) === major) {
      return { title, name, binary, version };
    }
    seen.push(`${binary} is ${version}`);
  }
  const found = seen.length > 0 ? ` (${seen.join(", ")})` : "";
  return { title, name, missing: `No ${title} found${found}; .ci/run installs it` };
}

const NODE20 = locate("Node 20", "node", ["/usr/bin/node", "node"], 20);
const NODE22 = locate("Node 22", "node", [`${ROOT}.tools/node22/node_modules/.bin/node`], 22);
const BUN = locate("Bun", "bun", [`${ROOT}.tools/node_modules/.bin/bun`, "bun"]);

function describe(runtime: Runtime): string {
  return runtime.version ? `${runtime.title} (${runtime.version})` : runtime.title;
}

/** Ignored when a runtime is missing, unless runtimes are required: then it runs and fails. */
function ignored(...runtimes: Runtime[]): boolean {
  return !REQUIRED && runtimes.some((runtime) => runtime.binary === undefined);
}

function binaryOf(runtime: Runtime): string {
  assert.ok(runtime.binary, runtime.missing);
  return runtime.binary;
}

/** Bundles `entry` into a fresh folder; remove the folder when done. */
async function bundle(
  entry: string,
  platform: "browser" | "deno",
): Promise<{ dir: string; file: string }> {
  const dir = await Deno.makeTempDir({ prefix: "edgewire-matrix-" });
  const file = `${dir}/${entry.replace(/\.ts$/, ".mjs")}`;
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      platform,
      "-o",
      file,
      `${ROOT}tests/runtimes/${entry}`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    await Deno.remove(dir, { recursive: true });
    assert.fail(`deno bundle ${entry} failed: ${new TextDecoder().decode(result.stderr)}`);
  }
  return { dir, file };
}

/** The environment a child gets: nothing of the caller's but HOME, TMPDIR and PATH. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["HOME", "TMPDIR", "PATH"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs the clients' bundle under `runtime` against `base` with `label`,
 * killed after {@linkcode CLIENT_RUN_MS}, and returns its report.
 */
async function runClients(runtime: Runtime, base: string, label: string): Promise<ClientsReport> {
  const binary = binaryOf(runtime);
  const { dir, file } = await bundle("_clients_entry.ts", "browser");
  try {
    const child = new Deno.Command(binary, {
      args: [file],
      clearEnv: true,
      env: childEnv({ EDGEWIRE_REFERENCE_URL: base, EDGEWIRE_RUN_LABEL: label }),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), CLIENT_RUN_MS);
    const output = await child.output().finally(() => clearTimeout(timer));
    const stdout = new TextDecoder().decode(output.stdout).trim();
    const stderr = new TextDecoder().decode(output.stderr).trim();
    assert.ok(
      output.success,
      `${describe(runtime)} exited with ${output.code} ${output.signal ?? ""}: ${stderr}`,
    );
    assert.equal(stderr, "", `${describe(runtime)} printed errors`);
    return JSON.parse(stdout.split("\n").at(-1)!) as ClientsReport;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertRuntime(report: ClientsReport, runtime: Runtime, label: string): void {
  assert.equal(report.label, label);
  assert.equal(report.runtime.name, runtime.name);
  assert.equal(report.runtime.version, runtime.version);
}

/** The reference server running under Bun; `stop()` ends it by closing its standard input. */
interface BunReference {
  base: string;
  stop(): Promise<{ code: number; stderr: string }>;
}

async function startBunReference(): Promise<BunReference> {
  const binary = binaryOf(BUN);
  const { dir, file } = await bundle("_bun_server.ts", "deno");
  const child = new Deno.Command(binary, {
    args: [file],
    clearEnv: true,
    env: childEnv({}),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stopping: Promise<{ code: number; stderr: string }> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await child.stdin.close().catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), SERVER_STOP_MS);
      const status = await child.status.finally(() => clearTimeout(timer));
      await lines.cancel().catch(() => {});
      await Deno.remove(dir, { recursive: true });
      return { code: status.code, stderr: await stderr };
    })();
    return stopping;
  };
  try {
    const timer = setTimeout(() => child.kill("SIGKILL"), SERVER_START_MS);
    let text = "";
    try {
      while (!text.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) break;
        text += value;
      }
    } finally {
      clearTimeout(timer);
    }
    const port = JSON.parse(text.split("\n")[0] || "{}").port;
    assert.ok(Number.isInteger(port), `Bun's server did not print its port: ${text}`);
    return { base: `http://127.0.0.1:${port}`, stop };
  } catch (error) {
    const { stderr } = await stop();
    throw new Error(`Bun's server did not start: ${stderr}`, { cause: error });
  }
}

for (const runtime of [NODE20, NODE22, BUN]) {
  Deno.test({
    name: `every client runs unchanged under ${describe(runtime)} against the reference server`,
    ignore: ignored(runtime),
    async fn() {
      await using reference = startReference();
      const label = `${runtime.name}_${runtime.version?.split(".")[0] ?? "missing"}`;
      const report = await runClients(runtime, reference.base, label);
      assertRuntime(report, runtime, label);
      await verifyRecorded(reference.base, report);
    },
  });
}

Deno.test({
  name: `the reference server runs under ${describe(BUN)} and records every client run from Deno`,
  ignore: ignored(BUN),
  async fn() {
    const server = await startBunReference();
    try {
      const report = await exerciseClients(server.base, "deno_on_bun");
      assert.equal(report.runtime.name, "deno");
      await verifyRecorded(server.base, report);
    } finally {
      const { code, stderr } = await server.stop();
      assert.equal(stderr, "", "Bun's server printed errors");
      assert.equal(code, 0, "Bun's server did not stop cleanly");
    }
  },
});

Deno.test({
  name: `the reference server runs under ${describe(BUN)} and records every client run from ${
    describe(NODE22)
  }`,
  ignore: ignored(BUN, NODE22),
  async fn() {
    const server = await startBunReference();
    try {
      const label = "node_22_on_bun";
      const report = await runClients(NODE22, server.base, label);
      assertRuntime(report, NODE22, label);
      await verifyRecorded(server.base, report);
    } finally {
      const { code, stderr } = await server.stop();
      assert.equal(stderr, "", "Bun's server printed errors");
      assert.equal(code, 0, "Bun's server did not stop cleanly");
    }
  },
});
