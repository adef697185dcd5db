/**
 * The script of the Spot test's Chromium page, bundled for browsers: it
 * runs `exerciseSpot` of `_spot_exercise.ts` against the relay named by
 * `?url=` (another origin) with the label of `?label=`, and writes
 * `{report}` or `{error}` as JSON into `#report`. `<body data-status>`
 * becomes `done` or `failed`.
 *
 * @module
 */

import { exerciseSpot, type SpotReport } from "./_spot_exercise.ts";

/** What the page writes into `#report`. */
export interface SpotPageReport {
  report?: SpotReport;
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
const result: SpotPageReport = {};
try {
  const [url, label] = ["url", "label"].map((name) => params.get(name) ?? "");
  if (url === "" || label === "") throw new Error("Open this page with ?url=…&label=…");
  result.report = await exerciseSpot(url, label);
} catch (error) {
  result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
const element = page.document.getElementById("report");
if (element !== null) element.textContent = JSON.stringify(result);
page.document.body.dataset.status = result.error === undefined ? "done" : "failed";
