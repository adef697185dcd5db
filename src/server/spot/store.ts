/**
 * What the Spot relay keeps in the server's store: the blobs its clients
 * write with `@/store_blob` and read with `@/fetch_blob`, keyed per owner
 * (the verified `k.<hash>` address of the writer) and key, under a per-owner
 * quota. Live state (connections, ID cards, subscriptions) stays in the
 * relay's memory.
 *
 * @module
 */

/**
 * The largest blob the relay accepts, in bytes: the real service's limit
 * ("slightly less than 49kB" of plain value in spotlib's `StoreBlob`, so
 * 49,152 bytes of stored bottle).
 */
export const SPOT_BLOB_MAX_BYTES = 49_152;

/** The longest blob key, in UTF-8 bytes. */
export const SPOT_BLOB_KEY_MAX_BYTES = 256;

/** One blob write, as the relay passes it to {@linkcode SpotStore.putSpotBlob}. */
export interface SpotBlobWrite {
  /** The owner's address, such as `k.j0NDRmSPa5bfid2pAcUXaxCm2Dlh3TwayItZstwyeqQ`. */
  readonly owner: string;
  /** The blob's key, unique per owner. */
  readonly key: string;
  /** The blob: a bottle the relay cannot read. */
  readonly value: Uint8Array;
  /** The server's current time, in milliseconds. */
  readonly now: number;
  /** The most value bytes one owner keeps, this blob included (a replaced blob no longer counts). */
  readonly maxOwnerBytes: number;
  /** The most blobs one owner keeps, this one included. */
  readonly maxOwnerBlobs: number;
}

/** Every blob a store holds, over all owners. */
export interface SpotBlobTotals {
  /** How many blobs. */
  blobs: number;
  /** Their value bytes. */
  bytes: number;
}

/**
 * The Spot relay's slice of the server store. Every method is async, so a
 * networked database can stand behind it; times are passed in by the relay,
 * so a store never reads a clock of its own.
 *
 * @example Store a blob and read it back
 * ```ts
 * import { MemoryStore } from "@edgewire/sdk/server";
 *
 * const store = new MemoryStore();
 * const stored = await store.putSpotBlob({
 *   owner: "k.a", key: "settings", value: new Uint8Array([1, 2]), now: 0,
 *   maxOwnerBytes: 1024, maxOwnerBlobs: 10,
 * });
 * console.log(stored, await store.getSpotBlob("k.a", "settings")); // true Uint8Array(2) [ 1, 2 ]
 * await store.close();
 * ```
 */
export interface SpotStore {
  /**
   * Keeps a blob, replacing the owner's blob of the same key.
   *
   * @param write The owner, key, value, time and the owner's quota.
   * @returns `true` when stored; `false` when the owner's quota (or the
   * store's own bound) would be exceeded, and nothing changed.
   */
  putSpotBlob(write: SpotBlobWrite): Promise<boolean>;
  /**
   * Reads a blob.
   *
   * @param owner The owner's address.
   * @param key The blob's key.
   * @returns A copy of the blob, or `undefined` when there is none.
   */
  getSpotBlob(owner: string, key: string): Promise<Uint8Array | undefined>;
  /**
   * Deletes a blob.
   *
   * @param owner The owner's address.
   * @param key The blob's key.
   * @returns Whether there was one.
   */
  deleteSpotBlob(owner: string, key: string): Promise<boolean>;
  /**
   * Counts every blob and its bytes, from totals the store keeps as blobs
   * are written and deleted: one read, whatever the number of blobs.
   *
   * @returns The totals over every owner.
   */
  spotBlobTotals(): Promise<SpotBlobTotals>;
}
