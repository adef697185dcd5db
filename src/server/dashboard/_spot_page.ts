/**
 * The Spot page: the relay's peers online (open connections) and the ID
 * cards it remembers, from its live state; the blob storage: the count and
 * bytes of every blob from the totals each store keeps (`spotBlobTotals()`),
 * and the database's bytes where the store has a file (`storeSizes()`); and
 * the discovery requests `/metrics` counts. Blobs are read by owner and key
 * only, so they are not listed. A relay nothing has used yet is not started
 * by this page.
 *
 * @module
 */

import { markup, type SafeHtml } from "./_html.ts";
import { formatBytes, table } from "./_format.ts";
import { figureCards } from "./_layout.ts";
import type { DashboardSources } from "./_sources.ts";
import { SPOT_DISCOVERY_PATH } from "../spot/routes.ts";

/**
 * Renders the Spot page.
 *
 * @param sources Where figures come from.
 * @returns The page's body.
 */
export async function spotPage(sources: DashboardSources): Promise<SafeHtml> {
  const relay = sources.spot();
  const store = await sources.store();
  const sizes = typeof store.storeSizes === "function" ? await store.storeSizes() : undefined;
  const totals = await store.spotBlobTotals();
  const discovery = sources.metrics().requests
    .filter((entry) => entry.route === SPOT_DISCOVERY_PATH)
    .reduce((sum, entry) => sum + entry.count, 0);
  const storage: [string, string | number][] = [
    ["Blobs stored", totals.blobs],
    ["Blob bytes", formatBytes(totals.bytes)],
  ];
  if (typeof sizes?.bytes === "number") {
    storage.push(["Store size (every service)", formatBytes(sizes.bytes)]);
  }
  return markup`<h1>Spot</h1>
${
    figureCards([
      ["Peers online", relay?.connectionCount ?? 0],
      ["ID cards known", relay?.idCardCount ?? 0],
      ["Blobs stored", totals.blobs],
      ["Blob bytes", totals.bytes],
      ["Discovery requests", discovery],
    ])
  }
${
    relay === undefined
      ? markup`<p class="note">The relay has not started: no client has connected since the server started.</p>`
      : markup`<p class="note">Relay code ${relay.serverCode}.</p>`
  }
<h2>Blob storage</h2>
${table("spot-storage", [["Figure"], ["Value", true]], storage)}`;
}
