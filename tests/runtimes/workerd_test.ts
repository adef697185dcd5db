/**
 * Runs every client inside Cloudflare's workerd: `_worker_entry.ts`, bundled
 * for the browser platform by `deno bundle`, is served by real workerd through
 * Miniflare 4 (`npm:miniflare`, which brings the `workerd`
 * binary as an npm package) on 127.0.0.1 with no compatibility flags, so no
 * `nodejs_compat`, no `process`, no `Deno`. A request makes the Worker run
 * `exerciseClients` against the Deno reference server on 127.0.0.1, then the
 * server's records are checked. Workers refuse to compile WebAssembly from
 * bytes, so the proof-of-work handshake must have solved with a TypeScript
 * kernel.
 *
 * Miniflare runs inside this Deno process: Miniflare 4 needs Node 22 or later
 * and the machine's Node is 20, while Deno's npm support runs it as is.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ClientsReport } from "./_all_clients.ts";
import { startReference, verifyRecorded } from "./_reference.ts";
import { bundle, REQUIRE_RUNTIMES } from "../_helpers/runtimes.ts";

/** Miniflare, or why it could not be loaded. */
// Named here rather than in deno.json so that `deno task demo` on a fresh clone
// does not install workerd (about 200 MB) for a test it never runs
// deno-lint-ignore no-import-prefix
const miniflare = await import("npm:miniflare@^4").catch((error: unknown) => error as Error);

/** What the Worker answers: the clients' report and two facts about the runtime. */
interface WorkerAnswer {
  report: ClientsReport;
  /** The error compiling the WebAssembly kernel from bytes raised, or `null` when it compiled. */
  wasmRefused: string | null;
  /** Which of `Deno`, `Bun`, `process` and `Buffer` the Worker's global scope has. */
  nonStandard: string[];
  /** The smallest step of `performance.now()` while the Worker computed; `0` when frozen. */
  clockStepMs: number;
}

async function bundleWorker(): Promise<string> {
  await using built = await bundle(new URL("./_worker_entry.ts", import.meta.url), {
    platform: "browser",
  });
  return await Deno.readTextFile(built.file);
}

Deno.test({
  name: "every client runs unchanged inside workerd and solves the handshake without WebAssembly",
  ignore: miniflare instanceof Error && !REQUIRE_RUNTIMES,
  // Miniflare's child process and sockets belong to Node's compatibility layer
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (miniflare instanceof Error) {
      throw new Error(`Miniflare could not be loaded; .ci/run installs it: ${miniflare.message}`);
    }
    const script = await bundleWorker();
    await using reference = startReference();
    const mf = new miniflare.Miniflare({
      modules: true,
      script,
      // A fixed date, no flags: plain web standards, as deployed Workers get them
      compatibilityDate: "2025-09-01",
      compatibilityFlags: [],
      bindings: { BASE: reference.base },
      host: "127.0.0.1",
      port: 0,
    });
    let answer: WorkerAnswer;
    try {
      const url = await mf.ready;
      assert.equal(url.hostname, "127.0.0.1");
      // A Worker that never answers fails the test instead of stalling the suite
      const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      answer = JSON.parse(text);
    } finally {
      await mf.dispose();
    }

    // JSON drops an undefined `error`; put it back as the report had it
    const { honch } = answer.report;
    const report: ClientsReport = { ...answer.report, honch: { ...honch, error: honch.error } };
    assert.deepEqual(report.runtime, { name: "workerd", version: "" });
    // No nodejs_compat: the clients ran on web standards alone
    assert.deepEqual(answer.nonStandard, []);
    // workerd refuses code generation from bytes, so only TypeScript kernels were measured
    assert.match(answer.wasmRefused ?? "compiled", /disallowed/);
    assert.deepEqual(Object.keys(report.mkstats.rates).sort(), ["ts-compact", "ts-unrolled"]);
    assert.ok(["ts-unrolled", "ts-compact"].includes(report.mkstats.kernel));
    assert.ok(Object.values(report.mkstats.rates).every((rate) => rate > 0 && isFinite(rate)));
    await verifyRecorded(reference.base, report);
    // workerd's clock ticks by whole milliseconds (and a deployed Worker's stands still
    // while it computes), coarser than one calibration job: the rates are quantized and
    // the choice between the two TypeScript kernels may be a tie, so it is shown, not asserted
    console.log(
      `workerd: kernel ${report.mkstats.kernel}, hashes/ms ${
        JSON.stringify(report.mkstats.rates)
      }, performance.now() step ${answer.clockStepMs} ms`,
    );
  },
});
