/**
 * Tests of the bounds of {@linkcode BoundedQueue}: defaults, option ranges,
 * the default size, overflow and oversize drops, and a property test that
 * the bounds hold and every item is accounted for.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { BoundedQueue } from "../../src/core/queue.ts";
import type { Storage } from "../../src/core/storage.ts";
import { byLength } from "./_queue_storage.ts";

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
