/**
 * The Spot part of {@linkcode D1Store}: the `spot_blobs` table, one row per
 * owner and key. A write checks the owner's quota inside its own statement
 * (an upsert whose `SELECT` passes only under the quota), so two relays
 * sharing the database cannot both pass it. `spot_blob_totals`, one row
 * kept by triggers on `spot_blobs`, holds the count and bytes of every blob.
 *
 * @module
 */

import type { SpotStore } from "../spot/store.ts";
import { bytesOf, type D1Connection } from "./_connection.ts";

const OTHERS = "FROM spot_blobs WHERE owner = ? AND key != ?";

/**
 * Builds the Spot part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function d1Spot(db: D1Connection): SpotStore {
  return {
    putSpotBlob: async (write) =>
      await db.run(
        `INSERT INTO spot_blobs (owner, key, value, updated_at)
         SELECT ?, ?, ?, ? WHERE (SELECT COUNT(*) ${OTHERS}) + 1 <= ?
           AND (SELECT COALESCE(SUM(LENGTH(value)), 0) ${OTHERS}) + ? <= ?
         ON CONFLICT (owner, key) DO UPDATE SET
           value = excluded.value, updated_at = excluded.updated_at`,
        [
          write.owner,
          write.key,
          write.value,
          write.now,
          write.owner,
          write.key,
          write.maxOwnerBlobs,
          write.owner,
          write.key,
          write.value.byteLength,
          write.maxOwnerBytes,
        ],
      ) > 0,
    getSpotBlob: async (owner, key) => {
      const row = await db.first("SELECT value FROM spot_blobs WHERE owner = ? AND key = ?", [
        owner,
        key,
      ]);
      return row === undefined ? undefined : bytesOf(row.value);
    },
    deleteSpotBlob: async (owner, key) =>
      await db.run("DELETE FROM spot_blobs WHERE owner = ? AND key = ?", [owner, key]) > 0,
    spotBlobTotals: async () => {
      const row = await db.first("SELECT blobs, bytes FROM spot_blob_totals WHERE id = 1");
      return { blobs: Number(row?.blobs ?? 0), bytes: Number(row?.bytes ?? 0) };
    },
  };
}
