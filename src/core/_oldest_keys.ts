/**
 * Drops the oldest key of a `Map` used as a bounded cache, in constant time
 * amortised. `map.keys().next()` walks past every slot deleted since V8 last
 * rebuilt the table, so a cache dropping its oldest key on every new one, at
 * a bound of 10,000 keys, paid about 8 µs a new key. One iterator kept from
 * call to call passes each deleted slot once. (`_age_list.ts` serves tables
 * that must look at their oldest entry without dropping it.)
 *
 * @module
 */

/**
 * The oldest keys of one `Map`, dropped one at a time. Keys the map deletes
 * or re-inserts meanwhile are fine: a key moved to the end is met there.
 *
 * @example Keep the newest two
 * ```ts
 * import { OldestKeys } from "./_oldest_keys.ts";
 *
 * const cache = new Map<string, number>();
 * const oldest = new OldestKeys(cache);
 * for (const [key, value] of [["a", 1], ["b", 2], ["c", 3]] as const) {
 *   if (cache.size >= 2) oldest.drop();
 *   cache.set(key, value);
 * }
 * console.log([...cache.keys()]); // ["b", "c"]
 * ```
 */
export class OldestKeys<K> {
  readonly #map: Map<K, unknown>;
  // Every key before it was deleted, so the next key it meets is the oldest.
  #cursor: Iterator<K> | undefined;

  /**
   * Follows a map.
   *
   * @param map The map whose keys to drop.
   */
  constructor(map: Map<K, unknown>) {
    this.#map = map;
  }

  /**
   * Deletes the map's oldest key.
   *
   * @returns The key, or `undefined` when the map is empty.
   */
  drop(): K | undefined {
    let next = this.#cursor?.next();
    // A finished iterator stays finished, even once keys are added after it
    if (next === undefined || next.done) {
      this.#cursor = this.#map.keys();
      next = this.#cursor.next();
    }
    if (next.done) return undefined;
    this.#map.delete(next.value);
    return next.value;
  }
}
