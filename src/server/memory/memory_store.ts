/**
 * The in-memory store, the server's default: every service's rows in plain
 * maps and lists, gone when the process ends. It needs no runtime module, so
 * the server runs with it anywhere `fetch` does, Workers included.
 *
 * @module
 */

import type { ServerStore } from "../store.ts";
import { memoryEmitter } from "./_emitter.ts";
import { memoryHonch } from "./_honch.ts";
import { Lifetime, type SettleKey } from "./_lifetime.ts";
import { memoryMigas } from "./_migas.ts";
import { memoryMkStats } from "./_mkstats.ts";
import { memoryShared } from "./_shared.ts";
import { memorySpot } from "./_spot.ts";

/**
 * The methods of a {@linkcode MemoryStore}: every {@linkcode ServerStore}
 * method. The class takes them from its parts, put together (and
 * type-checked) in its constructor.
 */
export interface MemoryStore extends ServerStore {}

/**
 * A {@linkcode ServerStore} held in memory. Nothing survives the process, and
 * nothing is bounded but by what the server prunes (expired challenges,
 * tokens, partial uploads and Emitter messages), except Emitter messages,
 * also capped by count and bytes: use it for tests, demos and Workers that
 * forward what they capture, and a database store for anything kept.
 *
 * @example Serve from memory, as `createServer()` does by default
 * ```ts
 * import { createServer, MemoryStore } from "@edgewire/sdk/server";
 *
 * const store = new MemoryStore();
 * const server = createServer({ store });
 * await store.setMeta("greeting", "hello");
 * console.log(await store.getMeta("greeting")); // "hello"
 * await server.close(); // closes the store too
 * ```
 */
export class MemoryStore {
  /** Creates an empty store. */
  constructor() {
    const life = new Lifetime();
    const shared = memoryShared(life);
    // Nothing in memory outlives a crash, so the settle may follow its write.
    const settleKey: SettleKey = (settle) =>
      settle === undefined
        ? Promise.resolve()
        : shared.settleIdempotencyKey(settle.scope, settle.key, settle.answer);
    const store: ServerStore = {
      ...shared,
      ...memoryMkStats(life, settleKey),
      ...memoryHonch(life),
      ...memoryMigas(life, settleKey),
      ...memoryEmitter(life),
      ...memorySpot(life),
      // Every collection's size is a map's or list's length: cheap on every scrape.
      storeSizes: () => life.run(() => life.sizes()),
    };
    Object.assign(this, store);
  }
}
