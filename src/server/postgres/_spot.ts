/**
 * The Spot part of {@linkcode PostgresStore}: the `spot_blobs` table, one
 * row per owner and key. A write takes a transaction-scoped advisory lock on
 * its owner, then checks the owner's quota and replaces the old row, so two
 * relays sharing the database cannot both pass the quota. `spot_blob_totals`,
 * one row kept by a trigger on `spot_blobs`, holds the count and bytes of
 * every blob.
 *
 * @module
 */

import type { SpotStore } from "../spot/store.ts";
import type { PostgresConnection } from "./_connection.ts";
import { toText } from "./_text.ts";

/**
 * Builds the Spot part.
 *
 * @param db The connection.
 * @returns The part.
 */
export function postgresSpot(db: PostgresConnection): SpotStore {
  const s = db.s;
  // The lock's key names the schema too: stores in other schemas never wait on each other.
  const lockOwner = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
  const usage = `SELECT count(*) AS count, coalesce(sum(octet_length(value)), 0) AS bytes
     FROM ${s}spot_blobs WHERE owner = $1 AND key <> $2`;
  const upsert = `INSERT INTO ${s}spot_blobs (owner, key, value, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (owner, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;
  const select = `SELECT value FROM ${s}spot_blobs WHERE owner = $1 AND key = $2`;
  const remove = `DELETE FROM ${s}spot_blobs WHERE owner = $1 AND key = $2`;
  const totals = `SELECT blobs, bytes FROM ${s}spot_blob_totals WHERE id = 1`;

  return {
    putSpotBlob: (write) =>
      db.transaction(async (query) => {
        const owner = toText(write.owner);
        const key = toText(write.key);
        await query(lockOwner, [`edgewire-spot:${s}${owner}`]);
        const [others] = await query(usage, [owner, key]);
        if (
          Number(others.count) + 1 > write.maxOwnerBlobs ||
          Number(others.bytes) + write.value.byteLength > write.maxOwnerBytes
        ) {
          return false;
        }
        await query(upsert, [owner, key, write.value, write.now]);
        return true;
      }),
    getSpotBlob: async (owner, key) => {
      const [row] = await db.query(select, [toText(owner), toText(key)]);
      return row === undefined ? undefined : new Uint8Array(row.value as Uint8Array);
    },
    deleteSpotBlob: async (owner, key) =>
      (await db.query(remove, [toText(owner), toText(key)])).count > 0,
    spotBlobTotals: async () => {
      const [row] = await db.query(totals);
      return { blobs: Number(row.blobs), bytes: Number(row.bytes) };
    },
  };
}
