/**
 * The migas part of {@linkcode SqliteStore}: the `migas_projects` and
 * `migas_breadcrumbs` tables.
 *
 * @module
 */

import type { MigasStore } from "../migas/store.ts";
import type { SqliteConnection } from "./_connection.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS migas_projects (
  project TEXT PRIMARY KEY,
  latest_version TEXT,
  bad_versions TEXT NOT NULL,
  registered_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS migas_breadcrumbs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project TEXT NOT NULL,
  project_version TEXT NOT NULL,
  language TEXT NOT NULL,
  language_version TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  session_id TEXT,
  user_id TEXT,
  user_type TEXT NOT NULL,
  platform TEXT NOT NULL,
  container TEXT NOT NULL,
  is_ci INTEGER NOT NULL,
  status TEXT NOT NULL,
  status_desc TEXT,
  error_type TEXT,
  error_desc TEXT
);
CREATE INDEX IF NOT EXISTS migas_breadcrumbs_project ON migas_breadcrumbs (project, timestamp);
`;

/**
 * Creates the migas tables when missing and builds the migas part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteMigas(db: SqliteConnection): MigasStore {
  db.schema(SCHEMA);
  const find = db.prepare(
    "SELECT latest_version, bad_versions FROM migas_projects WHERE project = ?",
  );
  const insert = db.prepare(
    `INSERT OR IGNORE INTO migas_projects (project, latest_version, bad_versions, registered_at)
     VALUES (?, ?, ?, ?)`,
  );
  const update = db.prepare(
    "UPDATE migas_projects SET latest_version = ?, bad_versions = ? WHERE project = ?",
  );
  const list = db.prepare("SELECT project FROM migas_projects ORDER BY project");
  const insertBreadcrumb = db.prepare(
    `INSERT INTO migas_breadcrumbs (project, project_version, language, language_version,
       timestamp, session_id, user_id, user_type, platform, container, is_ci, status,
       status_desc, error_type, error_desc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const countHits = db.prepare(
    `SELECT COUNT(*) AS n FROM migas_breadcrumbs
     WHERE project = ? AND timestamp >= ? AND timestamp <= ?`,
  );
  const countUsers = db.prepare(
    `SELECT COUNT(DISTINCT user_id) AS n FROM migas_breadcrumbs
     WHERE project = ? AND timestamp >= ? AND timestamp <= ?`,
  );

  return {
    registerMigasProject: (registration) =>
      db.run(() =>
        db.transaction(() => {
          const inserted = insert.run(
            registration.project,
            registration.latestVersion ?? null,
            JSON.stringify(registration.badVersions ?? []),
            registration.now,
          ).changes === 1;
          if (!inserted) {
            const row = find.get(registration.project) as {
              latest_version: string | null;
              bad_versions: string;
            };
            update.run(
              registration.latestVersion ?? row.latest_version,
              registration.badVersions === undefined
                ? row.bad_versions
                : JSON.stringify(registration.badVersions),
              registration.project,
            );
          }
          return inserted;
        })
      ),
    findMigasProject: (project) =>
      db.run(() => {
        const row = find.get(project) as
          | { latest_version: string | null; bad_versions: string }
          | undefined;
        if (row === undefined) return undefined;
        return {
          project,
          latestVersion: row.latest_version ?? undefined,
          badVersions: JSON.parse(row.bad_versions) as string[],
        };
      }),
    listMigasProjects: () =>
      db.run(() => (list.all() as unknown as { project: string }[]).map((row) => row.project)),
    addMigasBreadcrumb: (breadcrumb) =>
      db.run(() =>
        void insertBreadcrumb.run(
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
        )
      ),
    countMigasUsage: (query) =>
      db.run(() => {
        const statement = query.unique ? countUsers : countHits;
        return Number((statement.get(query.project, query.start, query.end) as { n: number }).n);
      }),
  };
}
