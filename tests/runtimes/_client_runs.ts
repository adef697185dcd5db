/**
 * How the Emitter and Spot client tests run an exercise in workerd and in
 * Chromium: a Worker answering the exercise's JSON, and a bundled page
 * served from another origin whose report the test reads back.
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here rather than in deno.json, as the other runtime tests do, so that a fresh
// clone does not install the browser driver for tests it never runs
// deno-lint-ignore no-import-prefix
import { type BrowserContext, chromium } from "npm:playwright-core@^1.65";
import { bundle, locateRuntime, requireBinary } from "../_helpers/runtimes.ts";
import { serveWorker } from "../_helpers/workerd.ts";

/** How long one exercise may run in a Worker or a page. */
export const RUN_MS = 120_000;

/** Chromium, from `EDGEWIRE_CHROMIUM` or Debian's path. */
export const CHROMIUM = locateRuntime({
  title: "Chromium",
  candidates: [Deno.env.get("EDGEWIRE_CHROMIUM") ?? "/usr/bin/chromium"],
});

/** A Chromium launched by {@linkcode launchChromium}; disposing of it closes it and its profile. */
export interface LaunchedChromium extends AsyncDisposable {
  /** The browser's one context, on a new empty profile. */
  context: BrowserContext;
}

/**
 * Launches Chromium headless on a new temporary profile, as every Chromium
 * test of the clients and the dashboard does.
 *
 * @param viewport The pages' size, Playwright's default when omitted.
 * @returns The browser context; dispose of it to close Chromium and remove the profile.
 */
export async function launchChromium(
  viewport?: { width: number; height: number },
): Promise<LaunchedChromium> {
  const profile = await Deno.makeTempDir({ prefix: "edgewire-chromium-profile-" });
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: requireBinary(CHROMIUM),
      headless: true,
      chromiumSandbox: false,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
      timeout: 30_000,
      viewport,
    });
    return {
      context,
      async [Symbol.asyncDispose]() {
        await context.close();
        await Deno.remove(profile, { recursive: true });
      },
    };
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw error;
  }
}

/**
 * Runs a Worker entry with `bindings` and returns the JSON it answers.
 *
 * @param entry The Worker module.
 * @param bindings Its text bindings.
 * @returns The parsed answer.
 */
export async function runInWorkerd<T>(entry: URL, bindings: Record<string, string>): Promise<T> {
  await using worker = await serveWorker(entry, bindings);
  const response = await fetch(worker.url, { signal: AbortSignal.timeout(RUN_MS) });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return JSON.parse(text);
}

/**
 * Bundles `entry` for the browser, serves it in a page titled `title` from
 * its own origin, opens it in Chromium with `query`, and returns the report
 * the page writes into `#report` once `body[data-status]` is set.
 *
 * @param entry The page's module.
 * @param title The page's title.
 * @param query The page's query parameters.
 * @returns The report; its `error` is asserted absent, with the page's console.
 */
export async function runInChromium<T extends { error?: string }>(
  entry: URL,
  title: string,
  query: Record<string, string>,
): Promise<T> {
  let script: string;
  {
    await using built = await bundle(entry, { platform: "browser", format: "esm" });
    script = await Deno.readTextFile(built.file);
  }
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title>
<script type="module" src="/page.js"></script></head>
<body><pre id="report"></pre></body>
</html>
`;
  await using pages = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/page.js") {
      return new Response(script, { headers: { "content-type": "text/javascript" } });
    }
    if (pathname === "/index.html") {
      return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    return new Response(null, { status: pathname === "/favicon.ico" ? 204 : 404 });
  });
  await using browser = await launchChromium();
  const page = await browser.context.newPage();
  const logged: string[] = [];
  page.on("console", (message) => logged.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => logged.push(`pageerror: ${error.message}`));
  await page.goto(
    `http://127.0.0.1:${pages.addr.port}/index.html?${new URLSearchParams(query)}`,
  );
  await page.waitForSelector("body[data-status]", { timeout: RUN_MS });
  const result: T = JSON.parse((await page.textContent("#report")) ?? "{}");
  assert.equal(result.error, undefined, `The page failed; its console:\n${logged.join("\n")}`);
  return result;
}
