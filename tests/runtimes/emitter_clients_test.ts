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
// Named here rather than in deno.json, as the other runtime tests do, so that a fresh
// clone does not install workerd or the browser driver for tests it never runs
// deno-lint-ignore no-import-prefix
import { chromium } from "npm:playwright-core@^1.65";
import type { EmitterReport } from "./_emitter_exercise.ts";
import type { EmitterPageReport } from "./_emitter_page.ts";
import { BROKER_KIND, type EmitterUnderTest, startEmitterBroker } from "./_emitter_broker.ts";
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
const AGAINST = BROKER_KIND === "fake" ? "the fake broker" : "the package's broker";
const CHROMIUM_EXECUTABLE = Deno.env.get("EDGEWIRE_CHROMIUM") ?? "/usr/bin/chromium";

const CHROMIUM = locateRuntime({ title: "Chromium", candidates: [CHROMIUM_EXECUTABLE] });

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
    let answer: { report: EmitterReport; nonStandard: string[] };
    {
      await using worker = await serveWorker(new URL("./_emitter_worker.ts", import.meta.url), {
        URL: broker.url,
        SECRET: broker.secret,
      });
      const response = await fetch(worker.url, { signal: AbortSignal.timeout(RUN_MS) });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      answer = JSON.parse(text);
    }
    assert.deepEqual(answer.report.runtime, { name: "workerd", version: "" });
    assert.deepEqual(answer.nonStandard, []);
    await verify(broker, answer.report, "workerd");
  },
});

const HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Emitter client in Chromium</title>
<script type="module" src="/_emitter_page.js"></script></head>
<body><pre id="report"></pre></body>
</html>
`;

Deno.test({
  name: `the Emitter client runs in ${
    CHROMIUM.version?.split(" ").slice(0, 2).join(" ") ?? "Chromium"
  } from a page of another origin against ${AGAINST}`,
  ignore: ignoredUnlessRequired(CHROMIUM),
  async fn() {
    let script: string;
    {
      await using built = await bundle(new URL("./_emitter_page.ts", import.meta.url), {
        platform: "browser",
        format: "esm",
      });
      script = await Deno.readTextFile(built.file);
    }
    await using broker = await startEmitterBroker();
    await using pages = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/_emitter_page.js") {
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
    let result: EmitterPageReport;
    try {
      const page = await context.newPage();
      const logged: string[] = [];
      page.on("console", (message) => logged.push(`${message.type()}: ${message.text()}`));
      page.on("pageerror", (error) => logged.push(`pageerror: ${error.message}`));
      const query = new URLSearchParams({
        url: broker.url,
        secret: broker.secret,
        label: "chromium",
      });
      await page.goto(`http://127.0.0.1:${pages.addr.port}/index.html?${query}`);
      await page.waitForSelector("body[data-status]", { timeout: RUN_MS });
      result = JSON.parse((await page.textContent("#report")) ?? "{}");
      assert.equal(result.error, undefined, `The page failed; its console:\n${logged.join("\n")}`);
    } finally {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    }
    assert.equal(result.report?.runtime.name, "browser");
    await verify(broker, result.report!, "chromium");
  },
});
