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
import { type PageReport, reportOnPage } from "./_page_report.ts";

/** What the page writes into `#report`. */
export type SpotPageReport = PageReport<SpotReport>;

await reportOnPage(["url", "label"], (url, label) => exerciseSpot(url, label));
