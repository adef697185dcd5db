/**
 * The mkStats page. Without a plugin id it lists the plugins active over
 * the last 30 UTC days, most active first (`listMkStatsPlugins`, at most 20),
 * and for the busiest ten their daily actives per day and their daily
 * actives and events per plugin version (`getMkStatsActivity`). With a
 * plugin id (a GET form, or a plugin's link; the id is not a secret) it
 * shows that plugin's installs, daily actives over the last 60 UTC days and
 * event totals per event and version (`getStats`), and its activity per
 * version over the last 30 days.
 *
 * @module
 */

import { barChart } from "./_svg_chart.ts";
import { markup, type SafeHtml } from "./_html.ts";
import { lastDays, table } from "./_format.ts";
import { figureCards } from "./_layout.ts";
import type { DashboardSources } from "./_sources.ts";
import type { MkStatsActivityQuery, PluginVersionDay } from "../mkstats/store.ts";
import type { ServerStore } from "../store.ts";

/** How many days the daily-actives chart of one plugin covers. */
const CHART_DAYS = 60;
/** How many days the plugin list and the activity per version cover. */
export const MKSTATS_ACTIVITY_DAYS = 30;
/** The most plugins the list shows. */
export const MKSTATS_LISTED_PLUGINS = 20;
/** How many of the listed plugins get their activity per version shown. */
export const MKSTATS_DETAILED_PLUGINS = 10;
/** The most rows (day and version) read of one plugin's activity. */
const ACTIVITY_ROWS = 1000;

/** The longest plugin id the page asks the store about. */
const MAX_PLUGIN_ID = 256;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The window of the activity reads: the last 30 UTC days, today included. */
function activityWindow(now: number, limit: number): MkStatsActivityQuery {
  const days = lastDays(now, MKSTATS_ACTIVITY_DAYS);
  return { firstDay: days[0].day, lastDay: days[days.length - 1].day, limit };
}

/** Daily actives and events per version, summed over the rows' days, by version. */
function perVersion(rows: readonly PluginVersionDay[]): [string, number, number][] {
  const versions = new Map<string, [number, number]>();
  for (const row of rows) {
    const entry = versions.get(row.version) ?? [0, 0];
    entry[0] += row.actives;
    entry[1] += row.events;
    versions.set(row.version, entry);
  }
  return [...versions].sort(([a], [b]) => compare(a, b))
    .map(([version, [actives, events]]) => [version, actives, events]);
}

function versionTable(label: string, rows: readonly PluginVersionDay[]): SafeHtml {
  return table(
    label,
    [["Version"], ["Daily actives (install-days)", true], ["Events", true]],
    perVersion(rows),
  );
}

async function pluginSection(
  store: ServerStore,
  now: number,
  pluginId: string,
): Promise<SafeHtml> {
  const rows = await store.getMkStatsActivity(pluginId, activityWindow(now, ACTIVITY_ROWS));
  const perDay = new Map<string, number>();
  for (const row of rows) perDay.set(row.day, (perDay.get(row.day) ?? 0) + row.actives);
  const points = lastDays(now, MKSTATS_ACTIVITY_DAYS).map(({ day }) => ({
    label: day,
    value: perDay.get(day) ?? 0,
  }));
  const href = `/dashboard/mkstats?plugin=${encodeURIComponent(pluginId)}`;
  return markup`<section data-plugin="${pluginId}">
<h2><a href="${href}">${pluginId}</a></h2>
${barChart(points, { title: `Daily actives, last ${MKSTATS_ACTIVITY_DAYS} UTC days` })}
${versionTable(`mkstats-versions-${pluginId}`, rows)}
</section>`;
}

async function pluginList(sources: DashboardSources, form: SafeHtml): Promise<SafeHtml> {
  const store = await sources.store();
  const now = sources.now();
  const plugins = await store.listMkStatsPlugins(activityWindow(now, MKSTATS_LISTED_PLUGINS));
  const sections = [];
  for (const plugin of plugins.slice(0, MKSTATS_DETAILED_PLUGINS)) {
    sections.push(await pluginSection(store, now, plugin.pluginId));
  }
  return markup`<h1>mkStats</h1>${form}
${figureCards([[`Plugins active, ${MKSTATS_ACTIVITY_DAYS} days`, plugins.length]])}
<h2>Plugins, most active first</h2>
<p class="note">Daily actives summed over the last ${MKSTATS_ACTIVITY_DAYS} UTC days (install-days); the ${MKSTATS_LISTED_PLUGINS} most active plugins at most, the first ${MKSTATS_DETAILED_PLUGINS} shown per version below.</p>
${
    table(
      "mkstats-plugins",
      [["Plugin"], ["Daily actives (install-days)", true], ["Events", true]],
      plugins.map((plugin) => [
        markup`<a href="/dashboard/mkstats?plugin=${
          encodeURIComponent(plugin.pluginId)
        }">${plugin.pluginId}</a>`,
        plugin.actives,
        plugin.events,
      ]),
    )
  }
${sections}`;
}

/**
 * Renders the mkStats page.
 *
 * @param sources Where figures come from.
 * @param plugin The `plugin` query parameter, if any.
 * @returns The page's body.
 */
export async function mkstatsPage(
  sources: DashboardSources,
  plugin: string | undefined,
): Promise<SafeHtml> {
  const id = (plugin ?? "").trim().slice(0, MAX_PLUGIN_ID);
  const form = markup`
    <form class="inline" method="get" action="/dashboard/mkstats">
      <label for="plugin">Plugin id</label>
      <input id="plugin" name="plugin" value="${id}" required maxlength="${MAX_PLUGIN_ID}">
      <button type="submit">Show</button>
    </form>
  `;
  if (id === "") return await pluginList(sources, form);
  const store = await sources.store();
  const now = sources.now();
  const stats = await store.getStats(id);
  const activity = await store.getMkStatsActivity(id, activityWindow(now, ACTIVITY_ROWS));
  const actives = new Map(stats.daily_actives.map((entry) => [entry.day, entry.count]));
  const days = lastDays(now, CHART_DAYS).map(({ day }) => ({
    label: day,
    value: actives.get(day) ?? 0,
  }));
  const today = days[days.length - 1].value;
  const totalEvents = stats.events.reduce((sum, entry) => sum + entry.count, 0);
  const eventsPerVersion = new Map<string, number>();
  for (const entry of stats.events) {
    eventsPerVersion.set(entry.version, (eventsPerVersion.get(entry.version) ?? 0) + entry.count);
  }
  const versions = [...eventsPerVersion].sort(([a], [b]) => compare(a, b));
  return markup`<h1>mkStats: ${stats.plugin_id}</h1>${form}
<p class="note"><a href="/dashboard/mkstats">Every plugin</a></p>
${
    figureCards([
      ["Installs", stats.installs],
      ["Daily actives today", today],
      ["Days with actives", stats.daily_actives.length],
      ["Events", totalEvents],
    ])
  }
${barChart(days, { title: `Daily actives, last ${CHART_DAYS} UTC days` })}
${
    barChart(versions.map(([version, count]) => ({ label: version, value: count })), {
      title: "Events per plugin version",
      series: "series-2",
    })
  }
<h2>Per plugin version, last ${MKSTATS_ACTIVITY_DAYS} UTC days</h2>
${versionTable("mkstats-versions", activity)}
<h2>Events per plugin version</h2>
${
    table(
      "mkstats-events",
      [["Event"], ["Version"], ["Count", true]],
      stats.events.map((entry) => [entry.event, entry.version, entry.count]),
    )
  }
<h2>Daily actives</h2>
${
    table(
      "mkstats-daily-actives",
      [["Day"], ["Installs", true]],
      [...stats.daily_actives].reverse().map((entry) => [entry.day, entry.count]),
    )
  }`;
}
