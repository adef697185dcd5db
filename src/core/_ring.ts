/**
 * The storage behind {@linkcode BoundedQueue}: items with their measured
 * sizes in two parallel arrays, read from a moving head so that removing
 * from the front does not move memory, compacted once the spent slots are
 * many and at least half of the arrays. Internal to the queue.
 *
 * @module
 */

// Below this many spent slots at the front, compacting costs more than it frees.
const COMPACT_THRESHOLD = 256;

/** A first-in first-out sequence of items with their sizes and the sum of the sizes. */
export class SizedRing<T> {
  // Items live in #items[#head..]; shifting moves #head instead of moving memory.
  #items: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;

  /** How many items it holds. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The sum of the items' sizes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends one item of `size`. */
  push(item: T, size: number): void {
    this.#items.push(item);
    this.#sizes.push(size);
    this.#bytes += size;
  }

  /** The first `n` items, oldest first, without removing them. */
  peek(n: number): T[] {
    return this.#items.slice(this.#head, this.#head + n);
  }

  /** The position (0 = oldest) of the first item `match` accepts, or -1. */
  findIndex(match: (item: T) => boolean): number {
    for (let i = this.#head; i < this.#items.length; i++) {
      if (match(this.#items[i])) return i - this.#head;
    }
    return -1;
  }

  /** The item at `position` (0 = oldest). */
  at(position: number): T {
    return this.#items[this.#head + position];
  }

  /** Replaces the item at `position` with one of `size`. */
  replace(position: number, item: T, size: number): void {
    const i = this.#head + position;
    this.#bytes += size - this.#sizes[i];
    this.#items[i] = item;
    this.#sizes[i] = size;
  }

  /** Removes the item at `position`. */
  removeAt(position: number): void {
    const i = this.#head + position;
    this.#bytes -= this.#sizes[i];
    this.#items.splice(i, 1);
    this.#sizes.splice(i, 1);
  }

  /** How many of the oldest items must go for both bounds to hold. */
  excess(maxItems: number, maxBytes: number): number {
    let length = this.length;
    let bytes = this.#bytes;
    let n = 0;
    while (length > maxItems || bytes > maxBytes) {
      bytes -= this.#sizes[this.#head + n];
      length--;
      n++;
    }
    return n;
  }

  /** Removes and returns the `n` oldest items. */
  removeFront(n: number): T[] {
    const items = this.#items;
    const sizes = this.#sizes;
    const start = this.#head;
    const end = start + n;
    const removed = items.slice(start, end);
    for (let i = start; i < end; i++) {
      this.#bytes -= sizes[i];
      // Release the reference now rather than at the next compaction.
      items[i] = undefined as T;
    }
    this.#head = end;
    if (end === items.length) {
      items.length = 0;
      sizes.length = 0;
      this.#head = 0;
    } else if (end >= COMPACT_THRESHOLD && end * 2 >= items.length) {
      items.splice(0, end);
      sizes.splice(0, end);
      this.#head = 0;
    }
    return removed;
  }

  /** Puts items of the given sizes before the oldest, in order. */
  prepend(items: T[], sizes: number[]): void {
    const k = items.length;
    if (k === 0) return;
    if (this.#head >= k) {
      this.#head -= k;
      for (let i = 0; i < k; i++) {
        this.#items[this.#head + i] = items[i];
        this.#sizes[this.#head + i] = sizes[i];
      }
    } else {
      this.#items = items.concat(this.#items.slice(this.#head));
      this.#sizes = sizes.concat(this.#sizes.slice(this.#head));
      this.#head = 0;
    }
    for (let i = 0; i < k; i++) this.#bytes += sizes[i];
  }

  /** Removes every item. */
  clear(): void {
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
