/**
 * The overview page: live connections of the Emitter broker and the Spot
 * relay, the store's sizes (`storeSizes()`, rows by table and bytes where
 * the store reports them), and the request and rejection counters that
 * `/metrics` renders, by route and status.
 *
 * @module
 */

import { markup, type SafeHtml } from "./_html.ts";
import { formatBytes, table } from "./_format.ts";
import { figureCards } from "./_layout.ts";
import type { DashboardSources } from "./_sources.ts";

function byName<T>(pick: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = pick(a);
    const y = pick(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/**
 * Renders the overview page.
 *
 * @param sources Where figures come from.
 * @returns The page's body.
 */
export async function overviewPage(sources: DashboardSources): Promise<SafeHtml> {
  const store = await sources.store();
  const sizes = typeof store.storeSizes === "function" ? await store.storeSizes() : undefined;
  const { requests, rejections } = sources.metrics();
  const total = requests.reduce((sum, entry) => sum + entry.count, 0);
  const refused = rejections.reduce((sum, entry) => sum + entry.count, 0);
  const rows = Object.entries(sizes?.rows ?? {}).filter(([, value]) =>
    typeof value === "number" && Number.isFinite(value)
  ).sort(byName(([table]) => table));
  return markup`<h1>Overview</h1>
${
    figureCards([
      ["Requests", total],
      ["Rejections", refused],
      ["Emitter connections", sources.emitter()?.stats().connections ?? 0],
      ["Spot peers online", sources.spot()?.connectionCount ?? 0],
      ...(typeof sizes?.bytes === "number"
        ? [["Store size", formatBytes(sizes.bytes)] as const]
        : []),
    ])
  }
<h2>Store</h2>
${table("store-rows", [["Table"], ["Rows", true]], rows.map(([name, value]) => [name, value]))}
<h2>Requests</h2>
${
    table(
      "requests",
      [["Method"], ["Route"], ["Status", true], ["Count", true]],
      [...requests].sort(byName((entry) => `${entry.route} ${entry.method} ${entry.status}`))
        .map((entry) => [entry.method, entry.route, entry.status, entry.count]),
    )
  }
<h2>Rejections</h2>
${
    table(
      "rejections",
      [["Reason"], ["Count", true]],
      [...rejections].sort(byName((entry) => entry.reason)).map((
        entry,
      ) => [entry.reason, entry.count]),
    )
  }`;
}
