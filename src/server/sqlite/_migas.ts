/**
 * The migas part of {@linkcode SqliteStore}: the `migas_projects` and
 * `migas_breadcrumbs` tables, and `migas_usage_days`, the per project and UTC
 * day aggregates (a hit count and a user sketch, see
 * `../migas/_usage_sketch.ts`) updated with every breadcrumb in the same
 * transaction, so usage counts never scan breadcrumbs; `migas_usage_versions`
 * keeps the same per project, UTC day and project version.
 *
 * @module
 */

import type { MigasBreadcrumbRecord, MigasStore, MigasVersionUsage } from "../migas/store.ts";
import {
  dayOf,
  SKETCH_BYTES,
  sketchAdd,
  sketchCount,
  sketchMerge,
} from "../migas/_usage_sketch.ts";
import type { SqliteConnection } from "./_connection.ts";
import { idempotencySettler } from "./_idempotency.ts";
import { readLimit } from "../common/_read_limit.ts";
import { breadcrumbValues, INSERT_BREADCRUMB } from "../migas/_breadcrumb_row.ts";
import { MIGAS_TABLES, sqliteScript } from "../_sqlite_schema.ts";

const SCHEMA = sqliteScript(MIGAS_TABLES);

const USAGE_SCHEMA = `
CREATE TABLE migas_usage_days (
  project TEXT NOT NULL,
  day INTEGER NOT NULL,
  hits INTEGER NOT NULL,
  users BLOB,
  PRIMARY KEY (project, day)
) WITHOUT ROWID;
`;

const VERSION_USAGE_SCHEMA = `
CREATE TABLE migas_usage_versions (
  project TEXT NOT NULL,
  day INTEGER NOT NULL,
  version TEXT NOT NULL,
  hits INTEGER NOT NULL,
  users BLOB,
  PRIMARY KEY (project, day, version)
) WITHOUT ROWID;
`;

/**
 * Creates one usage aggregate table and builds it from the breadcrumbs a
 * database from before it holds; the table and its rows commit together,
 * so a crash between them cannot skip the backfill.
 */
function backfillUsage(db: SqliteConnection, perVersion: boolean): void {
  db.transaction(() => {
    db.schema(perVersion ? VERSION_USAGE_SCHEMA : USAGE_SCHEMA);
    const days = new Map<
      string,
      { project: string; day: number; version: string; hits: number; users: Uint8Array | null }
    >();
    const rows = db.prepare(
      "SELECT project, project_version, timestamp, user_id FROM migas_breadcrumbs",
    ).all();
    for (const row of rows) {
      const project = String(row.project);
      const version = perVersion ? String(row.project_version) : "";
      const day = dayOf(Number(row.timestamp));
      const key = `${day}\n${project}\n${version}`;
      let entry = days.get(key);
      if (entry === undefined) {
        days.set(key, entry = { project, day, version, hits: 0, users: null });
      }
      entry.hits++;
      if (row.user_id !== null) {
        entry.users ??= new Uint8Array(SKETCH_BYTES);
        sketchAdd(entry.users, String(row.user_id));
      }
    }
    if (perVersion) {
      const write = db.prepare(
        "INSERT INTO migas_usage_versions (project, day, version, hits, users) VALUES (?, ?, ?, ?, ?)",
      );
      for (const e of days.values()) write.run(e.project, e.day, e.version, e.hits, e.users);
    } else {
      const write = db.prepare(
        "INSERT INTO migas_usage_days (project, day, hits, users) VALUES (?, ?, ?, ?)",
      );
      for (const e of days.values()) write.run(e.project, e.day, e.hits, e.users);
    }
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
  const hasTable = (name: string): boolean =>
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
      undefined;
  if (!hasTable("migas_usage_days")) backfillUsage(db, false);
  if (!hasTable("migas_usage_versions")) backfillUsage(db, true);
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
  const insertBreadcrumb = db.prepare(INSERT_BREADCRUMB);
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
  const readVersion = db.prepare(
    "SELECT hits, users FROM migas_usage_versions WHERE project = ? AND day = ? AND version = ?",
  );
  const writeVersion = db.prepare(
    `INSERT INTO migas_usage_versions (project, day, version, hits, users) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (project, day, version) DO UPDATE SET hits = excluded.hits,
       users = excluded.users`,
  );
  const bumpVersion = db.prepare(
    "UPDATE migas_usage_versions SET hits = hits + 1 WHERE project = ? AND day = ? AND version = ?",
  );
  const versionHits = db.prepare(
    `SELECT version, SUM(hits) AS hits FROM migas_usage_versions
     WHERE project = ? AND day >= ? AND day <= ? GROUP BY version
     ORDER BY SUM(hits) DESC, version LIMIT ?`,
  );
  const versionSketches = db.prepare(
    `SELECT version, users FROM migas_usage_versions
     WHERE project = ? AND day >= ? AND day <= ? AND users IS NOT NULL`,
  );

  // One read of the day's row per breadcrumb, inside the caller's transaction; the 1 KiB
  // sketch is written back only when the user moved one of its registers, which a
  // returning user never does.
  const count = (
    read: () => { hits: number; users: Uint8Array | null } | undefined,
    write: (hits: number, users: Uint8Array | null) => void,
    bump: () => void,
    userId: string | undefined,
  ): void => {
    const row = read();
    let users = row?.users ?? null;
    let changed = row === undefined;
    if (userId !== undefined) {
      // The row's bytes are a fresh copy from SQLite, so they can be updated in place
      users ??= new Uint8Array(SKETCH_BYTES);
      changed = sketchAdd(users, userId) || changed;
    }
    if (changed) write(Number(row?.hits ?? 0) + 1, users);
    else bump();
  };
  type Row = { hits: number; users: Uint8Array | null } | undefined;
  const tally = (breadcrumb: MigasBreadcrumbRecord): void => {
    const { project, projectVersion: version, userId } = breadcrumb;
    const day = dayOf(breadcrumb.timestamp);
    count(
      () => readDay.get(project, day) as Row,
      (hits, users) => writeDay.run(project, day, hits, users),
      () => bumpHits.run(project, day),
      userId,
    );
    count(
      () => readVersion.get(project, day, version) as Row,
      (hits, users) => writeVersion.run(project, day, version, hits, users),
      () => bumpVersion.run(project, day, version),
      userId,
    );
  };

  const store = (breadcrumb: MigasBreadcrumbRecord): void => {
    insertBreadcrumb.run(...breadcrumbValues(breadcrumb));
    tally(breadcrumb);
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
    countMigasUsageByVersion: (query) =>
      db.read(() => {
        const range = [query.project, dayOf(query.start), dayOf(query.end)] as const;
        const found = new Map<string, { hits: number; users: Uint8Array }>();
        for (const row of versionHits.all(...range, readLimit(query.limit))) {
          found.set(String(row.version), {
            hits: Number(row.hits),
            users: new Uint8Array(SKETCH_BYTES),
          });
        }
        for (const row of versionSketches.all(...range)) {
          const entry = found.get(String(row.version));
          if (entry !== undefined) sketchMerge(entry.users, row.users as Uint8Array);
        }
        return [...found].map(([version, entry]): MigasVersionUsage => ({
          version,
          breadcrumbs: entry.hits,
          users: sketchCount(entry.users),
        }));
      }),
  };
}
