/**
 * What a closed connection leaves behind in the Emitter broker: nothing. A
 * SUBSCRIBE whose first topic waits on the store's replay (or whose error
 * answer overflows the send buffer) must not go on to subscribe its later
 * topics once the connection has closed meanwhile; and the packets held
 * behind a store read count toward the send-buffer limit, SUBSCRIBE too.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connected, keyFor, makeBroker, settle } from "./_broker_harness.ts";
import { TestEmitterStore } from "./_memory_emitter_store.ts";

Deno.test("a connection closed while its subscribe waits on the store keeps no subscription", async () => {
  const store = new TestEmitterStore();
  const { broker } = await makeBroker({ store });
  const key = keyFor(broker, "news/#/", "rwslp");
  const sub = connected(broker, { username: "ghost" });
  // The first topic replays from the store (load permission); the later ones wait behind it
  sub.subscribe(`${key}/news/`, `${key}/news/tech/`, `${key}/news/art/`);
  sub.session.closed();
  await settle();
  assert.equal(broker.stats().connections, 0);
  assert.equal(broker.stats().subscriptions, 0);
  const presence = broker.presenceOf(key, "news/tech/");
  assert.ok("who" in presence);
  assert.deepEqual(presence.who, []);
  await broker.close();
  await store[Symbol.asyncDispose]();
});

Deno.test("a connection closed for a full send buffer mid-subscribe keeps no subscription", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "news/#/", "rw");
  const sub = connected(broker);
  sub.buffered = 1 << 30;
  // The refusal of the first topic cannot be sent, which closes the connection
  sub.subscribe("not a channel", `${key}/news/`, `${key}/news/tech/`);
  assert.equal(sub.closedByBroker, true);
  assert.equal(broker.stats().connections, 0);
  assert.equal(broker.stats().subscriptions, 0);
  await broker.close();
});

Deno.test("subscribes held behind a store read count toward the send-buffer limit", async () => {
  const store = new TestEmitterStore();
  let release = () => {};
  const query = store.queryEmitterMessages.bind(store);
  store.queryEmitterMessages = async (q) => {
    await new Promise<void>((resolve) => (release = resolve));
    return await query(q);
  };
  const { broker } = await makeBroker({ store, maxSendBufferBytes: 16_384 });
  const key = keyFor(broker, "news/#/", "rwsl");
  const sub = connected(broker);
  sub.subscribe(`${key}/news/`); // waits on the store
  // 40 held SUBSCRIBE packets of 1,000-character topics: 40 KB, far past the 16 KiB limit
  const long = `${key}/news/${"a".repeat(1000)}/`;
  for (let i = 0; i < 40 && !sub.closedByBroker; i++) sub.subscribe(long);
  assert.equal(sub.closedByBroker, true);
  release();
  await settle();
  assert.equal(broker.stats().subscriptions, 0);
  await broker.close();
  await store[Symbol.asyncDispose]();
});
