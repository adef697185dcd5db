import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { BoundedQueue } from "../../src/core/queue.ts";
import { MemoryStorage, type Storage, StorageError } from "../../src/core/storage.ts";

/** Measures strings by their length, so byte bounds are easy to reason about. */
const byLength = (item: string): number => item.length;

/** A storage that records writes and can be told to fail. */
class RecordingStorage implements Storage {
  readonly writes: string[] = [];
  readonly inner = new MemoryStorage();
  failSet = false;
  failGet = false;
  active = 0;
  maxActive = 0;

  async get(key: string): Promise<string | undefined> {
    if (this.failGet) {
      throw new StorageError("Cannot get", { key, operation: "get" });
    }
    return await this.inner.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      // Two awaits so overlapping writes would be visible in maxActive.
      await Promise.resolve();
      await Promise.resolve();
      if (this.failSet) {
        throw new StorageError("Cannot set", { key, operation: "set", code: "storage_quota" });
      }
      this.writes.push(value);
      await this.inner.set(key, value);
    } finally {
      this.active--;
    }
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

Deno.test("a new queue is empty with zeroed stats and the documented default bounds", () => {
  const queue = new BoundedQueue();
  assert.equal(queue.length, 0);
  assert.equal(queue.bytes, 0);
  assert.equal(queue.maxItems, 1000);
  assert.equal(queue.maxBytes, 1_048_576);
  assert.deepEqual(queue.stats(), {
    queued: 0,
    bytes: 0,
    dropped: 0,
    droppedByReason: {},
    persistErrors: 0,
  });
});

Deno.test("options outside their ranges are rejected with an InvalidArgumentError naming them", () => {
  for (const maxItems of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => new BoundedQueue({ maxItems }), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.argument, "maxItems");
      assert.match(error.message, /^Cannot create BoundedQueue as 'maxItems' must be an integer/);
      return true;
    });
  }
  assert.throws(() => new BoundedQueue({ maxBytes: 0 }), { argument: "maxBytes" });
  assert.throws(() => new BoundedQueue({ storageKey: "" }), { argument: "storageKey" });
  assert.throws(
    () => new BoundedQueue({ sizeOf: 3 as unknown as () => number }),
    { argument: "sizeOf" },
  );
  assert.throws(
    () => new BoundedQueue({ storage: {} as Storage }),
    { argument: "storage" },
  );
});

Deno.test("the default size is the UTF-8 byte length of the item's JSON", () => {
  const queue = new BoundedQueue<unknown>();
  queue.push("é"); // "\"é\"" is 4 bytes
  assert.equal(queue.bytes, 4);
  queue.push({ emoji: "😀" }); // 12 ASCII bytes plus 4 for the emoji
  assert.equal(queue.bytes, 4 + 16);
  queue.push("\ud800"); // JSON.stringify escapes a lone surrogate as six ASCII bytes
  assert.equal(queue.bytes, 4 + 16 + 8);
  queue.push("€"); // three bytes plus quotes
  assert.equal(queue.bytes, 4 + 16 + 8 + 5);
});

Deno.test("an item that cannot be measured is refused with an InvalidArgumentError", () => {
  const queue = new BoundedQueue<unknown>();
  assert.throws(() => queue.push({ big: 1n }), { argument: "item" });
  const negative = new BoundedQueue<string>({ sizeOf: () => -1 });
  assert.throws(() => negative.push("x"), { argument: "sizeOf" });
  assert.equal(queue.length, 0);
  assert.equal(negative.stats().dropped, 0);
});

Deno.test("pushing past maxItems drops the oldest items and counts them as overflow", () => {
  const queue = new BoundedQueue<number>({ maxItems: 3 });
  for (let i = 1; i <= 5; i++) assert.equal(queue.push(i), true);
  assert.deepEqual(queue.peek(), [3, 4, 5]);
  assert.equal(queue.stats().dropped, 2);
  assert.deepEqual(queue.stats().droppedByReason, { overflow: 2 });
});

Deno.test("pushing past maxBytes drops as many oldest items as needed", () => {
  const queue = new BoundedQueue<string>({ maxBytes: 10, sizeOf: byLength });
  queue.push("aaa");
  queue.push("bbb");
  queue.push("ccc");
  assert.equal(queue.bytes, 9);
  queue.push("dddddddd"); // 9 + 8 bytes: all three older items must go
  assert.deepEqual(queue.peek(), ["dddddddd"]);
  assert.equal(queue.bytes, 8);
  assert.deepEqual(queue.stats().droppedByReason, { overflow: 3 });
});

Deno.test("an item alone larger than maxBytes is not queued and is counted as oversize", () => {
  const queue = new BoundedQueue<string>({ maxBytes: 5, sizeOf: byLength });
  assert.equal(queue.push("abc"), true);
  assert.equal(queue.push("abcdef"), false);
  assert.equal(queue.push("abcde"), true); // exactly maxBytes fits, pushing "abc" out
  assert.deepEqual(queue.peek(), ["abcde"]);
  assert.deepEqual(queue.stats(), {
    queued: 1,
    bytes: 5,
    dropped: 2,
    droppedByReason: { oversize: 1, overflow: 1 },
    persistErrors: 0,
  });
});

Deno.test("peek and shift take the oldest items first and validate count", () => {
  const queue = new BoundedQueue<number>();
  for (let i = 0; i < 5; i++) queue.push(i);
  assert.deepEqual(queue.peek(2), [0, 1]);
  assert.deepEqual(queue.peek(0), []);
  assert.deepEqual(queue.shift(2), [0, 1]);
  assert.deepEqual(queue.peek(99), [2, 3, 4]);
  assert.deepEqual(queue.shift(), [2, 3, 4]);
  assert.deepEqual(queue.shift(3), []);
  assert.equal(queue.bytes, 0);
  assert.throws(() => queue.shift(-1), { argument: "count" });
  assert.throws(() => queue.peek(1.5), { argument: "count" });
  assert.equal(queue.stats().dropped, 0);
});

Deno.test("shifting many items one by one keeps order and byte counts exact", () => {
  const queue = new BoundedQueue<number>({ maxItems: 5000 });
  for (let i = 0; i < 3000; i++) queue.push(i);
  for (let i = 0; i < 2000; i++) assert.deepEqual(queue.shift(1), [i]);
  for (let i = 3000; i < 3500; i++) queue.push(i);
  const rest = queue.shift();
  assert.equal(rest.length, 1500);
  assert.equal(rest[0], 2000);
  assert.equal(rest[1499], 3499);
  assert.equal(queue.bytes, 0);
});

Deno.test("upsert replaces the first matching item in place and re-measures its bytes", () => {
  const queue = new BoundedQueue<string>({ sizeOf: byLength });
  queue.push("a1");
  queue.push("b1");
  queue.push("a2");
  queue.upsert((item) => item.startsWith("a"), (item) => `${item}-longer`);
  assert.deepEqual(queue.peek(), ["a1-longer", "b1", "a2"]);
  assert.equal(queue.bytes, 9 + 2 + 2);
});

Deno.test("upsert pushes update(undefined) when nothing matches", () => {
  const queue = new BoundedQueue<{ name: string; count: number }>();
  for (let i = 0; i < 3; i++) {
    queue.upsert(
      (item) => item.name === "click",
      (item) => ({ name: "click", count: (item?.count ?? 0) + 1 }),
    );
  }
  queue.upsert((item) => item.name === "view", () => ({ name: "view", count: 1 }));
  assert.deepEqual(queue.peek(), [{ name: "click", count: 3 }, { name: "view", count: 1 }]);
});

Deno.test("upsert re-applies the byte bound, dropping the oldest items", () => {
  const queue = new BoundedQueue<string>({ maxBytes: 6, sizeOf: byLength });
  queue.push("aa");
  queue.push("bb");
  queue.push("cc");
  queue.upsert((item) => item === "cc", () => "cccc"); // 2 + 2 + 4 bytes: the oldest must go
  assert.deepEqual(queue.peek(), ["bb", "cccc"]);
  assert.equal(queue.bytes, 6);
  assert.deepEqual(queue.stats().droppedByReason, { overflow: 1 });
});

Deno.test("upsert counts an updated item alone larger than maxBytes as oversize", () => {
  const queue = new BoundedQueue<string>({ maxBytes: 4, sizeOf: byLength });
  queue.push("a");
  queue.push("b");
  queue.upsert((item) => item === "a", () => "aaaaa");
  assert.deepEqual(queue.peek(), ["b"]);
  assert.equal(queue.bytes, 1);
  assert.deepEqual(queue.stats().droppedByReason, { oversize: 1 });
});

Deno.test("unshiftMany puts items back at the front in order", () => {
  const queue = new BoundedQueue<number>();
  for (let i = 1; i <= 4; i++) queue.push(i);
  const batch = queue.shift(2);
  queue.push(5);
  queue.unshiftMany(batch);
  assert.deepEqual(queue.peek(), [1, 2, 3, 4, 5]);
  queue.unshiftMany([-1, 0]);
  assert.deepEqual(queue.peek(), [-1, 0, 1, 2, 3, 4, 5]);
  assert.equal(queue.bytes, 2 + 1 * 6);
});

Deno.test("unshiftMany re-applies the bounds, dropping the oldest, and counts oversize items", () => {
  const queue = new BoundedQueue<string>({ maxItems: 3, maxBytes: 4, sizeOf: byLength });
  queue.push("c");
  queue.push("d");
  queue.unshiftMany(["a", "toolong", "b"]);
  assert.deepEqual(queue.peek(), ["b", "c", "d"]);
  assert.deepEqual(queue.stats().droppedByReason, { oversize: 1, overflow: 1 });
});

Deno.test("unshiftMany adds nothing when one item cannot be measured", () => {
  const queue = new BoundedQueue<unknown>();
  queue.push(1);
  assert.throws(() => queue.unshiftMany([0, { bad: 1n }]), { argument: "item" });
  assert.deepEqual(queue.peek(), [1]);
});

Deno.test("drop removes the oldest items and counts them under the given reason", () => {
  const queue = new BoundedQueue<number>({ maxItems: 2 });
  for (let i = 0; i < 6; i++) queue.push(i);
  assert.deepEqual(queue.drop(1, "rejected"), [4]);
  assert.deepEqual(queue.drop(5, "rejected"), [5]);
  assert.deepEqual(queue.drop(1, "expired"), []);
  assert.deepEqual(queue.stats(), {
    queued: 0,
    bytes: 0,
    dropped: 6,
    droppedByReason: { overflow: 4, rejected: 2 },
    persistErrors: 0,
  });
  assert.throws(() => queue.drop(1, ""), { argument: "reason" });
  assert.throws(() => queue.drop(-2, "x"), { argument: "count" });
});

Deno.test("clear empties the queue but keeps the drop counters", () => {
  const queue = new BoundedQueue<number>({ maxItems: 1 });
  queue.push(1);
  queue.push(2);
  queue.clear();
  assert.equal(queue.length, 0);
  assert.equal(queue.bytes, 0);
  assert.deepEqual(queue.stats().droppedByReason, { overflow: 1 });
  queue.push(3);
  assert.deepEqual(queue.peek(), [3]);
});

Deno.test("stats returns a snapshot the caller cannot use to change the queue", () => {
  const queue = new BoundedQueue<number>({ maxItems: 1 });
  queue.push(1);
  queue.push(2);
  const stats = queue.stats();
  stats.droppedByReason.overflow = 99;
  assert.equal(queue.stats().droppedByReason.overflow, 1);
});

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

Deno.test("after any push and shift sequence the bounds hold and every item is accounted for", () => {
  const command = fc.oneof(
    fc.record({ push: fc.string({ unit: "binary", maxLength: 20 }) }),
    fc.record({ shift: fc.nat({ max: 5 }) }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 64 }),
      fc.array(command, { maxLength: 200 }),
      (maxItems, maxBytes, commands) => {
        const queue = new BoundedQueue<string>({ maxItems, maxBytes });
        let pushed = 0;
        let shifted = 0;
        for (const c of commands) {
          if ("push" in c) {
            queue.push(c.push);
            pushed++;
          } else {
            shifted += queue.shift(c.shift).length;
          }
          const stats = queue.stats();
          assert.ok(queue.length <= maxItems);
          assert.ok(queue.bytes <= maxBytes);
          assert.equal(stats.queued, queue.length);
          assert.equal(pushed, stats.queued + shifted + stats.dropped);
          const byReason = Object.values(stats.droppedByReason).reduce((a, b) => a + b, 0);
          assert.equal(byReason, stats.dropped);
        }
        const encoder = new TextEncoder();
        const bytes = queue.peek().reduce(
          (sum, item) => sum + encoder.encode(JSON.stringify(item)).length,
          0,
        );
        assert.equal(queue.bytes, bytes);
      },
    ),
    { seed: 20240601, numRuns: 300 },
  );
});
