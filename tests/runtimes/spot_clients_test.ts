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
// Named here rather than in deno.json, as the other runtime tests do, so that a fresh
// clone does not install workerd or the browser driver for tests it never runs
// deno-lint-ignore no-import-prefix
import { chromium } from "npm:playwright-core@^1.65";
import { createServer, MemoryStore } from "../../src/server/mod.ts";
import { matrixAnswer, matrixText, type SpotReport } from "./_spot_exercise.ts";
import type { SpotPageReport } from "./_spot_page.ts";
import { BUN, NODE22, runBundled, runLabel } from "./_matrix.ts";
import {
  bundle,
  describeRuntime,
  ignoredUnlessRequired,
  locateRuntime,
  requireBinary,
} from "../_helpers/runtimes.ts";
import { serveWorker, WORKERD_TEST } from "../_helpers/workerd.ts";

const RUN_MS = 120_000;
const CHROMIUM_EXECUTABLE = Deno.env.get("EDGEWIRE_CHROMIUM") ?? "/usr/bin/chromium";
const CHROMIUM = locateRuntime({ title: "Chromium", candidates: [CHROMIUM_EXECUTABLE] });
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
    let answer: { report: SpotReport; nonStandard: string[] };
    {
      await using worker = await serveWorker(new URL("./_spot_worker.ts", import.meta.url), {
        URL: relay.url,
      });
      const response = await fetch(worker.url, { signal: AbortSignal.timeout(RUN_MS) });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      answer = JSON.parse(text);
    }
    assert.deepEqual(answer.report.runtime, { name: "workerd", version: "" });
    assert.deepEqual(answer.nonStandard, []);
    await verify(relay, answer.report, "workerd");
  },
});

const HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Spot client in Chromium</title>
<script type="module" src="/_spot_page.js"></script></head>
<body><pre id="report"></pre></body>
</html>
`;

Deno.test({
  name: `the Spot client runs in ${
    CHROMIUM.version?.split(" ").slice(0, 2).join(" ") ?? "Chromium"
  } from a page of another origin against the package's relay`,
  ignore: ignoredUnlessRequired(CHROMIUM),
  async fn() {
    let script: string;
    {
      await using built = await bundle(new URL("./_spot_page.ts", import.meta.url), {
        platform: "browser",
        format: "esm",
      });
      script = await Deno.readTextFile(built.file);
    }
    await using relay = startRelay();
    await using pages = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/_spot_page.js") {
        return new Response(script, { headers: { "content-type": "text/javascript" } });
      }
      if (pathname === "/index.html") {
        return new Response(HTML, { headers: { "content-type": "text/html; charset=utf-8" } });
      }
      return new Response(null, { status: pathname === "/favicon.ico" ? 204 : 404 });
    });
    const profile = await Deno.makeTempDir({ prefix: "edgewire-chromium-profile-" });
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: requireBinary(CHROMIUM),
      headless: true,
      chromiumSandbox: false,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
      timeout: 30_000,
    });
    let result: SpotPageReport;
    try {
      const page = await context.newPage();
      const logged: string[] = [];
      page.on("console", (message) => logged.push(`${message.type()}: ${message.text()}`));
      page.on("pageerror", (error) => logged.push(`pageerror: ${error.message}`));
      const query = new URLSearchParams({ url: relay.url, label: "chromium" });
      await page.goto(`http://127.0.0.1:${pages.addr.port}/index.html?${query}`);
      await page.waitForSelector("body[data-status]", { timeout: RUN_MS });
      result = JSON.parse((await page.textContent("#report")) ?? "{}");
      assert.equal(result.error, undefined, `The page failed; its console:\n${logged.join("\n")}`);
    } finally {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    }
    assert.equal(result.report?.runtime.name, "browser");
    await verify(relay, result.report!, "chromium");
  },
});
