/**
 * The migas part of {@linkcode PostgresStore}: the `migas_projects` and
 * `migas_breadcrumbs` tables, and `migas_usage_days`, the per project and
 * UTC day aggregates (a hit count and a user sketch, see
 * `../migas/_usage_sketch.ts`) updated with every breadcrumb in the same
 * transaction, so usage counts never scan breadcrumbs; `migas_usage_versions`
 * keeps the same per project, UTC day and project version. One breadcrumb is
 * stored with its day (the sketch register raised in SQL) and its
 * idempotency answer in one statement;
 * a batch locks its days in a fixed order, so batches never deadlock.
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
  sketchSlot,
} from "../migas/_usage_sketch.ts";
import type { PostgresConnection, Query } from "./_connection.ts";
import { record, recordingStatement } from "./_idempotency.ts";
import { fromNullableText, fromText, toNullableText, toText } from "./_text.ts";
import { readLimit } from "../common/_read_limit.ts";

const BREADCRUMB_COLUMNS = `project, project_version, language, language_version, timestamp,
  session_id, user_id, user_type, platform, container, is_ci, status, status_desc, error_type,
  error_desc`;

/** The breadcrumbs' columns as arrays, one per column, for one `unnest` insert. */
function columnsOf(list: readonly MigasBreadcrumbRecord[]): unknown[] {
  const pick = <T>(value: (breadcrumb: MigasBreadcrumbRecord) => T) => list.map(value);
  return [
    pick((b) => toText(b.project)),
    pick((b) => toText(b.projectVersion)),
    pick((b) => toText(b.language)),
    pick((b) => toText(b.languageVersion)),
    pick((b) => b.timestamp),
    pick((b) => toNullableText(b.sessionId)),
    pick((b) => toNullableText(b.userId)),
    pick((b) => toText(b.userType)),
    pick((b) => toText(b.platform)),
    pick((b) => toText(b.container)),
    // As text: the driver would send a boolean array as one boolean.
    pick((b) => (b.isCi ? "t" : "f")),
    pick((b) => toText(b.status)),
    pick((b) => toNullableText(b.statusDesc)),
    pick((b) => toNullableText(b.errorType)),
    pick((b) => toNullableText(b.errorDesc)),
  ];
}

/**
 * Builds the migas part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function postgresMigas(db: PostgresConnection): MigasStore {
  const s = db.s;
  const find = `SELECT latest_version, bad_versions FROM ${s}migas_projects WHERE project = $1`;
  const insert = `INSERT INTO ${s}migas_projects (project, latest_version, bad_versions,
       registered_at) VALUES ($1, $2, $3, $4) ON CONFLICT (project) DO NOTHING`;
  const update = `UPDATE ${s}migas_projects SET latest_version = coalesce($2, latest_version),
       bad_versions = coalesce($3, bad_versions) WHERE project = $1`;
  const list = `SELECT project FROM ${s}migas_projects ORDER BY project`;
  const insertOne = `INSERT INTO ${s}migas_breadcrumbs (${BREADCRUMB_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`;
  const insertMany = `INSERT INTO ${s}migas_breadcrumbs (${BREADCRUMB_COLUMNS})
     SELECT ${BREADCRUMB_COLUMNS} FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
       $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::boolean[],
       $12::text[], $13::text[], $14::text[], $15::text[]) WITH ORDINALITY
       AS b(${BREADCRUMB_COLUMNS}, n)
     ORDER BY n`;
  // One breadcrumb, its day and its version's day, in one statement: a hit each, and its user's
  // register raised to its rank ($17 is -1 without a user).
  const firstSketch = `CASE WHEN $17::integer < 0 THEN NULL
       ELSE set_byte(decode(repeat('00', ${SKETCH_BYTES}), 'hex'), $17::integer, $18::integer) END`;
  const raisedSketch = `CASE
       WHEN $17::integer < 0 THEN d.users
       WHEN d.users IS NULL THEN excluded.users
       WHEN get_byte(d.users, $17::integer) < $18::integer
         THEN set_byte(d.users, $17::integer, $18::integer)
       ELSE d.users END`;
  // The version's day reads the day's `RETURNING`, so the day's row is always locked first,
  // as a batch locks them, whichever form (plain or settling) runs.
  const addOne = recordingStatement(s, [
    insertOne,
    `INSERT INTO ${s}migas_usage_days AS d (project, day, hits, users)
     VALUES ($1, $16, 1, ${firstSketch})
     ON CONFLICT (project, day) DO UPDATE SET hits = d.hits + 1, users = ${raisedSketch}
     RETURNING 1`,
    `INSERT INTO ${s}migas_usage_versions AS d (project, day, version, hits, users)
     SELECT $1, $16, $2, 1, ${firstSketch} FROM w1
     ON CONFLICT (project, day, version) DO UPDATE SET hits = d.hits + 1, users = ${raisedSketch}`,
  ], 18);
  // A batch's day: its hits added, the row locked, its sketch returned to merge into.
  const lockDay = `INSERT INTO ${s}migas_usage_days AS d (project, day, hits, users)
     VALUES ($1, $2, $3, NULL)
     ON CONFLICT (project, day) DO UPDATE SET hits = d.hits + excluded.hits
     RETURNING users`;
  const writeUsers = `UPDATE ${s}migas_usage_days SET users = $3 WHERE project = $1 AND day = $2`;
  const lockVersion =
    `INSERT INTO ${s}migas_usage_versions AS d (project, day, version, hits, users)
     VALUES ($1, $2, $3, $4, NULL)
     ON CONFLICT (project, day, version) DO UPDATE SET hits = d.hits + excluded.hits
     RETURNING users`;
  const writeVersionUsers = `UPDATE ${s}migas_usage_versions SET users = $4
     WHERE project = $1 AND day = $2 AND version = $3`;
  const versionHits = `SELECT version, sum(hits) AS hits FROM ${s}migas_usage_versions
     WHERE project = $1 AND day >= $2 AND day <= $3 GROUP BY version
     ORDER BY sum(hits) DESC, version LIMIT $4`;
  const versionSketches = `SELECT version, users FROM ${s}migas_usage_versions
     WHERE project = $1 AND day >= $2 AND day <= $3 AND version = ANY($4::text[])
       AND users IS NOT NULL`;
  const sumHits = `SELECT coalesce(sum(hits), 0) AS n FROM ${s}migas_usage_days
     WHERE project = $1 AND day >= $2 AND day <= $3`;
  const daySketches = `SELECT users FROM ${s}migas_usage_days
     WHERE project = $1 AND day >= $2 AND day <= $3 AND users IS NOT NULL`;

  const storeMany = async (query: Query, list: readonly MigasBreadcrumbRecord[]): Promise<void> => {
    await query(insertMany, columnsOf(list));
    type Entry = {
      project: string;
      day: number;
      version: string;
      hits: number;
      users?: Uint8Array;
    };
    const days = new Map<string, Entry>();
    const versions = new Map<string, Entry>();
    const tally = (map: Map<string, Entry>, b: MigasBreadcrumbRecord, version: string): void => {
      const day = dayOf(b.timestamp);
      const id = `${day}\n${b.project}\n${version}`;
      let entry = map.get(id);
      if (entry === undefined) map.set(id, entry = { project: b.project, day, version, hits: 0 });
      entry.hits++;
      if (b.userId !== undefined) sketchAdd(entry.users ??= new Uint8Array(SKETCH_BYTES), b.userId);
    };
    for (const b of list) {
      tally(days, b, "");
      tally(versions, b, b.projectVersion);
    }
    // In one order for every batch (days, then versions' days; as one breadcrumb's statement
    // takes them), so two writers never wait on each other's rows.
    const order = (a: Entry, b: Entry): number =>
      a.project < b.project ? -1 : a.project > b.project ? 1 : a.day - b.day ||
        (a.version < b.version ? -1 : a.version > b.version ? 1 : 0);
    const merge = async (
      entry: Entry,
      row: Record<string, unknown>,
      write: string,
      key: unknown[],
    ) => {
      if (entry.users === undefined) return;
      const users = row.users === null ? entry.users : new Uint8Array(row.users as Uint8Array);
      if (users !== entry.users) sketchMerge(users, entry.users);
      await query(write, [...key, users]);
    };
    for (const entry of [...days.values()].sort(order)) {
      const key = [toText(entry.project), entry.day];
      const [row] = await query(lockDay, [...key, entry.hits]);
      await merge(entry, row, writeUsers, key);
    }
    for (const entry of [...versions.values()].sort(order)) {
      const key = [toText(entry.project), entry.day, toText(entry.version)];
      const [row] = await query(lockVersion, [...key, entry.hits]);
      await merge(entry, row, writeVersionUsers, key);
    }
  };

  return {
    registerMigasProject: (registration) =>
      db.transaction(async (query) => {
        const project = toText(registration.project);
        const inserted = (await query(insert, [
          project,
          toNullableText(registration.latestVersion),
          JSON.stringify(registration.badVersions ?? []),
          registration.now,
        ])).count === 1;
        if (!inserted) {
          await query(update, [
            project,
            toNullableText(registration.latestVersion),
            registration.badVersions === undefined
              ? null
              : JSON.stringify(registration.badVersions),
          ]);
        }
        return inserted;
      }),
    findMigasProject: async (project) => {
      const [row] = await db.query(find, [toText(project)]);
      if (row === undefined) return undefined;
      return {
        project,
        latestVersion: fromNullableText(row.latest_version as string | null),
        badVersions: JSON.parse(row.bad_versions as string) as string[],
      };
    },
    listMigasProjects: async () =>
      (await db.query(list)).map((row) => fromText(row.project as string)),
    addMigasBreadcrumb: (breadcrumb, settle) => {
      const slot = breadcrumb.userId === undefined
        ? { index: -1, rank: 0 }
        : sketchSlot(breadcrumb.userId);
      return record(db, addOne, [
        ...columnsOf([breadcrumb]).map((column) => (column as unknown[])[0]),
        dayOf(breadcrumb.timestamp),
        slot.index,
        slot.rank,
      ], settle);
    },
    addMigasBreadcrumbs: async (list) => {
      if (list.length > 0) await db.transaction((query) => storeMany(query, list));
    },
    countMigasUsage: async (query) => {
      const project = toText(query.project);
      const first = dayOf(query.start);
      const last = dayOf(query.end);
      if (!query.unique) {
        return Number((await db.query(sumHits, [project, first, last]))[0].n);
      }
      const users = new Uint8Array(SKETCH_BYTES);
      for (const row of await db.query(daySketches, [project, first, last])) {
        sketchMerge(users, row.users as Uint8Array);
      }
      return sketchCount(users);
    },
    countMigasUsageByVersion: async (query) => {
      const range = [toText(query.project), dayOf(query.start), dayOf(query.end)];
      const found = new Map<string, { hits: number; users: Uint8Array }>();
      for (const row of await db.query(versionHits, [...range, readLimit(query.limit)])) {
        found.set(row.version as string, {
          hits: Number(row.hits),
          users: new Uint8Array(SKETCH_BYTES),
        });
      }
      if (found.size > 0) {
        for (const row of await db.query(versionSketches, [...range, [...found.keys()]])) {
          sketchMerge(found.get(row.version as string)!.users, row.users as Uint8Array);
        }
      }
      return [...found].map(([version, entry]): MigasVersionUsage => ({
        version: fromText(version),
        breadcrumbs: entry.hits,
        users: sketchCount(entry.users),
      }));
    },
  };
}
