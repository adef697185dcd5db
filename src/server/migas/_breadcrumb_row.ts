/**
 * How the SQLite and D1 stores (D1 is SQLite) write a breadcrumb: one
 * statement and the values for its `?`s, in the columns' order, so the two
 * stores cannot drift apart in what a row holds.
 *
 * @module
 */

import type { MigasBreadcrumbRecord } from "./store.ts";

/** Inserts one breadcrumb; its values are those of {@linkcode breadcrumbValues}. */
export const INSERT_BREADCRUMB = `INSERT INTO migas_breadcrumbs (project, project_version, language,
    language_version, timestamp, session_id, user_id, user_type, platform, container, is_ci,
    status, status_desc, error_type, error_desc)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The values of {@linkcode INSERT_BREADCRUMB} for one breadcrumb.
 *
 * @param breadcrumb The breadcrumb.
 * @returns Its fifteen values: absent text as `null`, `isCi` as 0 or 1.
 * @throws Never.
 * @example
 * ```ts
 * import { breadcrumbValues } from "./_breadcrumb_row.ts";
 *
 * const values = breadcrumbValues({
 *   project: "nipreps/fmriprep",
 *   projectVersion: "24.1.0",
 *   language: "python",
 *   languageVersion: "3.12",
 *   timestamp: 0,
 *   sessionId: undefined,
 *   userId: undefined,
 *   userType: "general",
 *   platform: "linux",
 *   container: "unknown",
 *   isCi: false,
 *   status: "R",
 *   statusDesc: undefined,
 *   errorType: undefined,
 *   errorDesc: undefined,
 * });
 * console.log(values.length); // 15
 * ```
 */
export function breadcrumbValues(breadcrumb: MigasBreadcrumbRecord): (string | number | null)[] {
  return [
    breadcrumb.project,
    breadcrumb.projectVersion,
    breadcrumb.language,
    breadcrumb.languageVersion,
    breadcrumb.timestamp,
    breadcrumb.sessionId ?? null,
    breadcrumb.userId ?? null,
    breadcrumb.userType,
    breadcrumb.platform,
    breadcrumb.container,
    breadcrumb.isCi ? 1 : 0,
    breadcrumb.status,
    breadcrumb.statusDesc ?? null,
    breadcrumb.errorType ?? null,
    breadcrumb.errorDesc ?? null,
  ];
}
