/**
 * The migas part of {@linkcode SqliteStore}: the `migas_projects` and
 * `migas_breadcrumbs` tables, and `migas_usage_days`, the per project and UTC
 * day aggregates (a hit count and a user sketch, see
 * `../migas/_usage_sketch.ts`) updated with every breadcrumb in the same
 * transaction, so usage counts never scan breadcrumbs; `migas_usage_versions`
 * keeps the same per project, UTC day and project version.
 *
 * A batch tallies its breadcrumbs in memory and writes each aggregate row
 * once, just before it commits (see `BatchState` in `_connection.ts`); a
 * read of the aggregates writes them first. Registered projects are
 * remembered until another process commits (`PRAGMA data_version`).
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type {
  MigasBreadcrumbRecord,
  MigasProjectRecord,
  MigasStore,
  MigasVersionUsage,
} from "../migas/store.ts";
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
import { OldestKeys } from "../../core/_oldest_keys.ts";
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

/** The most registered projects remembered; the oldest remembered goes first. */
const MAX_REMEMBERED = 10_000;

/** A batch's breadcrumbs for one aggregate row: its key values, hits and users' sketch. */
interface Tally {
  at: (string | number)[];
  hits: number;
  users: Uint8Array | null;
}

function add(
  tallies: Map<string, Tally>,
  key: string,
  at: (string | number)[],
  userId: string | undefined,
): void {
  let entry = tallies.get(key);
  if (entry === undefined) tallies.set(key, entry = { at, hits: 0, users: null });
  entry.hits++;
  if (userId !== undefined) sketchAdd(entry.users ??= new Uint8Array(SKETCH_BYTES), userId);
}

/** Merges a batch's sketch into a row's (a fresh copy from SQLite); whether a register moved. */
function mergeInto(row: { users: Uint8Array | null }, users: Uint8Array): boolean {
  if (row.users === null) {
    row.users = users;
    return true;
  }
  let moved = false;
  for (let i = 0; i < SKETCH_BYTES; i++) {
    if (users[i] > row.users[i]) {
      row.users[i] = users[i];
      moved = true;
    }
  }
  return moved;
}

function copyProject(project: MigasProjectRecord): MigasProjectRecord {
  return { ...project, badVersions: [...project.badVersions] };
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
    "UPDATE migas_usage_days SET hits = hits + ? WHERE project = ? AND day = ?",
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
    "UPDATE migas_usage_versions SET hits = hits + ? WHERE project = ? AND day = ? AND version = ?",
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

  // The open batch's breadcrumbs, tallied per project and day, and per project, day and
  // version: each aggregate row is read and written once per batch at its commit (or before a
  // read of them), and its 1 KiB sketch written back only when the batch's users moved one of
  // its registers, which returning users never do.
  const days = new Map<string, Tally>();
  const versions = new Map<string, Tally>();
  const tally = (breadcrumb: MigasBreadcrumbRecord): void => {
    const { project, projectVersion: version, userId } = breadcrumb;
    const day = dayOf(breadcrumb.timestamp);
    add(days, `${project}\n${day}`, [project, day], userId);
    add(versions, `${project}\n${day}\n${version}`, [project, day, version], userId);
  };
  type Row = { hits: number; users: Uint8Array | null } | undefined;
  const apply = (
    tallies: Map<string, Tally>,
    read: StatementSync,
    write: StatementSync,
    bump: StatementSync,
  ): void => {
    for (const { at, hits, users } of tallies.values()) {
      const row = read.get(...at) as Row;
      if (row === undefined) write.run(...at, hits, users);
      else if (users !== null && mergeInto(row, users)) {
        write.run(...at, Number(row.hits) + hits, row.users);
      } else bump.run(hits, ...at);
    }
  };
  const flush = (): void => {
    if (days.size === 0 && versions.size === 0) return;
    // All or nothing, so that a flush that throws (before a read) can run again at the commit.
    db.atomic(() => {
      apply(days, readDay, writeDay, bumpHits);
      apply(versions, readVersion, writeVersion, bumpVersion);
    });
    days.clear();
    versions.clear();
  };
  // Registered projects, checked against the data version: another process's commit (which
  // may change a project) forgets them all; this one's own registration forgets its project.
  const projects = new Map<string, { project: MigasProjectRecord; batch: number }>();
  const oldestProject = new OldestKeys(projects);
  let seenVersion = db.dataVersion();
  db.batchState({
    flush,
    discard: () => {
      days.clear();
      versions.clear();
      projects.clear();
    },
  });

  const store = (breadcrumb: MigasBreadcrumbRecord): void => {
    insertBreadcrumb.run(...breadcrumbValues(breadcrumb));
  };

  return {
    registerMigasProject: (registration) =>
      db.run(() =>
        db.transaction(() => {
          projects.delete(registration.project);
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
    findMigasProject: (project) => {
      const version = db.dataVersion();
      if (version !== seenVersion) {
        projects.clear();
        seenVersion = version;
      }
      const known = projects.get(project);
      if (known !== undefined) return db.remembered(copyProject(known.project), known.batch);
      return db.read(() => {
        const row = find.get(project) as
          | { latest_version: string | null; bad_versions: string }
          | undefined;
        if (row === undefined) return undefined;
        const found: MigasProjectRecord = {
          project,
          latestVersion: row.latest_version ?? undefined,
          badVersions: JSON.parse(row.bad_versions) as string[],
        };
        if (projects.size >= MAX_REMEMBERED) oldestProject.drop();
        projects.set(project, { project: copyProject(found), batch: db.openBatch });
        return found;
      });
    },
    listMigasProjects: () =>
      db.read(() => (list.all() as unknown as { project: string }[]).map((row) => row.project)),
    addMigasBreadcrumb: (breadcrumb, settle) =>
      // One insert, then what cannot throw: no savepoint (the key's answer is kept in memory
      // until the commit, see `idempotencySettler`).
      db.run(() => {
        store(breadcrumb);
        settleKey(settle);
        tally(breadcrumb);
      }, false),
    addMigasBreadcrumbs: (list) =>
      db.run(() => {
        list.forEach(store);
        list.forEach(tally);
      }),
    countMigasUsage: (query) =>
      db.read(() => {
        flush();
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
        flush();
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
