/**
 * Entries in the order they were last added, oldest first, linked through
 * the entries themselves: for a bounded table that drops its oldest entry,
 * beside a `Map` that finds an entry by key. Taking the first key of the
 * `Map` itself instead walks past every slot deleted since V8 last rebuilt
 * its table; at a bound of 10,000 keys, with the oldest dropped on every
 * new key, that cost 8.6 µs a new key against 0.7 µs below the bound. (A
 * cache that only drops its oldest key needs no list: `_oldest_keys.ts`.)
 *
 * @module
 */

/** What an entry carries to be listed: its neighbours, `undefined` at either end. */
export interface Aged<T> {
  /** The entry added before it. */
  older: T | undefined;
  /** The entry added after it. */
  newer: T | undefined;
}

/**
 * A list of entries, oldest first. An entry is in at most one list at a
 * time, and only removed from the list it is in.
 *
 * @example Drop the oldest, move one to the back
 * ```ts
 * import { type Aged, AgeList } from "./_age_list.ts";
 *
 * interface Item extends Aged<Item> { name: string }
 * const item = (name: string): Item => ({ name, older: undefined, newer: undefined });
 * const list = new AgeList<Item>();
 * const [a, b, c] = [item("a"), item("b"), item("c")];
 * list.append(a);
 * list.append(b);
 * list.append(c);
 * list.touch(a);
 * list.remove(list.oldest!);
 * console.log(list.oldest?.name, list.newest?.name); // "c" "a"
 * ```
 */
export class AgeList<T extends Aged<T>> {
  /** The oldest entry, `undefined` when empty. */
  oldest: T | undefined;
  /** The newest entry, `undefined` when empty. */
  newest: T | undefined;

  /**
   * Adds an entry not in any list as the newest.
   *
   * @param entry The entry.
   */
  append(entry: T): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
  }

  /**
   * Takes an entry of this list out of it.
   *
   * @param entry The entry.
   */
  remove(entry: T): void {
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = entry.newer = undefined;
  }

  /**
   * Moves an entry of this list to the newest place.
   *
   * @param entry The entry.
   */
  touch(entry: T): void {
    if (entry === this.newest) return;
    this.remove(entry);
    this.append(entry);
  }

  /** Empties the list; its entries' links are left as they were. */
  clear(): void {
    this.oldest = this.newest = undefined;
  }
}
