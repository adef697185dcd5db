/**
 * The store's sizes as `/metrics` gauges: `edgewire_store_bytes` and
 * `edgewire_store_free_bytes` when the store has a database file, and
 * `edgewire_store_rows{table="…"}` for each table it counts cheaply. A
 * store without `storeSizes()` adds none.
 *
 * @module
 */

import type { Gauge } from "./_observe.ts";
import type { ServerStore } from "./store.ts";

/**
 * Asks the store for its sizes and turns them into gauges.
 *
 * @param store The server's store.
 * @returns The gauges, empty when the store does not report sizes.
 * @throws {Error} Whatever `storeSizes()` rejects with.
 */
export async function storeGauges(store: ServerStore): Promise<Gauge[]> {
  if (typeof store.storeSizes !== "function") return [];
  const sizes = await store.storeSizes();
  const gauges: Gauge[] = [];
  if (typeof sizes.bytes === "number") {
    gauges.push({
      name: "edgewire_store_bytes",
      help: "The store's database size in bytes, free pages included.",
      value: sizes.bytes,
    });
  }
  if (typeof sizes.freeBytes === "number") {
    gauges.push({
      name: "edgewire_store_free_bytes",
      help: "Bytes of free pages in the store's database, reused before it grows.",
      value: sizes.freeBytes,
    });
  }
  for (
    const [table, value] of Object.entries(sizes.rows ?? {}).sort(([a], [b]) => a < b ? -1 : 1)
  ) {
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    gauges.push({
      name: "edgewire_store_rows",
      help: "Rows in the store's tables that are cheap to count, by table.",
      value,
      labels: { table },
    });
  }
  return gauges;
}
