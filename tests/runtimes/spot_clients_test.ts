/**
 * The Spot client's runtime matrix: `_spot_exercise.ts` (two clients, each
 * with its key and IDCard, through the relay: an encrypted query answered by
 * the other, the relay's clock, a blob stored, fetched back and another
 * deleted) bundled for browsers runs under Node 22 and Bun, inside workerd
 * (Miniflare, no compatibility flags) and in a Chromium page from another
 * origin, each over the runtime's own `WebSocket`, against the package's
 * relay (`createServer()` under `Deno.serve` on 127.0.0.1 port 0, path
 * `/_websocket`). Each run is checked by its report and by what the relay
 * kept: the blob is in the store under the asker's address, and encrypted.
 * A runtime that is not installed makes its test ignored, or failed when
 * EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer, MemoryStore } from "../../src/server/mod.ts";
import { matrixAnswer, matrixText, type SpotReport } from "./_spot_exercise.ts";
import type { SpotPageReport } from "./_spot_page.ts";
import { BUN, NODE22, runBundled, runLabel } from "./_matrix.ts";
import { describeRuntime, ignoredUnlessRequired } from "../_helpers/runtimes.ts";
import { WORKERD_TEST } from "../_helpers/workerd.ts";
import { CHROMIUM, RUN_MS, runInChromium, runInWorkerd } from "./_client_runs.ts";

const KEY_ADDRESS = /^k\.[A-Za-z0-9_-]{43}$/;

/** The package's relay for one test; dispose of it to stop it. */
interface RelayUnderTest extends AsyncDisposable {
  /** Its WebSocket URL, `ws://127.0.0.1:<port>/_websocket`. */
  url: string;
  /** Checks what the relay kept of the run `report` describes; throws when it differs. */
  verify(report: SpotReport): Promise<void>;
}

function startRelay(): RelayUnderTest {
  const store = new MemoryStore();
  const server = createServer({ store });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  return {
    url: `ws://127.0.0.1:${http.addr.port}/_websocket`,
    async verify(report) {
      const stored = await store.getSpotBlob(report.asker, report.blob.key);
      assert.ok(stored !== undefined, "the blob is kept under the asker's address");
      const visible = new TextDecoder("latin1").decode(stored);
      assert.ok(!visible.includes(report.blob.fetched), "the relay keeps the blob encrypted");
      assert.equal(await store.getSpotBlob(report.asker, report.deleted.key), undefined);
      assert.equal(await store.getSpotBlob(report.answerer, report.blob.key), undefined);
      // Both clients closed before they reported; the relay notices within moments
      for (let i = 0; i < 200 && server.spot.connectionCount > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(server.spot.connectionCount, 0, "both connections are gone");
      assert.equal(server.spot.idCardCount, 2, "the relay saw both IDCards");
    },
    async [Symbol.asyncDispose]() {
      await server.close();
      await http.shutdown();
    },
  };
}

/** Checks one run's report, then what the relay kept of it. */
async function verify(relay: RelayUnderTest, report: SpotReport, label: string) {
  const text = matrixText(label);
  assert.equal(report.label, label);
  assert.match(report.asker, KEY_ADDRESS);
  assert.match(report.answerer, KEY_ADDRESS);
  assert.notEqual(report.asker, report.answerer);
  assert.deepEqual(report.received, { text, fromAsker: true, bottled: true, encrypted: true });
  assert.equal(report.answer, matrixAnswer(text));
  assert.ok(report.clockSkewMs < 5000, `the relay's clock is ${report.clockSkewMs} ms off`);
  assert.deepEqual(report.blob, { key: `matrix-${label}`, fetched: text });
  assert.deepEqual(report.deleted, { key: `matrix-${label}-deleted`, fetchError: "remote_error" });
  for (const backend of Object.values(report.backends)) {
    assert.ok(["webcrypto", "noble"].includes(backend), backend);
  }
  assert.deepEqual(report.errors, []);
  await relay.verify(report);
}

for (const runtime of [NODE22, BUN]) {
  Deno.test({
    name: `the Spot client runs unchanged under ${
      describeRuntime(runtime)
    } against the package's relay`,
    ignore: ignoredUnlessRequired(runtime),
    async fn() {
      await using relay = startRelay();
      const label = runLabel(runtime);
      const report = await runBundled<SpotReport>(
        runtime,
        new URL("./_spot_entry.ts", import.meta.url),
        { EDGEWIRE_SPOT_URL: relay.url, EDGEWIRE_RUN_LABEL: label },
        RUN_MS,
      );
      assert.equal(report.runtime.name, runtime.name);
      assert.equal(report.runtime.version, runtime.version);
      await verify(relay, report, label);
    },
  });
}

Deno.test({
  name: "the Spot client runs unchanged inside workerd, on its own WebSocket, against the relay",
  ...WORKERD_TEST,
  async fn() {
    await using relay = startRelay();
    const answer = await runInWorkerd<{ report: SpotReport; nonStandard: string[] }>(
      new URL("./_spot_worker.ts", import.meta.url),
      {
        URL: relay.url,
      },
    );
    assert.deepEqual(answer.report.runtime, { name: "workerd", version: "" });
    assert.deepEqual(answer.nonStandard, []);
    await verify(relay, answer.report, "workerd");
  },
});

Deno.test({
  name: `the Spot client runs in ${
    CHROMIUM.version?.split(" ").slice(0, 2).join(" ") ?? "Chromium"
  } from a page of another origin against the package's relay`,
  ignore: ignoredUnlessRequired(CHROMIUM),
  async fn() {
    await using relay = startRelay();
    const result = await runInChromium<SpotPageReport>(
      new URL("./_spot_page.ts", import.meta.url),
      "Spot client in Chromium",
      { url: relay.url, label: "chromium" },
    );
    assert.equal(result.report?.runtime.name, "browser");
    await verify(relay, result.report!, "chromium");
  },
});
