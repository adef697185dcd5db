/**
 * The Spot part of {@linkcode MemoryStore}: blobs in a map per owner, each
 * owner's total bytes kept beside them for the quota, the store's blob
 * count and bytes kept as blobs come and go, and a bound on the
 * bytes of the whole store past which writes are refused.
 *
 * @module
 */

import type { SpotStore } from "../spot/store.ts";
import type { Lifetime } from "./_lifetime.ts";

/** The most blob bytes a memory store keeps over every owner; past it writes are refused. */
export const MEMORY_SPOT_MAX_BYTES: number = 64 * 1024 * 1024;

interface Owner {
  readonly blobs: Map<string, Uint8Array>;
  bytes: number;
}

/**
 * Builds the Spot part of a memory store.
 *
 * @param life The store's open-or-closed state.
 * @returns The part.
 */
export function memorySpot(life: Lifetime): SpotStore {
  const owners = new Map<string, Owner>();
  let total = 0;
  let blobs = 0;
  life.count("spot_blobs", () => blobs);

  return {
    putSpotBlob: (write) =>
      life.run(() => {
        const owner = owners.get(write.owner) ?? { blobs: new Map(), bytes: 0 };
        const previous = owner.blobs.get(write.key);
        const freed = previous?.byteLength ?? 0;
        const count = owner.blobs.size + (previous === undefined ? 1 : 0);
        const bytes = owner.bytes - freed + write.value.byteLength;
        if (
          count > write.maxOwnerBlobs || bytes > write.maxOwnerBytes ||
          total - freed + write.value.byteLength > MEMORY_SPOT_MAX_BYTES
        ) {
          return false;
        }
        if (previous === undefined) blobs++;
        owner.blobs.set(write.key, write.value.slice());
        owner.bytes = bytes;
        total += write.value.byteLength - freed;
        owners.set(write.owner, owner);
        return true;
      }),
    getSpotBlob: (ownerAddress, key) =>
      life.run(() => owners.get(ownerAddress)?.blobs.get(key)?.slice()),
    deleteSpotBlob: (ownerAddress, key) =>
      life.run(() => {
        const owner = owners.get(ownerAddress);
        const value = owner?.blobs.get(key);
        if (owner === undefined || value === undefined) return false;
        owner.blobs.delete(key);
        blobs--;
        owner.bytes -= value.byteLength;
        total -= value.byteLength;
        if (owner.blobs.size === 0) owners.delete(ownerAddress);
        return true;
      }),
    spotBlobTotals: () => life.run(() => ({ blobs, bytes: total })),
  };
}
