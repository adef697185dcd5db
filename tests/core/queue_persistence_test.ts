/**
 * Tests of the persistence of {@linkcode BoundedQueue}: restore, corrupt
 * stored state, failing storages, and coalesced writes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BoundedQueue } from "../../src/core/queue.ts";
import { MemoryStorage, type Storage } from "../../src/core/storage.ts";
import { byLength, RecordingStorage } from "./_queue_storage.ts";

Deno.test("a second queue restores the items and counters the first one persisted", async () => {
  const storage = new MemoryStorage();
  const first = new BoundedQueue<{ n: number }>({ maxItems: 3, storage });
  for (let n = 1; n <= 4; n++) first.push({ n });
  first.drop(1, "rejected");
  await first.persisted();
  assert.equal(storage.size, 1);

  const second = new BoundedQueue<{ n: number }>({ maxItems: 3, storage });
  second.push({ n: 5 });
  await second.restore();
  assert.deepEqual(second.peek(), [{ n: 3 }, { n: 4 }, { n: 5 }]);
  assert.deepEqual(second.stats(), {
    queued: 3,
    bytes: first.bytes + 7,
    dropped: 2,
    droppedByReason: { overflow: 1, rejected: 1 },
    persistErrors: 0,
  });
  await second.persisted();
  const third = new BoundedQueue<{ n: number }>({ maxItems: 3, storage });
  await third.restore();
  assert.deepEqual(third.peek(), second.peek());
  assert.deepEqual(third.stats(), second.stats());
});

Deno.test("restore re-applies the bounds of the restoring queue", async () => {
  const storage = new MemoryStorage();
  const big = new BoundedQueue<string>({ storage, sizeOf: byLength });
  for (const item of ["a", "b", "cccccc", "d"]) big.push(item);
  await big.persisted();

  const small = new BoundedQueue<string>({ storage, maxItems: 2, maxBytes: 5, sizeOf: byLength });
  small.push("e");
  await small.restore();
  assert.deepEqual(small.peek(), ["d", "e"]);
  assert.deepEqual(small.stats().droppedByReason, { oversize: 1, overflow: 2 });
});

Deno.test("restore with nothing stored changes nothing and writes nothing", async () => {
  const storage = new RecordingStorage();
  const queue = new BoundedQueue<number>({ storage });
  await queue.restore();
  await queue.persisted();
  assert.equal(storage.writes.length, 0);
  assert.equal(queue.stats().persistErrors, 0);
});

Deno.test("restore reads the old state even when a push this tick already scheduled a write", async () => {
  const storage = new MemoryStorage();
  await storage.set(
    "edgewire:queue",
    JSON.stringify({ version: 1, items: [1, 2], dropped: 0, droppedByReason: {} }),
  );
  const queue = new BoundedQueue<number>({ storage });
  queue.push(3);
  await queue.restore();
  await queue.persisted();
  assert.deepEqual(queue.peek(), [1, 2, 3]);
  const stored = JSON.parse((await storage.get("edgewire:queue"))!);
  assert.deepEqual(stored.items, [1, 2, 3]);
});

Deno.test("restore merges only once, so calling it again does not duplicate items", async () => {
  const storage = new MemoryStorage();
  const first = new BoundedQueue<number>({ storage });
  first.push(1);
  await first.persisted();
  const second = new BoundedQueue<number>({ storage });
  const a = second.restore();
  const b = second.restore();
  assert.equal(a, b);
  await a;
  await second.persisted();
  await second.restore();
  assert.deepEqual(second.peek(), [1]);
  // After writing its own state, a queue that never restored has nothing to merge.
  await first.restore();
  assert.deepEqual(first.peek(), [1]);
});

Deno.test("restore uses the configured storageKey", async () => {
  const storage = new MemoryStorage();
  const a = new BoundedQueue<number>({ storage, storageKey: "a" });
  const b = new BoundedQueue<number>({ storage, storageKey: "b" });
  a.push(1);
  b.push(2);
  await Promise.all([a.persisted(), b.persisted()]);
  const again = new BoundedQueue<number>({ storage, storageKey: "b" });
  await again.restore();
  assert.deepEqual(again.peek(), [2]);
});

Deno.test("corrupt stored JSON is ignored and counted as a persist error", async () => {
  for (
    const raw of ["{not json", "null", "[]", '{"items":5}', '{"items":[],"droppedByReason":[]}']
  ) {
    const storage = new MemoryStorage();
    await storage.set("edgewire:queue", raw);
    const queue = new BoundedQueue<number>({ storage });
    queue.push(1);
    await queue.restore();
    await queue.persisted();
    assert.deepEqual(queue.peek(), [1], raw);
    assert.equal(queue.stats().persistErrors, 1, raw);
    // The next write replaces the corrupt state with a good one.
    assert.deepEqual(JSON.parse((await storage.get("edgewire:queue"))!).items, [1], raw);
  }
});

Deno.test("stored counters that are not positive integers are ignored", async () => {
  const storage = new MemoryStorage();
  await storage.set(
    "edgewire:queue",
    JSON.stringify({
      version: 1,
      items: [],
      dropped: 7,
      droppedByReason: { a: -1, b: "2", c: 1.5, d: 3 },
    }),
  );
  const queue = new BoundedQueue<number>({ storage });
  await queue.restore();
  assert.equal(queue.stats().dropped, 3);
  assert.deepEqual(queue.stats().droppedByReason, { d: 3 });
});

Deno.test("stored items the sizeOf function cannot measure are counted as corrupt drops", async () => {
  const storage = new MemoryStorage();
  await storage.set(
    "edgewire:queue",
    JSON.stringify({ version: 1, items: ["ok", 42], dropped: 0, droppedByReason: {} }),
  );
  const queue = new BoundedQueue<string>({ storage, sizeOf: (item) => item.length });
  await queue.restore();
  assert.deepEqual(queue.peek(), ["ok"]);
  assert.deepEqual(queue.stats().droppedByReason, { corrupt: 1 });
});

Deno.test("a failing storage is counted in persistErrors and never throws out of push or shift", async () => {
  const storage = new RecordingStorage();
  storage.failSet = true;
  const queue = new BoundedQueue<number>({ storage });
  assert.equal(queue.push(1), true);
  assert.equal(queue.push(2), true);
  await queue.persisted();
  assert.deepEqual(queue.shift(1), [1]);
  await queue.persisted();
  assert.deepEqual(queue.peek(), [2]);
  assert.equal(queue.stats().persistErrors, 2);
});

Deno.test("a storage whose set rejects or throws synchronously only increments persistErrors", async () => {
  const rejecting: Storage = {
    get: () => Promise.resolve(undefined),
    set: () => Promise.reject(new Error("disk full")),
    delete: () => Promise.resolve(),
  };
  const throwing: Storage = {
    get: () => {
      throw new Error("no read");
    },
    set: () => {
      throw new Error("no write");
    },
    delete: () => Promise.resolve(),
  };
  for (const storage of [rejecting, throwing]) {
    const queue = new BoundedQueue<number>({ storage });
    queue.push(1);
    await queue.persisted();
    assert.equal(queue.stats().persistErrors, 1);
    assert.equal(queue.length, 1);
  }
  const unreadable = new BoundedQueue<number>({ storage: throwing });
  await unreadable.restore();
  assert.equal(unreadable.stats().persistErrors, 1);
});

Deno.test("a failing read during restore is counted and the queue keeps working", async () => {
  const storage = new RecordingStorage();
  storage.failGet = true;
  const queue = new BoundedQueue<number>({ storage });
  await queue.restore();
  queue.push(1);
  await queue.persisted();
  assert.equal(queue.stats().persistErrors, 1);
  assert.equal(storage.writes.length, 1);
});

Deno.test("mutations in one tick coalesce into one write, and writes never overlap", async () => {
  const storage = new RecordingStorage();
  const queue = new BoundedQueue<number>({ storage });
  for (let i = 0; i < 100; i++) queue.push(i);
  queue.shift(10);
  await queue.persisted();
  assert.equal(storage.writes.length, 1);

  // Mutations while a write is in flight produce exactly one more write with the last state.
  queue.push(100);
  await Promise.resolve();
  await Promise.resolve();
  queue.push(101);
  queue.push(102);
  await queue.persisted();
  assert.equal(storage.writes.length, 3);
  assert.equal(storage.maxActive, 1);
  const last = JSON.parse(storage.writes.at(-1)!);
  assert.deepEqual(last.items, queue.peek());
  assert.equal(last.items.at(-1), 102);
});

Deno.test("no write is scheduled without a storage or for a no-op mutation", async () => {
  const memoryOnly = new BoundedQueue<number>();
  memoryOnly.push(1);
  await memoryOnly.persisted();
  const storage = new RecordingStorage();
  const queue = new BoundedQueue<number>({ storage });
  queue.shift(5);
  queue.clear();
  queue.drop(3, "x");
  queue.unshiftMany([]);
  await queue.persisted();
  assert.equal(storage.writes.length, 0);
});

Deno.test("the persisted state holds the items and drop counters as JSON", async () => {
  const storage = new MemoryStorage();
  const queue = new BoundedQueue<string>({ storage, maxItems: 1, storageKey: "k" });
  queue.push("a");
  queue.push("b");
  await queue.persisted();
  assert.deepEqual(JSON.parse((await storage.get("k"))!), {
    version: 1,
    items: ["b"],
    dropped: 1,
    droppedByReason: { overflow: 1 },
  });
});
