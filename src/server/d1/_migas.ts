/**
 * The migas part of {@linkcode D1Store}: the `migas_projects` and
 * `migas_breadcrumbs` tables and the per project and UTC day usage
 * aggregates, updated in the same `batch()` as each breadcrumb so usage
 * counts never scan breadcrumbs. The SQLite store reads a day's sketch and
 * writes it back inside its transaction; D1 has no such transaction, so here
 * each sketch register is a row (`migas_usage_registers`) that an upsert
 * raises to the larger rank, and a range's sketch is the largest rank per
 * register, read in one query.
 *
 * @module
 */

import type { MigasBreadcrumbRecord, MigasStore } from "../migas/store.ts";
import { dayOf, SKETCH_BYTES, sketchCount, sketchSlot } from "../migas/_usage_sketch.ts";
import type { D1PreparedStatement } from "./d1_database.ts";
import { changesOf, type D1Connection } from "./_connection.ts";
import { settleStatements } from "./_idempotency.ts";

const INSERT_BREADCRUMB = `INSERT INTO migas_breadcrumbs (project, project_version, language,
    language_version, timestamp, session_id, user_id, user_type, platform, container, is_ci,
    status, status_desc, error_type, error_desc)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const COUNT_HIT = `INSERT INTO migas_usage_days (project, day, hits) VALUES (?, ?, 1)
  ON CONFLICT (project, day) DO UPDATE SET hits = hits + 1`;

const RAISE_REGISTER = `INSERT INTO migas_usage_registers (project, day, register, rank)
  VALUES (?, ?, ?, ?)
  ON CONFLICT (project, day, register) DO UPDATE SET rank = max(rank, excluded.rank)`;

/**
 * Builds the migas part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function d1Migas(db: D1Connection): MigasStore {
  const store = (breadcrumb: MigasBreadcrumbRecord): D1PreparedStatement[] => {
    const day = dayOf(breadcrumb.timestamp);
    const statements = [
      db.statement(INSERT_BREADCRUMB, [
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
      ]),
      db.statement(COUNT_HIT, [breadcrumb.project, day]),
    ];
    if (breadcrumb.userId !== undefined) {
      const { index, rank } = sketchSlot(breadcrumb.userId);
      statements.push(db.statement(RAISE_REGISTER, [breadcrumb.project, day, index, rank]));
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
      if (list.length > 0) await db.batch(list.flatMap(store));
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
  };
}
