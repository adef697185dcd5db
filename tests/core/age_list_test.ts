/**
 * `AgeList`, the least-recently-used order of the rate limiters and of the
 * idempotency key index: appends, moves and removals from any place keep
 * both ends and every link right.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Aged, AgeList } from "../../src/core/_age_list.ts";

interface Item extends Aged<Item> {
  name: string;
}

const item = (name: string): Item => ({ name, older: undefined, newer: undefined });

/** The names from oldest to newest, and back from newest to oldest. */
function names(list: AgeList<Item>): [string[], string[]] {
  const forward: string[] = [];
  for (let at = list.oldest; at !== undefined; at = at.newer) forward.push(at.name);
  const backward: string[] = [];
  for (let at = list.newest; at !== undefined; at = at.older) backward.unshift(at.name);
  return [forward, backward];
}

Deno.test("AgeList keeps entries oldest first through appends, moves and removals", () => {
  const list = new AgeList<Item>();
  const [a, b, c, d] = ["a", "b", "c", "d"].map(item);
  for (const entry of [a, b, c, d]) list.append(entry);
  assert.deepEqual(names(list), [["a", "b", "c", "d"], ["a", "b", "c", "d"]]);
  list.touch(b); // from the middle
  list.touch(a); // from the start
  list.touch(a); // already the newest
  assert.deepEqual(names(list), [["c", "d", "b", "a"], ["c", "d", "b", "a"]]);
  list.remove(d); // the middle
  list.remove(c); // the start
  list.remove(a); // the end
  assert.deepEqual(names(list), [["b"], ["b"]]);
  assert.equal(a.older, undefined);
  assert.equal(a.newer, undefined);
  list.remove(b);
  assert.equal(list.oldest, undefined);
  assert.equal(list.newest, undefined);
  // A removed entry can be listed again.
  list.append(c);
  assert.deepEqual(names(list), [["c"], ["c"]]);
  list.clear();
  assert.equal(list.oldest, undefined);
});
