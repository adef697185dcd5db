/**
 * An `EmitterSubscription` read with `next()` calls that overlap (allowed by
 * the async iterator protocol): each call gets its own message, in order, and
 * the end of the subscription settles every call still waiting.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EmitterMessage } from "../../src/emitter/message.ts";
import { EmitterSubscription } from "../../src/emitter/subscription.ts";

/** The promise's value, or "hung" when it has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | "hung"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), ms)));
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const message = (text: string) => new EmitterMessage("chat/", new TextEncoder().encode(text));

Deno.test("overlapping next() calls each get their own message in order", async () => {
  const subscription = new EmitterSubscription("chat/", 10);
  const iterator = subscription[Symbol.asyncIterator]();
  const first = iterator.next();
  const second = iterator.next();
  subscription.deliver(message("one"));
  subscription.deliver(message("two"));
  const settled = await within(Promise.all([first, second]), 50);
  assert.notEqual(settled, "hung", "a next() call never settled");
  if (settled === "hung") return;
  const [a, b] = settled;
  assert.equal(a.value?.asString(), "one");
  assert.equal(b.value?.asString(), "two");
  assert.equal(subscription.dropped, 0);
});

Deno.test("the end of a subscription settles every next() call still waiting", async () => {
  const subscription = new EmitterSubscription("chat/", 10);
  const iterator = subscription[Symbol.asyncIterator]();
  const waiting = [iterator.next(), iterator.next(), iterator.next()];
  subscription.end();
  const settled = await within(Promise.all(waiting), 50);
  assert.notEqual(settled, "hung", "a next() call never settled");
  if (settled === "hung") return;
  for (const result of settled) assert.equal(result.done, true);
});
