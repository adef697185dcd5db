/**
 * `OldestKeys`, which drops the oldest key of a bounded cache: it always
 * takes the oldest key still there, whatever the map did meanwhile.
 *
 * @module
 */

import assert from "node:assert/strict";
import { OldestKeys } from "../../src/core/_oldest_keys.ts";

Deno.test("OldestKeys drops the oldest key still in the map, through deletions and re-insertions", () => {
  const map = new Map<string, number>([["a", 1], ["b", 2], ["c", 3], ["d", 4]]);
  const oldest = new OldestKeys(map);
  assert.equal(oldest.drop(), "a");
  map.delete("c"); // deleted ahead of the cursor
  map.delete("b"); // re-inserted: now the newest
  map.set("b", 2);
  map.set("e", 5);
  assert.equal(oldest.drop(), "d");
  assert.equal(oldest.drop(), "b");
  assert.equal(oldest.drop(), "e");
  assert.equal(oldest.drop(), undefined);
  // Keys added once it had gone past the end are still met.
  map.set("f", 6);
  map.set("g", 7);
  assert.equal(oldest.drop(), "f");
  assert.deepEqual([...map.keys()], ["g"]);
});

Deno.test("OldestKeys keeps a cache at its bound in insertion order over many rounds", () => {
  const map = new Map<number, number>();
  const oldest = new OldestKeys(map);
  for (let i = 0; i < 10_000; i++) {
    if (map.size >= 100) assert.equal(oldest.drop(), i - 100);
    map.set(i, i);
  }
  assert.equal(map.size, 100);
  map.clear();
  assert.equal(oldest.drop(), undefined);
  map.set(1, 1);
  assert.equal(oldest.drop(), 1);
});
