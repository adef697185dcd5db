/**
 * The migas page: every registered project (`listMigasProjects`), its
 * breadcrumbs per UTC day over the last 30 days and its distinct users over
 * them (`countMigasUsage`), and its version facts (`findMigasProject`): the
 * latest version, and the flagged ones highlighted; and its breadcrumbs and
 * distinct users per project version over the same days
 * (`countMigasUsageByVersion`, the 50 most used versions), flagged versions
 * highlighted there too.
 *
 * @module
 */

import { barChart } from "./_svg_chart.ts";
import { markup, type SafeHtml } from "./_html.ts";
import { lastDays, table } from "./_format.ts";
import { figureCards } from "./_layout.ts";
import type { DashboardSources } from "./_sources.ts";

/** How many days the usage covers. */
export const MIGAS_DAYS = 30;
/** The most projects the page shows, in name order. */
const MAX_PROJECTS = 100;
/** The most versions of one project the usage table shows, most used first. */
export const MIGAS_VERSIONS = 50;

async function projectSection(sources: DashboardSources, project: string): Promise<SafeHtml> {
  const store = await sources.store();
  const now = sources.now();
  const record = await store.findMigasProject(project);
  const days = lastDays(now, MIGAS_DAYS);
  const points = [];
  for (const { day, start } of days) {
    const hits = await store.countMigasUsage({ project, start, end: start, unique: false });
    points.push({ label: day, value: hits });
  }
  const range = { project, start: days[0].start, end: now };
  const breadcrumbs = await store.countMigasUsage({ ...range, unique: false });
  const users = await store.countMigasUsage({ ...range, unique: true });
  const usage = await store.countMigasUsageByVersion({ ...range, limit: MIGAS_VERSIONS });
  const flagged = record?.badVersions ?? [];
  const latest = record?.latestVersion;
  const versions: [string, string][] = [];
  if (latest !== undefined) versions.push([latest, "latest"]);
  for (const version of flagged) versions.push([version, "flagged"]);
  return markup`<section data-project="${project}">
<h2>${project}</h2>
${
    figureCards([
      [`Breadcrumbs, ${MIGAS_DAYS} days`, breadcrumbs],
      [`Users, ${MIGAS_DAYS} days`, users],
      ["Latest version", latest ?? "unknown"],
      ["Flagged versions", flagged.length],
    ])
  }
${barChart(points, { title: `Breadcrumbs per UTC day, last ${MIGAS_DAYS} days` })}
${
    table(
      `migas-versions-${project}`,
      [["Version"], ["Status"]],
      versions.map(([version, status]) => [
        version,
        status === "flagged" ? markup`<span class="badge">flagged</span>` : status,
      ]),
      (index) => versions[index][1] === "flagged" ? "flagged" : undefined,
    )
  }
<h3>Usage per version, last ${MIGAS_DAYS} days</h3>
${
    table(
      `migas-usage-${project}`,
      [["Version"], ["Breadcrumbs", true], ["Users", true], ["Status"]],
      usage.map((entry) => [
        entry.version,
        entry.breadcrumbs,
        entry.users,
        flagged.includes(entry.version)
          ? markup`<span class="badge">flagged</span>`
          : entry.version === latest
          ? "latest"
          : "",
      ]),
      (index) => flagged.includes(usage[index].version) ? "flagged" : undefined,
    )
  }
</section>`;
}

/**
 * Renders the migas page.
 *
 * @param sources Where figures come from.
 * @returns The page's body.
 */
export async function migasPage(sources: DashboardSources): Promise<SafeHtml> {
  const store = await sources.store();
  const projects = await store.listMigasProjects();
  if (projects.length === 0) {
    return markup`
      <h1>migas</h1>
      <p class="note">No project is registered.</p>
    `;
  }
  const shown = projects.slice(0, MAX_PROJECTS);
  const sections = [];
  for (const project of shown) sections.push(await projectSection(sources, project));
  return markup`<h1>migas</h1>
${figureCards([["Projects", projects.length]])}
${
    projects.length > shown.length
      ? markup`<p class="note">The first ${shown.length} projects by name.</p>`
      : ""
  }
${sections}`;
}
