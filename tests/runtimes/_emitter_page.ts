/**
 * The script of the Emitter test's Chromium page, bundled for browsers: it
 * runs `exerciseEmitter` of `_emitter_exercise.ts` against the broker named by
 * `?url=` (another origin) with the master key of `?secret=` and the label of
 * `?label=`, and writes `{report}` or `{error}` as JSON into `#report`.
 * `<body data-status>` becomes `done` or `failed`.
 *
 * @module
 */

import { type EmitterReport, exerciseEmitter } from "./_emitter_exercise.ts";

/** What the page writes into `#report`. */
export interface EmitterPageReport {
  report?: EmitterReport;
  error?: string;
}

/** The little of the DOM this script touches, typed here so it checks without the DOM library. */
interface PageGlobals {
  location: { search: string };
  document: {
    body: { dataset: Record<string, string> };
    getElementById(id: string): { textContent: string | null } | null;
  };
}

const page = globalThis as unknown as PageGlobals;
const params = new URLSearchParams(page.location.search);
const result: EmitterPageReport = {};
try {
  const [url, secret, label] = ["url", "secret", "label"].map((name) => params.get(name) ?? "");
  if (url === "" || secret === "" || label === "") {
    throw new Error("Open this page with ?url=…&secret=…&label=…");
  }
  result.report = await exerciseEmitter(url, secret, label);
} catch (error) {
  result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
const element = page.document.getElementById("report");
if (element !== null) element.textContent = JSON.stringify(result);
page.document.body.dataset.status = result.error === undefined ? "done" : "failed";
