/**
 * The child the file-storage crash test kills: queues events into a
 * `BoundedQueue` persisted through `privateFileStorage(EDGEWIRE_STATE)`,
 * and after each persisted round prints `acked <n>`, meaning events 0 to
 * n - 1 are on disk. Prints `ready` once its storage is open, and `done`
 * when it has queued them all.
 *
 * @module
 */

import { BoundedQueue } from "../../src/core/queue.ts";
import { privateFileStorage } from "../../src/core/runtime/mod.ts";

const path = Deno.env.get("EDGEWIRE_STATE");
if (path === undefined) throw new Error("EDGEWIRE_STATE is not set");
const TOTAL = 6000;
const ROUND = 40;
// Padding makes each write long enough (hundreds of kilobytes) to be killed in the middle of
const PADDING = "x".repeat(48);

const storage = privateFileStorage(path);
if (storage === undefined) throw new Error("privateFileStorage is unavailable");
const queue = new BoundedQueue<{ id: number; pad: string }>({
  maxItems: 1_000_000,
  maxBytes: 64 * 1024 * 1024,
  storage,
  storageKey: "events",
});
await queue.restore();
console.log("ready");
for (let id = 0; id < TOTAL;) {
  for (const end = id + ROUND; id < end; id++) queue.push({ id, pad: PADDING });
  await queue.persisted();
  console.log(`acked ${id}`);
}
console.log("done");
