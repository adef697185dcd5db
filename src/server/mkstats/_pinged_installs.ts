/**
 * Installs that have pinged, remembered by install-token hash, for the
 * stores to answer `findInstallToken` without a read. A token's install,
 * user and expiry never change (each handshake issues a fresh random
 * token), and an install that has pinged never stops having pinged, so a
 * remembered record stays true for every process sharing the database. An
 * unpinged install, or a miss, is always read afresh. A pruned token is
 * past its expiry, which the routes refuse anyway.
 *
 * @module
 */

import type { InstallTokenRecord } from "./store.ts";
import { OldestKeys } from "../../core/_oldest_keys.ts";

/** The most installs remembered; the oldest remembered goes first. */
export const MAX_PINGED_INSTALLS = 10_000;

/**
 * A bounded table of pinged installs, each with a tag of the store's own
 * (the SQLite store's batch, so a record learned in a batch is answered
 * only once that batch commits).
 *
 * @example Remember an install once it has pinged
 * ```ts
 * import { PingedInstalls } from "./_pinged_installs.ts";
 *
 * const pinged = new PingedInstalls<number>();
 * const record = { pluginId: "p", userHash: "u", expiresAt: 2, hasPinged: true };
 * pinged.remember("hash", record, 0);
 * console.log(pinged.get("hash")?.record.pluginId); // "p"
 * ```
 */
export class PingedInstalls<Tag> {
  readonly #known = new Map<string, { record: InstallTokenRecord; tag: Tag }>();
  readonly #oldest = new OldestKeys(this.#known);

  /**
   * Looks a token up.
   *
   * @param tokenHash The install token's hash.
   * @returns A copy of the record and its tag, or `undefined` when not remembered.
   */
  get(tokenHash: string): { record: InstallTokenRecord; tag: Tag } | undefined {
    const known = this.#known.get(tokenHash);
    return known === undefined ? undefined : { record: { ...known.record }, tag: known.tag };
  }

  /**
   * Remembers a record read from the store, when its install has pinged.
   *
   * @param tokenHash The install token's hash.
   * @param record The record as read.
   * @param tag The store's tag for it.
   */
  remember(tokenHash: string, record: InstallTokenRecord, tag: Tag): void {
    if (!record.hasPinged) return;
    if (this.#known.size >= MAX_PINGED_INSTALLS) this.#oldest.drop();
    this.#known.set(tokenHash, { record: { ...record }, tag });
  }

  /**
   * Forgets one token: it is being recorded again.
   *
   * @param tokenHash The install token's hash.
   */
  forget(tokenHash: string): void {
    this.#known.delete(tokenHash);
  }

  /**
   * Forgets the tokens past their expiry.
   *
   * @param now The time, in milliseconds.
   */
  forgetExpired(now: number): void {
    for (const [hash, known] of this.#known) {
      if (known.record.expiresAt < now) this.#known.delete(hash);
    }
  }

  /** Forgets every token. */
  clear(): void {
    this.#known.clear();
  }
}
