/**
 * The Emitter client's runtime matrix: `_emitter_exercise.ts` (connect,
 * keygen from the master key, subscribe plainly and in a share group, publish
 * to itself, history) bundled for browsers runs under Node 22 and Bun, inside
 * workerd (Miniflare, no compatibility flags) and in a Chromium page from
 * another origin, each over the runtime's own `WebSocket`, against the
 * package's broker (`createServer()` under `Deno.serve` on 127.0.0.1 port 0;
 * `EDGEWIRE_EMITTER_BROKER=fake` swaps in the client tests' fake broker).
 * Each run is checked by its report and by what the broker saw. A runtime that is not installed makes
 * its test ignored, or failed when EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { EmitterReport } from "./_emitter_exercise.ts";
import type { EmitterPageReport } from "./_emitter_page.ts";
import { BROKER_KIND, type EmitterUnderTest, startEmitterBroker } from "./_emitter_broker.ts";
import { BUN, NODE22, runBundled, runLabel } from "./_matrix.ts";
import { describeRuntime, ignoredUnlessRequired } from "../_helpers/runtimes.ts";
import { WORKERD_TEST } from "../_helpers/workerd.ts";
import { CHROMIUM, RUN_MS, runInChromium, runInWorkerd } from "./_client_runs.ts";

const AGAINST = BROKER_KIND === "fake" ? "the fake broker" : "the package's broker";

/** Checks one run's report, then what the broker saw of it. */
async function verify(broker: EmitterUnderTest, report: EmitterReport, label: string) {
  const channel = `matrix/${label}/`;
  const text = JSON.stringify({ label, hello: "emitter" });
  assert.equal(report.label, label);
  assert.equal(report.channel, channel);
  assert.deepEqual(report.granted, [channel, `$share/workers/${channel}`]);
  assert.deepEqual(report.plain, { channel, text });
  assert.deepEqual(report.grouped, { channel, text });
  assert.deepEqual(report.history, { ids: 1, messages: [{ channel, text }] });
  assert.deepEqual(report.errors, []);
  await broker.verify(label);
}

for (const runtime of [NODE22, BUN]) {
  Deno.test({
    name: `the Emitter client runs unchanged under ${describeRuntime(runtime)} against ${AGAINST}`,
    ignore: ignoredUnlessRequired(runtime),
    async fn() {
      await using broker = await startEmitterBroker();
      const label = runLabel(runtime);
      const report = await runBundled<EmitterReport>(
        runtime,
        new URL("./_emitter_entry.ts", import.meta.url),
        {
          EDGEWIRE_EMITTER_URL: broker.url,
          EDGEWIRE_EMITTER_SECRET: broker.secret,
          EDGEWIRE_RUN_LABEL: label,
        },
        RUN_MS,
      );
      assert.equal(report.runtime.name, runtime.name);
      assert.equal(report.runtime.version, runtime.version);
      await verify(broker, report, label);
    },
  });
}

Deno.test({
  name:
    `the Emitter client runs unchanged inside workerd, on its own WebSocket, against ${AGAINST}`,
  ...WORKERD_TEST,
  async fn() {
    await using broker = await startEmitterBroker();
    const answer = await runInWorkerd<{ report: EmitterReport; nonStandard: string[] }>(
      new URL("./_emitter_worker.ts", import.meta.url),
      {
        URL: broker.url,
        SECRET: broker.secret,
      },
    );
    assert.deepEqual(answer.report.runtime, { name: "workerd", version: "" });
    assert.deepEqual(answer.nonStandard, []);
    await verify(broker, answer.report, "workerd");
  },
});

Deno.test({
  name: `the Emitter client runs in ${
    CHROMIUM.version?.split(" ").slice(0, 2).join(" ") ?? "Chromium"
  } from a page of another origin against ${AGAINST}`,
  ignore: ignoredUnlessRequired(CHROMIUM),
  async fn() {
    await using broker = await startEmitterBroker();
    const result = await runInChromium<EmitterPageReport>(
      new URL("./_emitter_page.ts", import.meta.url),
      "Emitter client in Chromium",
      {
        url: broker.url,
        secret: broker.secret,
        label: "chromium",
      },
    );
    assert.equal(result.report?.runtime.name, "browser");
    await verify(broker, result.report!, "chromium");
  },
});
