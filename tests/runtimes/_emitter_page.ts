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
import { type PageReport, reportOnPage } from "./_page_report.ts";

/** What the page writes into `#report`. */
export type EmitterPageReport = PageReport<EmitterReport>;

await reportOnPage(
  ["url", "secret", "label"],
  (url, secret, label) => exerciseEmitter(url, secret, label),
);
