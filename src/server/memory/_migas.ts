/**
 * The migas part of {@linkcode MemoryStore}: registered projects in a map,
 * breadcrumbs in a list, and per project and UTC day (and per project, day
 * and version) the usage aggregates (`../migas/_usage_sketch.ts`) that
 * answer counts without a scan.
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
import type { Lifetime, SettleKey } from "./_lifetime.ts";
import { readLimit } from "../common/_read_limit.ts";

interface Project {
  latestVersion: string | undefined;
  badVersions: string[];
}

interface Day {
  hits: number;
  users: Uint8Array | undefined;
}

/**
 * Builds the migas part of a memory store.
 *
 * @param life The store's open-or-closed state.
 * @param settleKey Settles a recording write's idempotency key.
 * @returns The part.
 */
export function memoryMigas(life: Lifetime, settleKey: SettleKey): MigasStore {
  const projects = new Map<string, Project>();
  const breadcrumbs: MigasBreadcrumbRecord[] = [];
  const usage = new Map<string, Map<number, Day>>();
  /** project → day → version → usage */
  const versionUsage = new Map<string, Map<number, Map<string, Day>>>();
  const count = (day: Day, userId: string | undefined): void => {
    day.hits++;
    if (userId !== undefined) {
      day.users ??= new Uint8Array(SKETCH_BYTES);
      sketchAdd(day.users, userId);
    }
  };
  life.count("migas_projects", () => projects.size);
  life.count("migas_breadcrumbs", () => breadcrumbs.length);
  const add = (breadcrumb: MigasBreadcrumbRecord): void => {
    breadcrumbs.push({ ...breadcrumb });
    let days = usage.get(breadcrumb.project);
    if (days === undefined) usage.set(breadcrumb.project, days = new Map());
    const key = dayOf(breadcrumb.timestamp);
    let day = days.get(key);
    if (day === undefined) days.set(key, day = { hits: 0, users: undefined });
    count(day, breadcrumb.userId);
    let versionDays = versionUsage.get(breadcrumb.project);
    if (versionDays === undefined) versionUsage.set(breadcrumb.project, versionDays = new Map());
    let versions = versionDays.get(key);
    if (versions === undefined) versionDays.set(key, versions = new Map());
    let version = versions.get(breadcrumb.projectVersion);
    if (version === undefined) {
      versions.set(breadcrumb.projectVersion, version = { hits: 0, users: undefined });
    }
    count(version, breadcrumb.userId);
  };
  return {
    registerMigasProject: (registration) =>
      life.run(() => {
        const known = projects.get(registration.project);
        projects.set(registration.project, {
          latestVersion: registration.latestVersion ?? known?.latestVersion,
          badVersions: [...(registration.badVersions ?? known?.badVersions ?? [])],
        });
        return known === undefined;
      }),
    findMigasProject: (project) =>
      life.run(() => {
        const known = projects.get(project);
        if (known === undefined) return undefined;
        return { project, latestVersion: known.latestVersion, badVersions: [...known.badVersions] };
      }),
    listMigasProjects: () =>
      life.run(() => [...projects.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))),
    addMigasBreadcrumb: (breadcrumb, settle) =>
      life.run(() => add(breadcrumb)).then(() => settleKey(settle)),
    addMigasBreadcrumbs: (list) => life.run(() => list.forEach(add)),
    countMigasUsage: (query) =>
      life.run(() => {
        const days = usage.get(query.project);
        if (days === undefined) return 0;
        const first = dayOf(query.start);
        const last = dayOf(query.end);
        let hits = 0;
        const users = new Uint8Array(SKETCH_BYTES);
        // Walks whichever is smaller: the days kept, or the days in the range.
        const visit = (day: Day): void => {
          hits += day.hits;
          if (query.unique && day.users !== undefined) sketchMerge(users, day.users);
        };
        if (last - first + 1 < days.size) {
          for (let key = first; key <= last; key++) {
            const day = days.get(key);
            if (day !== undefined) visit(day);
          }
        } else {
          for (const [key, day] of days) if (key >= first && key <= last) visit(day);
        }
        return query.unique ? sketchCount(users) : hits;
      }),
    countMigasUsageByVersion: (query) =>
      life.run(() => {
        const first = dayOf(query.start);
        const last = dayOf(query.end);
        const totals = new Map<string, { hits: number; users: Uint8Array }>();
        for (const [key, versions] of versionUsage.get(query.project) ?? []) {
          if (key < first || key > last) continue;
          for (const [version, day] of versions) {
            let total = totals.get(version);
            if (total === undefined) {
              totals.set(version, total = { hits: 0, users: new Uint8Array(SKETCH_BYTES) });
            }
            total.hits += day.hits;
            if (day.users !== undefined) sketchMerge(total.users, day.users);
          }
        }
        return [...totals].map(([version, total]): MigasVersionUsage => ({
          version,
          breadcrumbs: total.hits,
          users: sketchCount(total.users),
        })).sort((a, b) =>
          b.breadcrumbs - a.breadcrumbs ||
          (a.version < b.version ? -1 : a.version > b.version ? 1 : 0)
        ).slice(0, readLimit(query.limit));
      }),
  };
}
