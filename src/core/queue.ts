/**
 * A first-in first-out queue bounded by item count and by bytes. When full
 * it drops the oldest items and counts every drop with a reason, so nothing
 * is lost silently; with a {@linkcode Storage} it persists itself, one
 * coalesced write at a time, and restores across restarts.
 *
 * @module
 */

import { QueuePersister } from "./_queue_persister.ts";
import { encodeState, parseState } from "./_queue_state.ts";
import { SizedRing } from "./_ring.ts";
import type { Storage } from "./storage.ts";
import { utf8ByteLength } from "./utf8.ts";
import {
  integer,
  invalidArgument,
  nonEmptyString,
  optionalFunction,
  optionalObject,
} from "./validate.ts";

/** Options of {@linkcode BoundedQueue}. */
export interface QueueOptions<T> {
  /**
   * The most items the queue holds; pushing more drops the oldest.
   *
   * @default 1000
   */
  maxItems?: number;
  /**
   * The most bytes (as measured by `sizeOf`) the queue holds; pushing more
   * drops the oldest, and a single larger item is not queued at all.
   *
   * @default 1_048_576
   */
  maxBytes?: number;
  /**
   * Measures an item in bytes; must return a non-negative number.
   *
   * @default the UTF-8 byte length of `JSON.stringify(item)`
   */
  sizeOf?: (item: T) => number;
  /**
   * Where to persist the items and drop counters, as JSON. Without it the
   * queue lives in memory only.
   *
   * @default undefined
   */
  storage?: Storage;
  /**
   * The key the state is persisted under.
   *
   * @default "edgewire:queue"
   */
  storageKey?: string;
}

/**
 * Why items were dropped: `"overflow"` when newer items pushed them out,
 * `"oversize"` when one item alone exceeded `maxBytes`, or any reason a
 * caller passes to {@linkcode BoundedQueue.prototype.drop}.
 *
 * @example
 * ```ts
 * import type { DropReason } from "@edgewire/sdk";
 *
 * const reason: DropReason = "rejected_by_server";
 * ```
 */
export type DropReason = "overflow" | "oversize" | string;

/**
 * A snapshot of a queue's contents and losses.
 *
 * @example
 * ```ts
 * import { BoundedQueue, type QueueStats } from "@edgewire/sdk";
 *
 * const stats: QueueStats = new BoundedQueue().stats();
 * console.log(stats.droppedByReason.overflow ?? 0);
 * ```
 */
export interface QueueStats {
  /** How many items are queued. */
  queued: number;
  /** How many bytes the queued items measure. */
  bytes: number;
  /** How many items were dropped in total. */
  dropped: number;
  /** How many items were dropped, per {@linkcode DropReason}. */
  droppedByReason: Record<string, number>;
  /** How many reads or writes of the persisted state failed or found it corrupt. */
  persistErrors: number;
}

const DEFAULT_MAX_ITEMS = 1000;
const DEFAULT_MAX_BYTES = 1_048_576;
const DEFAULT_STORAGE_KEY = "edgewire:queue";

/**
 * A FIFO queue bounded by count and bytes that drops the oldest items when
 * full, counts each drop with a reason, and optionally persists itself.
 *
 * @example Queue, overflow and send in batches
 * ```ts
 * import { BoundedQueue, MemoryStorage } from "@edgewire/sdk";
 *
 * const queue = new BoundedQueue<{ event: string }>({ maxItems: 2, storage: new MemoryStorage() });
 * await queue.restore();
 * queue.push({ event: "a" });
 * queue.push({ event: "b" });
 * queue.push({ event: "c" }); // drops { event: "a" }
 * const batch = queue.shift(10);
 * console.log(batch.length, queue.stats().droppedByReason.overflow); // 2 1
 * await queue.persisted();
 * ```
 */
export class BoundedQueue<T> {
  /** The most items the queue holds. */
  readonly maxItems: number;
  /** The most bytes the queue holds. */
  readonly maxBytes: number;

  readonly #sizeOf: (item: T) => number;
  readonly #ring = new SizedRing<T>();
  readonly #persister: QueuePersister;
  #dropped = 0;
  readonly #droppedByReason = new Map<string, number>();
  #persistErrors = 0;

  /**
   * Creates an empty queue.
   *
   * @param options Bounds, the item measure and where to persist.
   * @throws {InvalidArgumentError} When an option has an unusable value.
   */
  constructor(options: QueueOptions<T> = {}) {
    const action = "create BoundedQueue";
    this.maxItems = integer(action, "maxItems", options.maxItems, DEFAULT_MAX_ITEMS);
    this.maxBytes = integer(action, "maxBytes", options.maxBytes, DEFAULT_MAX_BYTES);
    this.#sizeOf = optionalFunction<(item: T) => number>(action, "sizeOf", options.sizeOf) ??
      jsonByteLength;
    this.#persister = new QueuePersister({
      storage: optionalObject<Storage>(action, "storage", options.storage, ["get", "set"]),
      key: nonEmptyString(action, "storageKey", options.storageKey, DEFAULT_STORAGE_KEY, {
        reveal: true,
      }),
      snapshot: () => encodeState(this.peek(), this.#dropped, this.#droppedByReason),
      onError: () => this.#persistErrors++,
    });
  }

  /** How many items are queued. */
  get length(): number {
    return this.#ring.length;
  }

  /** How many bytes the queued items measure. */
  get bytes(): number {
    return this.#ring.bytes;
  }

  /**
   * Appends an item, then drops the oldest items (reason `"overflow"`) until
   * both bounds hold. An item alone larger than `maxBytes` is not queued and
   * is counted as dropped with reason `"oversize"`.
   *
   * @param item The item to queue.
   * @returns `true` when the item was queued, `false` when it was too large.
   * @throws {InvalidArgumentError} When the item cannot be measured (not JSON-serialisable
   * with the default `sizeOf`, or `sizeOf` returned a negative or non-finite number).
   *
   * @example
   * ```ts
   * import { BoundedQueue } from "@edgewire/sdk";
   *
   * const queue = new BoundedQueue<string>({ maxBytes: 8 });
   * console.log(queue.push("ok"), queue.push("far too long")); // true false
   * ```
   */
  push(item: T): boolean {
    const size = this.#measure(item);
    if (size > this.maxBytes) {
      this.#count("oversize", 1);
      this.#persister.schedule();
      return false;
    }
    this.#ring.push(item, size);
    this.#enforceBounds();
    this.#persister.schedule();
    return true;
  }

  /**
   * Returns the oldest items without removing them.
   *
   * @param count How many items at most; all of them when omitted.
   * @returns The items, oldest first.
   * @throws {InvalidArgumentError} When `count` is not a non-negative integer.
   */
  peek(count?: number): T[] {
    const n = this.#take("peek", count);
    return this.#ring.peek(n);
  }

  /**
   * Removes and returns the oldest items.
   *
   * @param count How many items at most; all of them when omitted.
   * @returns The removed items, oldest first.
   * @throws {InvalidArgumentError} When `count` is not a non-negative integer.
   *
   * @example
   * ```ts
   * import { BoundedQueue } from "@edgewire/sdk";
   *
   * const queue = new BoundedQueue<number>();
   * [1, 2, 3].forEach((n) => queue.push(n));
   * console.log(queue.shift(2), queue.length); // [1, 2] 1
   * ```
   */
  shift(count?: number): T[] {
    const n = this.#take("shift", count);
    if (n === 0) return [];
    const removed = this.#ring.removeFront(n);
    this.#persister.schedule();
    return removed;
  }

  /**
   * Replaces the first item `match` accepts with `update(item)`, re-measuring
   * it and re-applying the bounds; when none matches, pushes `update(undefined)`.
   * An updated item alone larger than `maxBytes` is removed and counted as
   * dropped with reason `"oversize"`.
   *
   * @param match Picks the item to replace.
   * @param update Builds the new item from the existing one, or from `undefined`.
   * @throws {InvalidArgumentError} When the new item cannot be measured.
   *
   * @example Keep one counter item per name
   * ```ts
   * import { BoundedQueue } from "@edgewire/sdk";
   *
   * const queue = new BoundedQueue<{ name: string; count: number }>();
   * for (let i = 0; i < 3; i++) {
   *   queue.upsert((item) => item.name === "click", (item) => ({ name: "click", count: (item?.count ?? 0) + 1 }));
   * }
   * console.log(queue.peek()); // [{ name: "click", count: 3 }]
   * ```
   */
  upsert(match: (item: T) => boolean, update: (existing: T | undefined) => T): void {
    const position = this.#ring.findIndex(match);
    if (position === -1) {
      this.push(update(undefined));
      return;
    }
    const next = update(this.#ring.at(position));
    const size = this.#measure(next);
    if (size > this.maxBytes) {
      this.#ring.removeAt(position);
      this.#count("oversize", 1);
    } else {
      this.#ring.replace(position, next, size);
      this.#enforceBounds();
    }
    this.#persister.schedule();
  }

  /**
   * Puts items back at the front, in order, as when a send failed; then drops
   * the oldest items (reason `"overflow"`) until both bounds hold. Items alone
   * larger than `maxBytes` are counted as dropped with reason `"oversize"`.
   *
   * @param items The items to put back, oldest first.
   * @throws {InvalidArgumentError} When an item cannot be measured; then none is put back.
   *
   * @example
   * ```ts
   * import { BoundedQueue } from "@edgewire/sdk";
   *
   * const queue = new BoundedQueue<number>();
   * queue.push(1);
   * queue.push(2);
   * const batch = queue.shift(1);
   * queue.unshiftMany(batch); // the send failed
   * console.log(queue.peek()); // [1, 2]
   * ```
   */
  unshiftMany(items: T[]): void {
    const sizes = items.map((item) => this.#measure(item));
    const kept: T[] = [];
    const keptSizes: number[] = [];
    let oversize = 0;
    for (let i = 0; i < items.length; i++) {
      if (sizes[i] > this.maxBytes) {
        oversize++;
      } else {
        kept.push(items[i]);
        keptSizes.push(sizes[i]);
      }
    }
    if (oversize > 0) this.#count("oversize", oversize);
    this.#ring.prepend(kept, keptSizes);
    this.#enforceBounds();
    if (items.length > 0) this.#persister.schedule();
  }

  /**
   * Removes the oldest items and counts them as dropped with `reason`, as
   * when a server rejected them for good.
   *
   * @param count How many items at most.
   * @param reason Why they were dropped, as shown in {@linkcode QueueStats.droppedByReason}.
   * @returns The dropped items, oldest first.
   * @throws {InvalidArgumentError} When `count` is not a non-negative integer or `reason` is empty.
   *
   * @example
   * ```ts
   * import { BoundedQueue } from "@edgewire/sdk";
   *
   * const queue = new BoundedQueue<number>();
   * queue.push(1);
   * queue.drop(1, "rejected");
   * console.log(queue.stats().droppedByReason); // { rejected: 1 }
   * ```
   */
  drop(count: number, reason: DropReason): T[] {
    nonEmptyString("drop queued items", "reason", reason, undefined, { reveal: true });
    const n = this.#take("drop", count);
    if (n === 0) return [];
    const removed = this.#ring.removeFront(n);
    this.#count(reason, n);
    this.#persister.schedule();
    return removed;
  }

  /**
   * Removes every item without counting it as dropped, as when a user opts
   * out; the drop counters are kept. Use {@linkcode BoundedQueue.prototype.drop}
   * to count removed items.
   */
  clear(): void {
    if (this.length === 0) return;
    this.#ring.clear();
    this.#persister.schedule();
  }

  /**
   * Takes a snapshot of the contents and losses.
   *
   * @returns Counts of queued and dropped items, bytes, and persistence errors.
   */
  stats(): QueueStats {
    return {
      queued: this.length,
      bytes: this.#ring.bytes,
      dropped: this.#dropped,
      droppedByReason: Object.fromEntries(this.#droppedByReason),
      persistErrors: this.#persistErrors,
    };
  }

  /**
   * Loads the persisted state: stored items go before the current ones and
   * stored drop counters add to the current ones, then the bounds apply.
   * Call it once, right after construction; later calls return the first
   * call's promise, and once this queue has written its own state there is
   * nothing left to merge. Never rejects: a failed read or corrupt JSON adds
   * one to `persistErrors`.
   *
   * @returns A promise that resolves once the stored state is merged.
   */
  restore(): Promise<void> {
    return this.#persister.restore((raw) => this.#merge(raw));
  }

  /**
   * Waits for every scheduled write, including ones scheduled while waiting.
   * Never rejects: failed writes are counted in `persistErrors`.
   *
   * @returns A promise that resolves once storage holds the latest state.
   */
  persisted(): Promise<void> {
    return this.#persister.persisted();
  }

  /**
   * Writes the state to storage before returning, for the last words of a
   * program that is ending on an uncaught error, when no promise will settle
   * any more. Needs a storage with `setSync`, and a restore that has finished
   * (or a queue that already wrote), so the write cannot drop stored items
   * not merged yet. Never throws: a failed write adds one to `persistErrors`.
   *
   * @returns Whether the state was written.
   *
   * @example
   * ```ts
   * import { BoundedQueue, MemoryStorage } from "@edgewire/sdk";
   *
   * const queue = new BoundedQueue<string>({ storage: new MemoryStorage() });
   * await queue.restore();
   * queue.push("crash");
   * console.log(queue.persistNow()); // false: MemoryStorage has no setSync
   * ```
   */
  persistNow(): boolean {
    return this.#persister.persistNow();
  }

  #measure(item: T): number {
    const size = this.#sizeOf(item);
    if (typeof size !== "number" || !(size >= 0) || size === Infinity) {
      throw invalidArgument(
        "queue the item",
        "sizeOf",
        "a function that returns a non-negative finite number",
        size,
      );
    }
    return size;
  }

  #take(operation: string, count: number | undefined): number {
    if (count === undefined) return this.length;
    return Math.min(
      integer(`${operation} queued items`, "count", count, undefined, { min: 0 }),
      this.length,
    );
  }

  #count(reason: string, n: number): void {
    this.#dropped += n;
    this.#droppedByReason.set(reason, (this.#droppedByReason.get(reason) ?? 0) + n);
  }

  #enforceBounds(): void {
    const n = this.#ring.excess(this.maxItems, this.maxBytes);
    if (n === 0) return;
    this.#ring.removeFront(n);
    this.#count("overflow", n);
  }

  /** Merges a stored state; returns whether anything changed. */
  #merge(raw: string | undefined): boolean {
    const state = parseState(raw);
    if (state === undefined) return false;
    if (state === "corrupt") {
      this.#persistErrors++;
      return false;
    }
    for (const [reason, n] of state.droppedByReason) this.#count(reason, n);
    const kept: T[] = [];
    const sizes: number[] = [];
    let oversize = 0;
    let unreadable = 0;
    for (const item of state.items as T[]) {
      let size: number;
      try {
        size = this.#measure(item);
      } catch {
        unreadable++;
        continue;
      }
      if (size > this.maxBytes) {
        oversize++;
      } else {
        kept.push(item);
        sizes.push(size);
      }
    }
    if (oversize > 0) this.#count("oversize", oversize);
    if (unreadable > 0) this.#count("corrupt", unreadable);
    this.#ring.prepend(kept, sizes);
    this.#enforceBounds();
    return true;
  }
}

function jsonByteLength(item: unknown): number {
  let json: string | undefined;
  try {
    json = JSON.stringify(item);
  } catch {
    throw invalidArgument("queue the item", "item", "a JSON-serialisable value", item);
  }
  // JSON arrays store undefined and functions as null.
  return json === undefined ? 4 : utf8ByteLength(json);
}
