/**
 * Every client module in a real Chromium page, driven by `playwright-core`
 * inside Deno: the page script (`_chromium_page.ts`, bundled for browsers) is
 * served from one origin and calls the reference server on another, so CORS
 * must work. One page may compile WebAssembly and must pick the WebAssembly
 * kernel; the other forbids it with a Content Security Policy and must fall
 * back to a TypeScript kernel and still solve the handshake. Each page's
 * result is screenshotted under `.artifacts/chromium/`. Chromium comes from
 * the system (`/usr/bin/chromium`, or `EDGEWIRE_CHROMIUM`); when it is
 * missing the test is ignored, or failed when EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here rather than in deno.json so that `deno task demo` on a fresh clone
// does not install the browser driver for a test it never runs
// deno-lint-ignore no-import-prefix
import { type BrowserContext, chromium } from "npm:playwright-core@^1.65";
import type { PageReport } from "./_chromium_page.ts";
import { startReference, verifyRecorded } from "./_reference.ts";
import {
  bundle,
  ignoredUnlessRequired,
  locateRuntime,
  REPOSITORY_ROOT as ROOT,
} from "../_helpers/runtimes.ts";

const EXECUTABLE = Deno.env.get("EDGEWIRE_CHROMIUM") ?? "/usr/bin/chromium";
const ARTIFACTS = `${ROOT}.artifacts/chromium`;
const PAGE_RUN_MS = 120_000;
const LAUNCH_MS = 30_000;
/** Playwright adds `--headless` (`headless: true`) and `--user-data-dir` (a new empty profile). */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const TS_KERNELS = ["ts-unrolled", "ts-compact"];
const PAGE_ENTRY = "_chromium_page";

const CHROMIUM = locateRuntime({ title: "Chromium", candidates: [EXECUTABLE] });
// "Chromium 156.0.8078.108 built on Debian …" names itself in the test as "Chromium 156.0.8078.108"
const VERSION = CHROMIUM.version?.split(" ").slice(0, 2).join(" ");

/**
 * Bundles the page script for browsers, split as a site would deploy it
 * (the kernels the package imports lazily land in chunks of their own), and
 * returns each file's text by name.
 */
async function bundlePage(): Promise<Map<string, string>> {
  await using built = await bundle(new URL(`./${PAGE_ENTRY}.ts`, import.meta.url), {
    platform: "browser",
    format: "esm",
    codeSplitting: true,
  });
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(built.dir)) {
    if (entry.isFile) files.set(entry.name, await Deno.readTextFile(`${built.dir}/${entry.name}`));
  }
  assert.ok(files.has(`${PAGE_ENTRY}.js`), [...files.keys()].join());
  return files;
}

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Edgewire clients in Chromium</title>
<script type="module" src="/${PAGE_ENTRY}.js"></script>
<style>body { font: 16px sans-serif; margin: 2em; } pre { font-size: 14px; }</style>
</head>
<body>
<h1>Edgewire clients in Chromium</h1>
<p id="page"></p>
<pre id="summary">Running…</pre>
<pre id="report" hidden></pre>
</body>
</html>
`;

/** The pages' origin: a static server on its own port, so the reference server is cross-origin. */
function servePages(files: Map<string, string>): { origin: string } & AsyncDisposable {
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { pathname } = new URL(request.url);
    const script = files.get(pathname.slice(1));
    if (script !== undefined) {
      return new Response(script, { headers: { "content-type": "text/javascript" } });
    }
    const html = { "content-type": "text/html; charset=utf-8" };
    if (pathname === "/index.html") return new Response(HTML, { headers: html });
    if (pathname === "/strict.html") {
      // No 'wasm-unsafe-eval': the page may run its own scripts but compile no WebAssembly.
      return new Response(HTML, {
        headers: { ...html, "content-security-policy": "script-src 'self'" },
      });
    }
    return new Response(null, { status: pathname === "/favicon.ico" ? 204 : 404 });
  });
  return {
    origin: `http://127.0.0.1:${http.addr.port}`,
    async [Symbol.asyncDispose]() {
      await http.shutdown();
    },
  };
}

/** Opens `url`, waits for the page's verdict, screenshots it, and returns its report. */
async function runPage(
  context: BrowserContext,
  url: string,
  screenshot: string,
): Promise<PageReport> {
  const page = await context.newPage();
  const logged: string[] = [];
  page.on("console", (message) => logged.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => logged.push(`pageerror: ${error.message}`));
  try {
    await page.goto(url);
    await page.waitForSelector("body[data-status]", { timeout: PAGE_RUN_MS });
    await page.screenshot({ path: screenshot, fullPage: true });
    const status = await page.getAttribute("body", "data-status");
    const text = await page.textContent("#report");
    assert.ok(text, `The page wrote no report; its console: ${logged.join("\n")}`);
    const report = JSON.parse(text) as PageReport;
    assert.equal(
      status,
      "done",
      `The page failed: ${report.error}; its console:\n${logged.join("\n")}`,
    );
    return report;
  } finally {
    await page.close();
  }
}

Deno.test({
  name: `every client runs in ${
    VERSION ?? "Chromium"
  } from another origin, with WebAssembly and under a CSP that forbids it`,
  ignore: ignoredUnlessRequired(CHROMIUM),
  async fn() {
    assert.ok(VERSION, CHROMIUM.missing ?? "Chromium is missing");
    await using reference = startReference();
    await using pages = servePages(await bundlePage());
    assert.notEqual(new URL(pages.origin).origin, new URL(reference.base).origin);
    await Deno.mkdir(ARTIFACTS, { recursive: true });

    const profile = await Deno.makeTempDir({ prefix: "edgewire-chromium-profile-" });
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: EXECUTABLE,
        headless: true,
        chromiumSandbox: false,
        args: FLAGS,
        timeout: LAUNCH_MS,
        viewport: { width: 1000, height: 320 },
      });
      const query = (label: string) => `?base=${encodeURIComponent(reference.base)}&label=${label}`;

      const open = await runPage(
        context,
        `${pages.origin}/index.html${query("chromium")}`,
        `${ARTIFACTS}/webassembly.png`,
      );
      assert.deepEqual(open.wasm, { compiled: true, violations: [] });
      assert.equal(open.clients?.runtime.name, "browser");
      // The WebAssembly kernel loaded and was measured; which kernel wins is the calibration's
      // call, and a loaded machine can blur a few-millisecond measurement
      assert.ok("wasm-simd" in open.clients.mkstats.rates, JSON.stringify(open.clients.mkstats));
      await verifyRecorded(reference.base, open.clients, 1);

      const strict = await runPage(
        context,
        `${pages.origin}/strict.html${query("chromium_csp")}`,
        `${ARTIFACTS}/csp-without-webassembly.png`,
      );
      // The policy really blocked WebAssembly: compiling failed and was reported as a violation
      assert.equal(strict.wasm.compiled, false);
      assert.match(strict.wasm.error ?? "", /CompileError.*WebAssembly/);
      assert.ok(strict.wasm.violations.includes("script-src"), strict.wasm.violations.join());
      assert.equal(strict.clients?.runtime.name, "browser");
      assert.ok(TS_KERNELS.includes(strict.clients.mkstats.kernel), strict.clients.mkstats.kernel);
      assert.ok(!("wasm-simd" in strict.clients.mkstats.rates));
      await verifyRecorded(reference.base, strict.clients, 2);
    } finally {
      await context?.close();
      await Deno.remove(profile, { recursive: true });
    }
  },
});
