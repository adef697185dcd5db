/**
 * The migas part of {@linkcode D1Store}: the `migas_projects` and
 * `migas_breadcrumbs` tables and the per project and UTC day usage
 * aggregates, updated in the same `batch()` as each breadcrumb so usage
 * counts never scan breadcrumbs. The SQLite store reads a day's sketch and
 * writes it back inside its transaction; D1 has no such transaction, so here
 * each sketch register is a row (`migas_usage_registers`) that an upsert
 * raises to the larger rank, and a range's sketch is the largest rank per
 * register, read in one query. `migas_usage_versions` and
 * `migas_version_registers` keep the same per project, day and version.
 *
 * @module
 */

import type { MigasBreadcrumbRecord, MigasStore, MigasVersionUsage } from "../migas/store.ts";
import { dayOf, SKETCH_BYTES, sketchCount, sketchSlot } from "../migas/_usage_sketch.ts";
import type { D1PreparedStatement } from "./d1_database.ts";
import { changesOf, type D1Connection } from "./_connection.ts";
import { settleStatements } from "./_idempotency.ts";
import { readLimit } from "../common/_read_limit.ts";
import { breadcrumbValues, INSERT_BREADCRUMB } from "../migas/_breadcrumb_row.ts";

const COUNT_HIT = `INSERT INTO migas_usage_days (project, day, hits) VALUES (?, ?, 1)
  ON CONFLICT (project, day) DO UPDATE SET hits = hits + 1`;

const RAISE_REGISTER = `INSERT INTO migas_usage_registers (project, day, register, rank)
  VALUES (?, ?, ?, ?)
  ON CONFLICT (project, day, register) DO UPDATE SET rank = max(rank, excluded.rank)`;

const COUNT_VERSION_HIT = `INSERT INTO migas_usage_versions (project, day, version, hits)
  VALUES (?, ?, ?, 1) ON CONFLICT (project, day, version) DO UPDATE SET hits = hits + 1`;

const RAISE_VERSION_REGISTER = `INSERT INTO migas_version_registers
    (project, day, version, register, rank) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (project, day, version, register) DO UPDATE SET rank = max(rank, excluded.rank)`;

// A batch's aggregates, one statement per day (and version's day): its hits added, and its
// registers raised from a JSON array of ranks indexed by register (0 where none).
const ADD_HITS = `INSERT INTO migas_usage_days (project, day, hits) VALUES (?, ?, ?)
  ON CONFLICT (project, day) DO UPDATE SET hits = hits + excluded.hits`;

const RAISE_REGISTERS = `INSERT INTO migas_usage_registers (project, day, register, rank)
  SELECT ?, ?, key, value FROM json_each(?) WHERE value > 0
  ON CONFLICT (project, day, register) DO UPDATE SET rank = max(rank, excluded.rank)`;

const ADD_VERSION_HITS = `INSERT INTO migas_usage_versions (project, day, version, hits)
  VALUES (?, ?, ?, ?)
  ON CONFLICT (project, day, version) DO UPDATE SET hits = hits + excluded.hits`;

const RAISE_VERSION_REGISTERS = `INSERT INTO migas_version_registers
    (project, day, version, register, rank)
  SELECT ?, ?, ?, key, value FROM json_each(?) WHERE value > 0
  ON CONFLICT (project, day, version, register) DO UPDATE SET rank = max(rank, excluded.rank)`;

/** One day's (or one version's day's) part of a batch. */
interface BatchDay {
  project: string;
  day: number;
  /** The version, or `undefined` for the day of every version. */
  version: string | undefined;
  hits: number;
  ranks: number[] | undefined;
}

/**
 * Builds the migas part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function d1Migas(db: D1Connection): MigasStore {
  const insertBreadcrumb = (breadcrumb: MigasBreadcrumbRecord): D1PreparedStatement =>
    db.statement(INSERT_BREADCRUMB, breadcrumbValues(breadcrumb));
  const store = (breadcrumb: MigasBreadcrumbRecord): D1PreparedStatement[] => {
    const day = dayOf(breadcrumb.timestamp);
    const statements = [
      insertBreadcrumb(breadcrumb),
      db.statement(COUNT_HIT, [breadcrumb.project, day]),
      db.statement(COUNT_VERSION_HIT, [breadcrumb.project, day, breadcrumb.projectVersion]),
    ];
    if (breadcrumb.userId !== undefined) {
      const { index, rank } = sketchSlot(breadcrumb.userId);
      statements.push(
        db.statement(RAISE_REGISTER, [breadcrumb.project, day, index, rank]),
        db.statement(RAISE_VERSION_REGISTER, [
          breadcrumb.project,
          day,
          breadcrumb.projectVersion,
          index,
          rank,
        ]),
      );
    }
    return statements;
  };

  // A batch: its breadcrumbs, then one hit count and one register raise per day and per
  // version's day, so a large batch is about one statement per breadcrumb, not five.
  const storeMany = (list: readonly MigasBreadcrumbRecord[]): D1PreparedStatement[] => {
    const statements = list.map(insertBreadcrumb);
    const groups = new Map<string, BatchDay>();
    const tally = (b: MigasBreadcrumbRecord, version: string | undefined): void => {
      const day = dayOf(b.timestamp);
      const id = JSON.stringify([b.project, day, version ?? null]);
      let entry = groups.get(id);
      if (entry === undefined) {
        groups.set(id, entry = { project: b.project, day, version, hits: 0, ranks: undefined });
      }
      entry.hits++;
      if (b.userId === undefined) return;
      const { index, rank } = sketchSlot(b.userId);
      entry.ranks ??= new Array<number>(SKETCH_BYTES).fill(0);
      if (entry.ranks[index] < rank) entry.ranks[index] = rank;
    };
    for (const b of list) {
      tally(b, undefined);
      tally(b, b.projectVersion);
    }
    for (const { project, day, version, hits, ranks } of groups.values()) {
      statements.push(
        version === undefined
          ? db.statement(ADD_HITS, [project, day, hits])
          : db.statement(ADD_VERSION_HITS, [project, day, version, hits]),
      );
      if (ranks === undefined) continue;
      const json = JSON.stringify(ranks);
      statements.push(
        version === undefined
          ? db.statement(RAISE_REGISTERS, [project, day, json])
          : db.statement(RAISE_VERSION_REGISTERS, [project, day, version, json]),
      );
    }
    return statements;
  };

  return {
    registerMigasProject: async (registration) => {
      const badVersions = registration.badVersions === undefined
        ? null
        : JSON.stringify(registration.badVersions);
      const [inserted] = await db.batch([
        db.statement(
          `INSERT OR IGNORE INTO migas_projects (project, latest_version, bad_versions,
             registered_at) VALUES (?, ?, ?, ?)`,
          [
            registration.project,
            registration.latestVersion ?? null,
            badVersions ?? "[]",
            registration.now,
          ],
        ),
        // What the registration leaves out stays as it was; on a new row this changes nothing.
        db.statement(
          `UPDATE migas_projects SET latest_version = COALESCE(?, latest_version),
             bad_versions = COALESCE(?, bad_versions) WHERE project = ?`,
          [registration.latestVersion ?? null, badVersions, registration.project],
        ),
      ]);
      return changesOf(inserted) === 1;
    },
    findMigasProject: async (project) => {
      const row = await db.first(
        "SELECT latest_version, bad_versions FROM migas_projects WHERE project = ?",
        [project],
      );
      if (row === undefined) return undefined;
      return {
        project,
        latestVersion: row.latest_version === null ? undefined : String(row.latest_version),
        badVersions: JSON.parse(String(row.bad_versions)) as string[],
      };
    },
    listMigasProjects: async () =>
      (await db.all("SELECT project FROM migas_projects ORDER BY project")).map((row) =>
        String(row.project)
      ),
    addMigasBreadcrumb: async (breadcrumb, settle) => {
      await db.batch([...store(breadcrumb), ...settleStatements(db, settle)]);
    },
    addMigasBreadcrumbs: async (list) => {
      if (list.length > 0) await db.batch(storeMany(list));
    },
    countMigasUsage: async (query) => {
      const range = [query.project, dayOf(query.start), dayOf(query.end)];
      if (!query.unique) {
        const row = await db.first(
          `SELECT COALESCE(SUM(hits), 0) AS n FROM migas_usage_days
           WHERE project = ? AND day >= ? AND day <= ?`,
          range,
        );
        return Number(row?.n ?? 0);
      }
      const users = new Uint8Array(SKETCH_BYTES);
      const rows = await db.all(
        `SELECT register, MAX(rank) AS rank FROM migas_usage_registers
         WHERE project = ? AND day >= ? AND day <= ? GROUP BY register`,
        range,
      );
      for (const row of rows) users[Number(row.register)] = Number(row.rank);
      return sketchCount(users);
    },
    countMigasUsageByVersion: async (query) => {
      const range = [query.project, dayOf(query.start), dayOf(query.end)];
      const found = new Map<string, { hits: number; users: Uint8Array }>();
      const versions = await db.all(
        `SELECT version, SUM(hits) AS hits FROM migas_usage_versions
         WHERE project = ? AND day >= ? AND day <= ? GROUP BY version
         ORDER BY SUM(hits) DESC, version LIMIT ?`,
        [...range, readLimit(query.limit)],
      );
      for (const row of versions) {
        found.set(String(row.version), {
          hits: Number(row.hits),
          users: new Uint8Array(SKETCH_BYTES),
        });
      }
      if (found.size > 0) {
        // The registers of the versions found only, as many as 1024 a version.
        const rows = await db.all(
          `SELECT version, register, MAX(rank) AS rank FROM migas_version_registers
           WHERE project = ? AND day >= ? AND day <= ?
             AND version IN (SELECT value FROM json_each(?))
           GROUP BY version, register`,
          [...range, JSON.stringify([...found.keys()])],
        );
        for (const row of rows) {
          found.get(String(row.version))!.users[Number(row.register)] = Number(row.rank);
        }
      }
      return [...found].map(([version, entry]): MigasVersionUsage => ({
        version,
        breadcrumbs: entry.hits,
        users: sketchCount(entry.users),
      }));
    },
  };
}
