/**
 * Tests of the operations of {@linkcode BoundedQueue}: peek, shift, upsert,
 * unshiftMany, drop, clear and stats.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BoundedQueue } from "../../src/core/queue.ts";
import { byLength } from "./_queue_storage.ts";

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
