/**
 * The mkStats page: one plugin's installs, daily actives over the last 60
 * UTC days, and event totals per event and plugin version, read with
 * `getStats`. The store has no list of plugins, so the page asks for the
 * plugin id (a GET form; the id is not a secret).
 *
 * @module
 */

import { barChart } from "./_svg_chart.ts";
import { markup, type SafeHtml } from "./_html.ts";
import { lastDays, table } from "./_format.ts";
import { figureCards } from "./_layout.ts";
import type { DashboardSources } from "./_sources.ts";

/** How many days the daily-actives chart covers. */
const CHART_DAYS = 60;

/** The longest plugin id the page asks the store about. */
const MAX_PLUGIN_ID = 256;

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
  if (id === "") {
    return markup`<h1>mkStats</h1>${form}
<p class="note">The store keeps no list of plugins: enter the id a plugin reports.</p>`;
  }
  const store = await sources.store();
  const stats = await store.getStats(id);
  const actives = new Map(stats.daily_actives.map((entry) => [entry.day, entry.count]));
  const days = lastDays(sources.now(), CHART_DAYS).map(({ day }) => ({
    label: day,
    value: actives.get(day) ?? 0,
  }));
  const today = days[days.length - 1].value;
  const totalEvents = stats.events.reduce((sum, entry) => sum + entry.count, 0);
  const perVersion = new Map<string, number>();
  for (const entry of stats.events) {
    perVersion.set(entry.version, (perVersion.get(entry.version) ?? 0) + entry.count);
  }
  const versions = [...perVersion].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return markup`<h1>mkStats: ${stats.plugin_id}</h1>${form}
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
