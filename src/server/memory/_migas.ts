/**
 * The migas part of {@linkcode MemoryStore}: registered projects in a map
 * and breadcrumbs in a list.
 *
 * @module
 */

import type { MigasBreadcrumbRecord, MigasStore } from "../migas/store.ts";
import type { Lifetime } from "./_lifetime.ts";

interface Project {
  latestVersion: string | undefined;
  badVersions: string[];
}

/**
 * Builds the migas part of a memory store.
 *
 * @param life The store's open-or-closed state.
 * @returns The part.
 */
export function memoryMigas(life: Lifetime): MigasStore {
  const projects = new Map<string, Project>();
  const breadcrumbs: MigasBreadcrumbRecord[] = [];
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
    addMigasBreadcrumb: (breadcrumb) => life.run(() => void breadcrumbs.push({ ...breadcrumb })),
    countMigasUsage: (query) =>
      life.run(() => {
        const matching = breadcrumbs.filter((crumb) =>
          crumb.project === query.project && crumb.timestamp >= query.start &&
          crumb.timestamp <= query.end
        );
        if (!query.unique) return matching.length;
        const users = new Set<string>();
        for (const crumb of matching) if (crumb.userId !== undefined) users.add(crumb.userId);
        return users.size;
      }),
  };
}
