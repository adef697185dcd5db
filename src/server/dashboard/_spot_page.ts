/**
 * The Spot page: the relay's peers online (open connections) and the ID
 * cards it remembers, from its live state; the blob storage as the store
 * reports its sizes (`storeSizes()`: the `spot_blobs` rows where it counts
 * them, the database's bytes where it has a file); and the discovery
 * requests `/metrics` counts. The Spot part of the store reads blobs by
 * owner and key only, so blobs are not listed. A relay nothing has used yet
 * is not started by this page.
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
  const blobs = sizes?.rows?.spot_blobs;
  const discovery = sources.metrics().requests
    .filter((entry) => entry.route === SPOT_DISCOVERY_PATH)
    .reduce((sum, entry) => sum + entry.count, 0);
  const storage: [string, string | number][] = [];
  if (typeof blobs === "number") storage.push(["Blobs stored", blobs]);
  if (typeof sizes?.bytes === "number") {
    storage.push(["Store size (every service)", formatBytes(sizes.bytes)]);
  }
  return markup`<h1>Spot</h1>
${
    figureCards([
      ["Peers online", relay?.connectionCount ?? 0],
      ["ID cards known", relay?.idCardCount ?? 0],
      ["Blobs stored", typeof blobs === "number" ? blobs : "not reported"],
      ["Discovery requests", discovery],
    ])
  }
${
    relay === undefined
      ? markup`<p class="note">The relay has not started: no client has connected since the server started.</p>`
      : markup`<p class="note">Relay code ${relay.serverCode}.</p>`
  }
<h2>Blob storage</h2>
${
    storage.length === 0
      ? markup`<p class="note">This store does not report its sizes.</p>`
      : table("spot-storage", [["Figure"], ["Value", true]], storage)
  }`;
}
