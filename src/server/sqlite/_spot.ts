/**
 * The Spot part of {@linkcode SqliteStore}: the `spot_blobs` table, one row
 * per owner and key. A write checks the owner's quota and replaces the old
 * row in one transaction, so two relays sharing the file cannot both pass
 * the quota.
 *
 * @module
 */

import type { SpotStore } from "../spot/store.ts";
import type { SqliteConnection } from "./_connection.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS spot_blobs (
  owner TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (owner, key)
);
`;

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
  };
}
