import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { UsedStoreFullError } from "../../src/pow/errors.ts";
import { MemoryUsedChallengeStore } from "../../src/pow/used_store.ts";

Deno.test("markUsed resolves true on the first use of an id and false on every later use", async () => {
  const store = new MemoryUsedChallengeStore({ now: () => 1000 });
  assert.equal(await store.markUsed("a", 5000), true);
  assert.equal(await store.markUsed("a", 5000), false);
  assert.equal(await store.markUsed("a", 9000), false);
  assert.equal(await store.markUsed("b", 5000), true);
  assert.equal(store.size, 2);
});

Deno.test("an id is forgotten once its expiry passes and pruned from the store", async () => {
  let time = 1000;
  const store = new MemoryUsedChallengeStore({ now: () => time });
  await store.markUsed("short", 2000);
  await store.markUsed("long", 9000);
  time = 1999;
  assert.equal(await store.markUsed("short", 2000), false);
  time = 2000;
  assert.equal(await store.markUsed("long", 9000), false);
  assert.equal(store.size, 1);
  assert.equal(await store.markUsed("short", 3000), true);
});

Deno.test("an id that has already expired is accepted but not remembered", async () => {
  const store = new MemoryUsedChallengeStore({ now: () => 5000 });
  assert.equal(await store.markUsed("old", 5000), true);
  assert.equal(store.size, 0);
});

Deno.test("a full store rejects new ids with UsedStoreFullError and still refuses replays", async () => {
  let time = 0;
  const store = new MemoryUsedChallengeStore({ now: () => time, maxEntries: 2 });
  assert.equal(await store.markUsed("a", 100), true);
  assert.equal(await store.markUsed("b", 200), true);
  await assert.rejects(
    store.markUsed("c", 300),
    (error) =>
      error instanceof UsedStoreFullError && error.maxEntries === 2 &&
      error.code === "used_store_full" &&
      error.message ===
        "Cannot remember a used challenge as the store already holds 2 unexpired ones: raise 'maxEntries' or shorten the challenge TTL",
  );
  assert.equal(await store.markUsed("a", 100), false);
  time = 100;
  assert.equal(await store.markUsed("c", 300), true);
  assert.equal(await store.markUsed("b", 200), false);
});

Deno.test("MemoryUsedChallengeStore rejects a maxEntries that is not a positive integer", () => {
  for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => new MemoryUsedChallengeStore({ maxEntries }),
      (error) => error instanceof InvalidArgumentError && error.argument === "maxEntries",
    );
  }
});

Deno.test("markUsed rejects an expiresAt that is not a number", async () => {
  const store = new MemoryUsedChallengeStore();
  await assert.rejects(
    store.markUsed("a", Number.NaN),
    (error) => error instanceof InvalidArgumentError && error.argument === "expiresAt",
  );
});

Deno.test("MemoryUsedChallengeStore behaves like a map of unexpired ids for any sequence of marks", async () => {
  const step = fc.record({
    advance: fc.integer({ min: 0, max: 50 }),
    id: fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h"),
    ttl: fc.integer({ min: -10, max: 200 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 200 }), async (steps) => {
      let time = 0;
      const store = new MemoryUsedChallengeStore({ now: () => time });
      const model = new Map<string, number>();
      for (const { advance, id, ttl } of steps) {
        time += advance;
        for (const [key, expiry] of model) if (expiry <= time) model.delete(key);
        const expected = !model.has(id);
        if (expected && ttl > 0) model.set(id, time + ttl);
        assert.equal(await store.markUsed(id, time + ttl), expected);
        assert.equal(store.size, model.size);
      }
    }),
    { seed: 5, numRuns: 300 },
  );
});
