/**
 * The migas part of {@linkcode SqliteStore}: the `migas_projects` and
 * `migas_breadcrumbs` tables, and `migas_usage_days`, the per project and UTC
 * day aggregates (a hit count and a user sketch, see
 * `../migas/_usage_sketch.ts`) updated with every breadcrumb in the same
 * transaction, so usage counts never scan breadcrumbs.
 *
 * @module
 */

import type { MigasBreadcrumbRecord, MigasStore } from "../migas/store.ts";
import {
  dayOf,
  SKETCH_BYTES,
  sketchAdd,
  sketchCount,
  sketchMerge,
} from "../migas/_usage_sketch.ts";
import type { SqliteConnection } from "./_connection.ts";
import { idempotencySettler } from "./_idempotency.ts";

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

const USAGE_SCHEMA = `
CREATE TABLE migas_usage_days (
  project TEXT NOT NULL,
  day INTEGER NOT NULL,
  hits INTEGER NOT NULL,
  users BLOB,
  PRIMARY KEY (project, day)
) WITHOUT ROWID;
`;

/**
 * Creates the usage aggregates and builds them from the breadcrumbs a
 * database from before them holds; the table and its rows commit together,
 * so a crash between them cannot skip the backfill.
 */
function backfillUsage(db: SqliteConnection): void {
  db.transaction(() => {
    db.schema(USAGE_SCHEMA);
    const days = new Map<
      string,
      { project: string; day: number; hits: number; users: Uint8Array | null }
    >();
    const rows = db.prepare("SELECT project, timestamp, user_id FROM migas_breadcrumbs").all();
    for (const row of rows) {
      const project = String(row.project);
      const day = dayOf(Number(row.timestamp));
      const key = `${day}\n${project}`;
      let entry = days.get(key);
      if (entry === undefined) days.set(key, entry = { project, day, hits: 0, users: null });
      entry.hits++;
      if (row.user_id !== null) {
        entry.users ??= new Uint8Array(SKETCH_BYTES);
        sketchAdd(entry.users, String(row.user_id));
      }
    }
    const write = db.prepare(
      "INSERT INTO migas_usage_days (project, day, hits, users) VALUES (?, ?, ?, ?)",
    );
    for (const entry of days.values()) write.run(entry.project, entry.day, entry.hits, entry.users);
  });
}

/**
 * Creates the migas tables when missing and builds the migas part.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteMigas(db: SqliteConnection): MigasStore {
  db.schema(SCHEMA);
  const settleKey = idempotencySettler(db);
  const hasUsage = db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migas_usage_days'",
  ).get() !== undefined;
  if (!hasUsage) backfillUsage(db);
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
  const readDay = db.prepare(
    "SELECT hits, users FROM migas_usage_days WHERE project = ? AND day = ?",
  );
  const writeDay = db.prepare(
    `INSERT INTO migas_usage_days (project, day, hits, users) VALUES (?, ?, ?, ?)
     ON CONFLICT (project, day) DO UPDATE SET hits = excluded.hits, users = excluded.users`,
  );
  const sumHits = db.prepare(
    `SELECT COALESCE(SUM(hits), 0) AS n FROM migas_usage_days
     WHERE project = ? AND day >= ? AND day <= ?`,
  );
  const daySketches = db.prepare(
    `SELECT users FROM migas_usage_days
     WHERE project = ? AND day >= ? AND day <= ? AND users IS NOT NULL`,
  );

  const bumpHits = db.prepare(
    "UPDATE migas_usage_days SET hits = hits + 1 WHERE project = ? AND day = ?",
  );

  // One read of the day's row per breadcrumb, inside the caller's transaction; the 1 KiB
  // sketch is written back only when the user moved one of its registers, which a
  // returning user never does.
  const tally = (project: string, timestamp: number, userId: string | undefined): void => {
    const day = dayOf(timestamp);
    const row = readDay.get(project, day) as
      | { hits: number; users: Uint8Array | null }
      | undefined;
    let users = row?.users ?? null;
    let changed = row === undefined;
    if (userId !== undefined) {
      // The row's bytes are a fresh copy from SQLite, so they can be updated in place
      users ??= new Uint8Array(SKETCH_BYTES);
      changed = sketchAdd(users, userId) || changed;
    }
    if (changed) writeDay.run(project, day, Number(row?.hits ?? 0) + 1, users);
    else bumpHits.run(project, day);
  };

  const store = (breadcrumb: MigasBreadcrumbRecord): void => {
    insertBreadcrumb.run(
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
    );
    tally(breadcrumb.project, breadcrumb.timestamp, breadcrumb.userId);
  };

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
      db.read(() => {
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
      db.read(() => (list.all() as unknown as { project: string }[]).map((row) => row.project)),
    addMigasBreadcrumb: (breadcrumb, settle) =>
      db.run(() => {
        store(breadcrumb);
        settleKey(settle);
      }),
    addMigasBreadcrumbs: (list) =>
      db.run(() => {
        if (list.length > 0) db.transaction(() => list.forEach(store));
      }),
    countMigasUsage: (query) =>
      db.read(() => {
        const first = dayOf(query.start);
        const last = dayOf(query.end);
        if (!query.unique) {
          return Number((sumHits.get(query.project, first, last) as { n: number }).n);
        }
        const users = new Uint8Array(SKETCH_BYTES);
        for (const row of daySketches.all(query.project, first, last)) {
          sketchMerge(users, (row as { users: Uint8Array }).users);
        }
        return sketchCount(users);
      }),
  };
}
