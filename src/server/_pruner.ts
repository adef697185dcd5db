/**
 * Deleting expired rows off the request path: a pass calls each store's
 * prune method in chunks of at most {@linkcode PRUNE_CHUNK_ROWS} rows,
 * yielding to the event loop between chunks, so a synchronous database
 * holding a million expired rows delays a request by one chunk at most. A
 * timer starts a pass every `pruneIntervalMs`; traffic starts one too when
 * the timer is late or never fires (a Worker runs no timer between
 * requests). One pass at a time; failures are logged, never thrown.
 *
 * @module
 */

import { delay } from "../core/delay.ts";
import { unrefTimer } from "../core/runtime/timers.ts";
import type { ServerLogEntry } from "./options.ts";
import type { ServerStore } from "./store.ts";

/**
 * The most rows one prune call deletes: about 2 ms of SQLite deleting
 * through an index (measured at 3.5 ms for 1000 rows), commit aside.
 */
export const PRUNE_CHUNK_ROWS = 500;

/** One bounded prune method: deletes at most `limit` rows expired at `now`, returns how many. */
export type PruneChunk = (now: number, limit: number) => Promise<number>;

/**
 * Calls `prune` until it deletes fewer than `limit` rows, with a macrotask
 * between calls so waiting requests run first.
 *
 * @param prune The bounded prune method.
 * @param now The time rows expire against, the same for every chunk.
 * @param limit The most rows per call, at least 1.
 * @param stopped Checked before each call; the loop ends early once it returns `true`.
 * @returns How many rows were deleted in all.
 * @throws {Error} Whatever `prune` throws or rejects with; the rows already deleted stay deleted.
 *
 * @example Prune in chunks of 2
 * ```ts
 * import { pruneInChunks } from "./_pruner.ts";
 *
 * let rows = 5;
 * const prune = (_now: number, limit: number) => {
 *   const removed = Math.min(rows, limit);
 *   rows -= removed;
 *   return Promise.resolve(removed);
 * };
 * console.log(await pruneInChunks(prune, 0, 2, () => false)); // 5
 * ```
 */
export async function pruneInChunks(
  prune: PruneChunk,
  now: number,
  limit: number,
  stopped: () => boolean,
): Promise<number> {
  let total = 0;
  while (!stopped()) {
    const removed = await prune(now, limit);
    // A store without a count (an older one answering undefined) ends the loop.
    if (typeof removed !== "number" || !(removed > 0)) break;
    total += removed;
    if (removed < limit) break;
    // Referenced: a pass keeps the process alive until it ends, so close() never waits on a dead timer.
    await delay(0);
  }
  return total;
}

/** Options of {@linkcode Pruner}. */
export interface PrunerOptions {
  /** The store whose expired rows go. */
  readonly store: ServerStore;
  /** The server's clock, in milliseconds. */
  readonly now: () => number;
  /** How often a pass starts, at most, in milliseconds. */
  readonly intervalMs: number;
  /** Receives one entry per failing prune method. */
  readonly log: (entry: ServerLogEntry) => void;
}

/**
 * The server's background pruning. {@linkcode Pruner.kick} starts a pass
 * when one is due and returns at once; {@linkcode Pruner.start} adds the
 * timer; {@linkcode Pruner.close} stops both and waits for a running pass.
 *
 * @example Prune a memory store once
 * ```ts
 * import { MemoryStore } from "@edgewire/sdk/server";
 * import { Pruner } from "./_pruner.ts";
 *
 * const store = new MemoryStore();
 * const pruner = new Pruner({ store, now: Date.now, intervalMs: 60_000, log: console.error });
 * console.log(pruner.kick()); // true: the first pass is always due
 * await pruner.close(); // waits for it
 * await store.close();
 * ```
 */
export class Pruner {
  readonly #options: PrunerOptions;
  readonly #tasks: readonly (readonly [string, PruneChunk])[];
  #last = -Infinity;
  #pass: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /**
   * Creates an idle pruner: nothing runs until a kick or `start()`.
   *
   * @param options The store, clock, interval and log.
   */
  constructor(options: PrunerOptions) {
    this.#options = options;
    const store = options.store;
    this.#tasks = [
      ["challenges", (now, limit) => store.pruneChallenges(now, limit)],
      ["install_tokens", (now, limit) => store.pruneInstallTokens(now, limit)],
      ["honch", (now, limit) => store.pruneHonch(now, limit)],
      ["idempotency_keys", (now, limit) => store.pruneIdempotencyKeys(now, limit)],
      ["emitter", (now, limit) => store.pruneEmitter(now, limit)],
    ];
  }

  /** The running pass, until it ends; `undefined` when none runs. */
  get running(): Promise<void> | undefined {
    return this.#pass;
  }

  /** Starts the timer; it never keeps a Deno, Node or Bun process alive on its own. */
  start(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.kick(), this.#options.intervalMs);
    unrefTimer(this.#timer);
  }

  /**
   * Starts a pass in the background when none runs and the last one started
   * at least `intervalMs` ago on the server's clock. Never waits for it.
   *
   * @returns Whether a pass started.
   */
  kick(): boolean {
    if (this.#closed || this.#pass !== undefined) return false;
    const time = this.#options.now();
    if (time - this.#last < this.#options.intervalMs) return false;
    this.#last = time;
    this.#pass = this.#run(time).finally(() => {
      this.#pass = undefined;
    });
    return true;
  }

  /**
   * Stops the timer and any later pass, and waits for the running one to
   * finish its current chunk. Calling it again does nothing more.
   *
   * @returns Once no pass runs.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }

  async #run(time: number): Promise<void> {
    const stopped = () => this.#closed;
    for (const [task, prune] of this.#tasks) {
      // A macrotask first: the request that kicked the pass is answered before any chunk runs.
      await delay(0);
      if (stopped()) return;
      const started = this.#options.now();
      try {
        await pruneInChunks(prune, time, PRUNE_CHUNK_ROWS, stopped);
      } catch (error) {
        this.#failed(task, error, started);
      }
    }
  }

  #failed(task: string, error: unknown, started: number): void {
    const entry: ServerLogEntry = {
      time: new Date(started).toISOString(),
      level: "error",
      requestId: crypto.randomUUID(),
      method: "TASK",
      route: `prune/${task}`,
      status: 500,
      reason: "prune_failed",
      durationMs: Math.max(0, this.#options.now() - started),
      // The class only: a database's message may quote a row.
      error: error instanceof Error ? error.name : typeof error,
      task: "prune",
    };
    try {
      this.#options.log(entry);
    } catch {
      // A failing logger must not stop the pass.
    }
  }
}
