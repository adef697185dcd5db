/**
 * The Spot part of {@linkcode SqliteStore}: the `spot_blobs` table, one row
 * per owner and key. A write checks the owner's quota and replaces the old
 * row in one transaction, so two relays sharing the file cannot both pass
 * the quota. `spot_blob_totals`, one row kept by triggers on `spot_blobs`,
 * holds the count and bytes of every blob.
 *
 * @module
 */

import type { SpotStore } from "../spot/store.ts";
import type { SqliteConnection } from "./_connection.ts";
import { SPOT_BLOB_TOTALS, SPOT_BLOBS, sqliteScript } from "../_sqlite_schema.ts";

const SCHEMA = sqliteScript(SPOT_BLOBS);

interface UsageRow {
  count: number;
  bytes: number | null;
}

/**
 * Builds the Spot part of a SQLite store.
 *
 * @param db The open database.
 * @returns The part.
 */
export function sqliteSpot(db: SqliteConnection): SpotStore {
  db.schema(SCHEMA);
  const hasTotals = db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'spot_blob_totals'",
  ).get() !== undefined;
  // The row, its first figures and its triggers commit together.
  if (!hasTotals) db.transaction(() => db.schema(sqliteScript(SPOT_BLOB_TOTALS)));
  const totals = db.prepare("SELECT blobs, bytes FROM spot_blob_totals WHERE id = 1");
  const usage = db.prepare(
    "SELECT COUNT(*) AS count, SUM(LENGTH(value)) AS bytes FROM spot_blobs WHERE owner = ? AND key != ?",
  );
  const upsert = db.prepare(
    `INSERT INTO spot_blobs (owner, key, value, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (owner, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  );
  const select = db.prepare("SELECT value FROM spot_blobs WHERE owner = ? AND key = ?");
  const remove = db.prepare("DELETE FROM spot_blobs WHERE owner = ? AND key = ?");

  return {
    putSpotBlob: (write) =>
      db.run(() =>
        db.transaction(() => {
          const others = usage.get(write.owner, write.key) as unknown as UsageRow;
          if (
            others.count + 1 > write.maxOwnerBlobs ||
            (others.bytes ?? 0) + write.value.byteLength > write.maxOwnerBytes
          ) {
            return false;
          }
          upsert.run(write.owner, write.key, write.value, write.now);
          return true;
        })
      ),
    getSpotBlob: (owner, key) =>
      db.run(() => {
        const row = select.get(owner, key) as { value: Uint8Array } | undefined;
        return row === undefined ? undefined : new Uint8Array(row.value);
      }),
    deleteSpotBlob: (owner, key) => db.run(() => Number(remove.run(owner, key).changes) > 0),
    spotBlobTotals: () =>
      db.read(() => {
        const row = totals.get() as { blobs: number; bytes: number };
        return { blobs: Number(row.blobs), bytes: Number(row.bytes) };
      }),
  };
}
