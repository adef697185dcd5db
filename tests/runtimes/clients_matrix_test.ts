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
import { BUN, NODE20, NODE22, runBundled, runLabel, type Runtime } from "./_matrix.ts";
import {
  basicEnv,
  bundle,
  describeRuntime,
  ignoredUnlessRequired,
  requireBinary,
  startChild,
  type StartedChild,
} from "../_helpers/runtimes.ts";

const CLIENT_RUN_MS = 120_000;
const SERVER_START_MS = 30_000;
const SERVER_STOP_MS = 10_000;

/**
 * Runs the clients' bundle under `runtime` against `base` with `label`,
 * killed after {@linkcode CLIENT_RUN_MS}, and returns its report.
 */
function runClients(runtime: Runtime, base: string, label: string): Promise<ClientsReport> {
  return runBundled(
    runtime,
    new URL("./_clients_entry.ts", import.meta.url),
    { EDGEWIRE_REFERENCE_URL: base, EDGEWIRE_RUN_LABEL: label },
    CLIENT_RUN_MS,
  );
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
  const binary = requireBinary(BUN);
  const built = await bundle(new URL("./_bun_server.ts", import.meta.url), { platform: "deno" });
  let started: StartedChild;
  try {
    started = await startChild(binary, [built.file], {
      env: basicEnv(),
      clearEnv: true,
      stdin: "piped",
      ready: /^(.*)\n/,
      timeoutMs: SERVER_START_MS,
    });
  } catch (error) {
    await built[Symbol.asyncDispose]();
    throw new Error("Bun's server did not start", { cause: error });
  }
  let stopping: Promise<{ code: number; stderr: string }> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await started.child.stdin.close().catch(() => {});
      const timer = setTimeout(() => started.child.kill("SIGKILL"), SERVER_STOP_MS);
      const { code, stderr } = await started.ended.finally(() => clearTimeout(timer));
      await built[Symbol.asyncDispose]();
      return { code, stderr };
    })();
    return stopping;
  };
  try {
    const port = JSON.parse(started.ready[1] || "{}").port;
    assert.ok(Number.isInteger(port), `Bun's server did not print its port: ${started.banner}`);
    return { base: `http://127.0.0.1:${port}`, stop };
  } catch (error) {
    const { stderr } = await stop();
    throw new Error(`Bun's server did not start: ${stderr}`, { cause: error });
  }
}

for (const runtime of [NODE20, NODE22, BUN]) {
  Deno.test({
    name: `every client runs unchanged under ${
      describeRuntime(runtime)
    } against the reference server`,
    ignore: ignoredUnlessRequired(runtime),
    async fn() {
      await using reference = startReference();
      const label = runLabel(runtime);
      const report = await runClients(runtime, reference.base, label);
      assertRuntime(report, runtime, label);
      await verifyRecorded(reference.base, report);
    },
  });
}

Deno.test({
  name: `the reference server runs under ${
    describeRuntime(BUN)
  } and records every client run from Deno`,
  ignore: ignoredUnlessRequired(BUN),
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
  name: `the reference server runs under ${
    describeRuntime(BUN)
  } and records every client run from ${describeRuntime(NODE22)}`,
  ignore: ignoredUnlessRequired(BUN, NODE22),
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
