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
 * @module
 */

import assert from "node:assert/strict";
import type { ClientsReport } from "./_all_clients.ts";
import { startReference, verifyRecorded } from "./_reference.ts";
import { serveWorker, WORKERD_TEST } from "../_helpers/workerd.ts";

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

Deno.test({
  name: "every client runs unchanged inside workerd and solves the handshake without WebAssembly",
  ...WORKERD_TEST,
  async fn() {
    await using reference = startReference();
    let answer: WorkerAnswer;
    {
      await using worker = await serveWorker(new URL("./_worker_entry.ts", import.meta.url), {
        BASE: reference.base,
      });
      // A Worker that never answers fails the test instead of stalling the suite
      const response = await fetch(worker.url, { signal: AbortSignal.timeout(120_000) });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      answer = JSON.parse(text);
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
