/**
 * A first-in first-out queue bounded by item count and by bytes. When full
 * it drops the oldest items and counts every drop with a reason, so nothing
 * is lost silently; with a {@linkcode Storage} it persists itself, one
 * coalesced write at a time, and restores across restarts.
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";
import type { Storage } from "./storage.ts";
import { utf8ByteLength } from "./utf8.ts";
import { integer, nonEmptyString, optionalFunction, optionalObject } from "./validate.ts";

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

interface PersistedState {
  version: 1;
  items: unknown[];
  dropped: number;
  droppedByReason: Record<string, number>;
}

const DEFAULT_MAX_ITEMS = 1000;
const DEFAULT_MAX_BYTES = 1_048_576;
const DEFAULT_STORAGE_KEY = "edgewire:queue";
// Below this many spent slots at the front, compacting costs more than it frees.
const COMPACT_THRESHOLD = 256;

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

  #sizeOf: (item: T) => number;
  #storage: Storage | undefined;
  #storageKey: string;

  // Items live in #items[#head..]; shifting moves #head instead of moving memory.
  #items: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;

  #dropped = 0;
  #droppedByReason = new Map<string, number>();
  #persistErrors = 0;

  #chain: Promise<void> = Promise.resolve();
  #writeQueued = false;
  #writeStarted = false;
  #restore: Promise<void> | undefined;
  #restoring: Promise<void> | undefined;

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
    this.#storage = optionalObject<Storage>(action, "storage", options.storage, ["get", "set"]);
    this.#storageKey = nonEmptyString(
      action,
      "storageKey",
      options.storageKey,
      DEFAULT_STORAGE_KEY,
      {
        reveal: true,
      },
    );
  }

  /** How many items are queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** How many bytes the queued items measure. */
  get bytes(): number {
    return this.#bytes;
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
      this.#schedulePersist();
      return false;
    }
    this.#items.push(item);
    this.#sizes.push(size);
    this.#bytes += size;
    this.#enforceBounds();
    this.#schedulePersist();
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
    return this.#items.slice(this.#head, this.#head + n);
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
    const removed = this.#removeFront(n);
    this.#schedulePersist();
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
    const items = this.#items;
    for (let i = this.#head; i < items.length; i++) {
      if (!match(items[i])) continue;
      const next = update(items[i]);
      const size = this.#measure(next);
      this.#bytes -= this.#sizes[i];
      if (size > this.maxBytes) {
        this.#removeAt(i);
        this.#count("oversize", 1);
      } else {
        items[i] = next;
        this.#sizes[i] = size;
        this.#bytes += size;
        this.#enforceBounds();
      }
      this.#schedulePersist();
      return;
    }
    this.push(update(undefined));
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
    this.#prepend(kept, keptSizes);
    this.#enforceBounds();
    if (items.length > 0) this.#schedulePersist();
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
    const removed = this.#removeFront(n);
    this.#count(reason, n);
    this.#schedulePersist();
    return removed;
  }

  /**
   * Removes every item without counting it as dropped, as when a user opts
   * out; the drop counters are kept. Use {@linkcode BoundedQueue.prototype.drop}
   * to count removed items.
   */
  clear(): void {
    if (this.length === 0) return;
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#schedulePersist();
  }

  /**
   * Takes a snapshot of the contents and losses.
   *
   * @returns Counts of queued and dropped items, bytes, and persistence errors.
   */
  stats(): QueueStats {
    return {
      queued: this.length,
      bytes: this.#bytes,
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
    if (this.#restore !== undefined) return this.#restore;
    const storage = this.#storage;
    if (storage === undefined || this.#writeStarted) {
      this.#restore = Promise.resolve();
      return this.#restore;
    }
    // The read starts now, before any write this tick already scheduled.
    let read: Promise<string | undefined>;
    try {
      read = Promise.resolve(storage.get(this.#storageKey));
    } catch (error) {
      read = Promise.reject(error);
    }
    const restoring: Promise<void> = read
      .then((raw) => {
        if (this.#merge(raw)) this.#schedulePersist();
      }, () => {
        this.#persistErrors++;
      })
      .finally(() => {
        if (this.#restoring === restoring) this.#restoring = undefined;
      });
    this.#restoring = restoring;
    this.#restore = restoring;
    return restoring;
  }

  /**
   * Waits for every scheduled write, including ones scheduled while waiting.
   * Never rejects: failed writes are counted in `persistErrors`.
   *
   * @returns A promise that resolves once storage holds the latest state.
   */
  async persisted(): Promise<void> {
    for (;;) {
      const chain = this.#chain;
      await chain;
      if (this.#restoring !== undefined) await this.#restoring;
      if (chain === this.#chain && this.#restoring === undefined) return;
    }
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
    const storage = this.#storage;
    if (typeof storage?.setSync !== "function") return false;
    if (this.#restoring !== undefined || (this.#restore === undefined && !this.#writeStarted)) {
      return false;
    }
    try {
      storage.setSync(this.#storageKey, JSON.stringify(this.#state()));
      return true;
    } catch {
      this.#persistErrors++;
      return false;
    }
  }

  #state(): PersistedState {
    return {
      version: 1,
      items: this.peek(),
      dropped: this.#dropped,
      droppedByReason: Object.fromEntries(this.#droppedByReason),
    };
  }

  #measure(item: T): number {
    const size = this.#sizeOf(item);
    if (typeof size !== "number" || !(size >= 0) || size === Infinity) {
      throw new InvalidArgumentError(
        "sizeOf",
        `Cannot queue the item as 'sizeOf' must return a non-negative finite number: current value is ${
          String(size)
        }`,
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
    const sizes = this.#sizes;
    let length = this.length;
    let bytes = this.#bytes;
    let n = 0;
    while (length > this.maxItems || bytes > this.maxBytes) {
      bytes -= sizes[this.#head + n];
      length--;
      n++;
    }
    if (n === 0) return;
    this.#removeFront(n);
    this.#count("overflow", n);
  }

  #removeFront(n: number): T[] {
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

  #removeAt(index: number): void {
    this.#items.splice(index, 1);
    this.#sizes.splice(index, 1);
  }

  #prepend(items: T[], sizes: number[]): void {
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

  /** Merges a stored state; returns whether anything changed. */
  #merge(raw: string | undefined): boolean {
    if (raw === undefined || raw === null) return false;
    let state: unknown;
    try {
      state = JSON.parse(raw);
    } catch {
      this.#persistErrors++;
      return false;
    }
    if (!isPersistedState(state)) {
      this.#persistErrors++;
      return false;
    }
    for (const [reason, n] of Object.entries(state.droppedByReason)) {
      if (Number.isSafeInteger(n) && n > 0) this.#count(reason, n);
    }
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
    this.#prepend(kept, sizes);
    this.#enforceBounds();
    return true;
  }

  #schedulePersist(): void {
    if (this.#storage === undefined || this.#writeQueued) return;
    this.#writeQueued = true;
    this.#chain = this.#chain.then(() => this.#write());
  }

  async #write(): Promise<void> {
    const storage = this.#storage;
    if (storage === undefined) return;
    // A restore in flight must read the old state before this write replaces it.
    while (this.#restoring !== undefined) await this.#restoring;
    this.#writeQueued = false;
    this.#writeStarted = true;
    try {
      await storage.set(this.#storageKey, JSON.stringify(this.#state()));
    } catch {
      this.#persistErrors++;
    }
  }
}

function isPersistedState(value: unknown): value is PersistedState {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Partial<PersistedState>;
  return Array.isArray(state.items) && typeof state.droppedByReason === "object" &&
    state.droppedByReason !== null && !Array.isArray(state.droppedByReason);
}

function jsonByteLength(item: unknown): number {
  let json: string | undefined;
  try {
    json = JSON.stringify(item);
  } catch (error) {
    throw new InvalidArgumentError(
      "item",
      `Cannot queue the item as it is not JSON-serialisable: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  // JSON arrays store undefined and functions as null.
  return json === undefined ? 4 : utf8ByteLength(json);
}
