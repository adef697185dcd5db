/**
 * An index of idempotency keys in claim order, overall and per scope, with
 * the oldest of either found in constant time: the `MemoryStore` keeps its
 * keys in it, and the SQLite store its index of the rows it appends (an
 * index on random keys in SQLite costs a random page written per request).
 *
 * Both orders are lists threaded through the entries rather than a `Map`'s
 * own order (see `../../core/_age_list.ts`), so the oldest of 100,000 keys
 * is found without walking the slots of the keys deleted before it.
 *
 * @module
 */

import { type Aged, AgeList } from "../../core/_age_list.ts";

/** One key's entry: its scope, key and what the store keeps with it. */
export interface ClaimEntry<T> extends Aged<ClaimEntry<T>> {
  /** The scope. */
  readonly scope: string;
  /** The key as the client sent it. */
  readonly key: string;
  /** What the store keeps for the key. */
  readonly value: T;
  /** The next older and newer entries of the scope (`older` and `newer`: of all). */
  olderInScope: ClaimEntry<T> | undefined;
  newerInScope: ClaimEntry<T> | undefined;
}

/** The ends of a scope's entries, and their number. */
interface Ends<T> {
  size: number;
  oldest: ClaimEntry<T> | undefined;
  newest: ClaimEntry<T> | undefined;
}

/** Keys by scope and key, oldest first overall and per scope. */
export class ClaimIndex<T> {
  readonly #entries = new Map<string, ClaimEntry<T>>();
  readonly #scopes = new Map<string, Ends<T>>();
  readonly #all = new AgeList<ClaimEntry<T>>();

  /** The number of keys. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Finds a key's entry.
   *
   * @param scope The scope.
   * @param key The key.
   * @returns The entry, or `undefined`.
   */
  get(scope: string, key: string): ClaimEntry<T> | undefined {
    return this.#entries.get(idOf(scope, key));
  }

  /**
   * Adds a key as the newest, replacing its entry if it has one.
   *
   * @param scope The scope.
   * @param key The key.
   * @param value What to keep with it.
   * @returns The new entry.
   */
  add(scope: string, key: string, value: T): ClaimEntry<T> {
    const id = idOf(scope, key);
    const existing = this.#entries.get(id);
    if (existing !== undefined) this.remove(existing);
    let ends = this.#scopes.get(scope);
    if (ends === undefined) {
      ends = { size: 0, oldest: undefined, newest: undefined };
      this.#scopes.set(scope, ends);
    }
    const entry: ClaimEntry<T> = {
      scope,
      key,
      value,
      olderInScope: ends.newest,
      newerInScope: undefined,
      older: undefined,
      newer: undefined,
    };
    if (ends.newest === undefined) ends.oldest = entry;
    else ends.newest.newerInScope = entry;
    ends.newest = entry;
    ends.size++;
    this.#all.append(entry);
    this.#entries.set(id, entry);
    return entry;
  }

  /**
   * Removes an entry; one no longer in the index (replaced or removed) is left alone.
   *
   * @param entry The entry.
   */
  remove(entry: ClaimEntry<T>): void {
    const id = idOf(entry.scope, entry.key);
    if (this.#entries.get(id) !== entry) return;
    this.#entries.delete(id);
    this.#all.remove(entry);
    const ends = this.#scopes.get(entry.scope)!;
    if (--ends.size === 0) {
      this.#scopes.delete(entry.scope);
      return;
    }
    if (entry.olderInScope === undefined) ends.oldest = entry.newerInScope;
    else entry.olderInScope.newerInScope = entry.newerInScope;
    if (entry.newerInScope === undefined) ends.newest = entry.olderInScope;
    else entry.newerInScope.olderInScope = entry.olderInScope;
  }

  /**
   * Counts a scope's keys.
   *
   * @param scope The scope.
   * @returns How many it has.
   */
  scopeSize(scope: string): number {
    return this.#scopes.get(scope)?.size ?? 0;
  }

  /**
   * The oldest entry of a scope.
   *
   * @param scope The scope.
   * @returns The entry, or `undefined` when the scope has none.
   */
  oldestOf(scope: string): ClaimEntry<T> | undefined {
    return this.#scopes.get(scope)?.oldest;
  }

  /**
   * The oldest entry of all.
   *
   * @returns The entry, or `undefined` when there is none.
   */
  oldest(): ClaimEntry<T> | undefined {
    return this.#all.oldest;
  }

  /** Forgets every key. */
  clear(): void {
    this.#entries.clear();
    this.#scopes.clear();
    this.#all.clear();
  }
}

/** The map key of a scope and key: the scope's length first, so no two pairs share one. */
function idOf(scope: string, key: string): string {
  return `${scope.length}:${scope}${key}`;
}
