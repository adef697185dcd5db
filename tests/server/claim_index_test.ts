/**
 * `ClaimIndex`, the keys of `MemoryStore` and the SQLite store's index of
 * its rows: both orders (overall and per scope) stay right through
 * replacements and removals from any place.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ClaimIndex } from "../../src/server/common/_claim_index.ts";

/** The keys from oldest to newest, walking the overall list. */
function keys(index: ClaimIndex<number>): string[] {
  const found: string[] = [];
  for (let entry = index.oldest(); entry !== undefined; entry = entry.newer) {
    found.push(`${entry.scope}/${entry.key}`);
  }
  return found;
}

/** A scope's keys from oldest to newest, walking its own list. */
function scopeKeys(index: ClaimIndex<number>, scope: string): string[] {
  const found: string[] = [];
  for (let entry = index.oldestOf(scope); entry !== undefined; entry = entry.newerInScope) {
    found.push(entry.key);
  }
  return found;
}

Deno.test("ClaimIndex keeps keys oldest first overall and per scope", () => {
  const index = new ClaimIndex<number>();
  index.add("a", "1", 1);
  index.add("b", "1", 2);
  index.add("a", "2", 3);
  assert.deepEqual(keys(index), ["a/1", "b/1", "a/2"]);
  assert.deepEqual(scopeKeys(index, "a"), ["1", "2"]);
  assert.equal(index.size, 3);
  assert.equal(index.scopeSize("a"), 2);
  assert.equal(index.get("a", "2")?.value, 3);
  assert.equal(index.get("b", "2"), undefined);
});

Deno.test("ClaimIndex moves a key added again to the newest place, with its new value", () => {
  const index = new ClaimIndex<number>();
  index.add("a", "1", 1);
  index.add("a", "2", 2);
  index.add("a", "1", 3);
  assert.deepEqual(keys(index), ["a/2", "a/1"]);
  assert.deepEqual(scopeKeys(index, "a"), ["2", "1"]);
  assert.equal(index.get("a", "1")?.value, 3);
  assert.equal(index.size, 2);
});

Deno.test("ClaimIndex removes a key from the start, the middle or the end of both lists", () => {
  const index = new ClaimIndex<number>();
  for (let i = 0; i < 6; i++) index.add(i % 2 === 0 ? "even" : "odd", String(i), i);
  index.remove(index.get("even", "2")!); // the middle of both
  index.remove(index.oldest()!); // "0", the start of both
  index.remove(index.get("odd", "5")!); // the end of both
  assert.deepEqual(keys(index), ["odd/1", "odd/3", "even/4"]);
  assert.deepEqual(scopeKeys(index, "even"), ["4"]);
  assert.deepEqual(scopeKeys(index, "odd"), ["1", "3"]);
  index.remove(index.get("even", "4")!);
  assert.equal(index.scopeSize("even"), 0);
  assert.equal(index.oldestOf("even"), undefined);
  // A removed or replaced entry removed again changes nothing.
  const replaced = index.get("odd", "1")!;
  index.add("odd", "1", 9);
  index.remove(replaced);
  assert.deepEqual(keys(index), ["odd/3", "odd/1"]);
  index.clear();
  assert.equal(index.size, 0);
  assert.equal(index.oldest(), undefined);
});

Deno.test("ClaimIndex never takes one scope and key for another", () => {
  const index = new ClaimIndex<number>();
  index.add("ab", "c", 1);
  index.add("a", "bc", 2);
  assert.equal(index.get("ab", "c")?.value, 1);
  assert.equal(index.get("a", "bc")?.value, 2);
  assert.equal(index.size, 2);
});
