/**
 * The Emitter broker's storage quota per contract: past its count or bytes a
 * message with a `ttl` is still delivered live but not stored, counted in
 * `stats().storeRefused`, and its publisher gets a 429 on `emitter/error/`
 * (the real broker ignores a failed store, so there is no answer to copy);
 * expired messages make room again, and the options are checked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../../src/core/errors.ts";
import { EmitterBroker } from "../../../src/server/emitter/broker.ts";
import { resolveBrokerOptions } from "../../../src/server/emitter/options.ts";
import { connected, keyFor, makeBroker, settle } from "./_broker_harness.ts";
import { TestEmitterStore } from "./_memory_emitter_store.ts";

const FULL = {
  status: 429,
  message: "the storage quota of this contract is full, the message was delivered but not stored",
};

async function setup(
  quota: { maxStoredMessagesPerContract?: number; maxStoredBytesPerContract?: number },
) {
  const store = new TestEmitterStore();
  const made = await makeBroker({ store, ...quota });
  const key = keyFor(made.broker, "news/#/", "rwsl");
  return { ...made, store, key };
}

Deno.test("a message past the contract's count quota is delivered but not stored, with a 429", async () => {
  const { broker, store, key } = await setup({ maxStoredMessagesPerContract: 2 });
  const live = connected(broker);
  live.subscribe(`${key}/news/`);
  await settle();
  live.take();
  const pub = connected(broker);
  pub.publish(`${key}/news/?ttl=60`, "one");
  pub.publish(`${key}/news/?ttl=60`, "two");
  await settle();
  const third = pub.publish(`${key}/news/?ttl=60`, "three", { qos: 1 });
  await settle();
  assert.deepEqual(live.messages().map((m) => m.text), ["one", "two", "three"]);
  assert.deepEqual(store.stored.map((m) => new TextDecoder().decode(m.payload)), ["one", "two"]);
  assert.deepEqual(pub.answers("emitter/error/"), [{ req: third, ...FULL }]);
  assert.equal(broker.stats().storeRefused, 1);
  assert.equal(broker.stats().storeFailures, 0);
  const late = connected(broker);
  late.subscribe(`${key}/news/?last=10`);
  await settle();
  assert.deepEqual(late.messages().map((m) => m.text), ["one", "two"]);
  await broker.close();
});

Deno.test("a message past the contract's byte quota is refused while a smaller one fits", async () => {
  // The id of a message on `news/` is 16 bytes and 4 per word: 24
  const { broker, store, key } = await setup({ maxStoredBytesPerContract: 24 * 2 + 10 });
  const pub = connected(broker);
  pub.publish(`${key}/news/?ttl=60`, "12345");
  pub.publish(`${key}/news/?ttl=60`, "123456");
  pub.publish(`${key}/news/?ttl=60`, "12345");
  await settle();
  assert.deepEqual(store.stored.map((m) => new TextDecoder().decode(m.payload)), [
    "12345",
    "12345",
  ]);
  assert.deepEqual(pub.answers("emitter/error/"), [FULL]);
  assert.equal(broker.stats().storeRefused, 1);
  await broker.close();
});

Deno.test("expired messages no longer count against the quota", async () => {
  const { broker, store, key, time } = await setup({ maxStoredMessagesPerContract: 1 });
  const pub = connected(broker);
  pub.publish(`${key}/news/?ttl=1`, "short");
  await settle();
  pub.publish(`${key}/news/?ttl=60`, "refused");
  await settle();
  assert.equal(broker.stats().storeRefused, 1);
  time.advance(1000);
  pub.publish(`${key}/news/?ttl=60`, "later");
  await settle();
  assert.deepEqual(store.stored.map((m) => new TextDecoder().decode(m.payload)), [
    "short",
    "later",
  ]);
  assert.equal(broker.stats().storeRefused, 1);
  assert.deepEqual(pub.answers("emitter/error/"), [FULL]);
  await broker.close();
});

Deno.test("a store that fails the usage count is counted as a failure and stores nothing", async () => {
  const { broker, store, key } = await setup({ maxStoredMessagesPerContract: 5 });
  const pub = connected(broker);
  store.fail = true;
  pub.publish(`${key}/news/?ttl=60`, "lost");
  await settle();
  assert.equal(broker.stats().storeFailures, 1);
  assert.equal(broker.stats().storeRefused, 0);
  store.fail = false;
  pub.publish(`${key}/news/?ttl=60`, "kept");
  await settle();
  assert.deepEqual(store.stored.map((m) => new TextDecoder().decode(m.payload)), ["kept"]);
  await broker.close();
});

Deno.test("the storage quota options default and refuse values below one", () => {
  const resolved = resolveBrokerOptions({});
  assert.equal(resolved.maxStoredMessagesPerContract, 100_000);
  assert.equal(resolved.maxStoredBytesPerContract, 268_435_456);
  assert.throws(
    () => new EmitterBroker({ maxStoredMessagesPerContract: 0 }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && /maxStoredMessagesPerContract/.test(error.message),
  );
  assert.throws(
    () => new EmitterBroker({ maxStoredBytesPerContract: 1.5 }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && /maxStoredBytesPerContract/.test(error.message),
  );
});

Deno.test("a QoS 1 message with a ttl is acknowledged only once the store has it", async () => {
  const { broker, store, key } = await setup({});
  let commit!: () => void;
  store.gate = new Promise((resolve) => commit = resolve);
  const pub = connected(broker);
  const id = pub.publish(`${key}/news/?ttl=60`, "kept", { qos: 1 });
  await settle();
  assert.deepEqual(pub.take().filter((p) => p.type === "puback"), []);
  assert.equal(store.stored.length, 0);
  commit();
  await settle();
  assert.deepEqual(pub.take().filter((p) => p.type === "puback"), [{
    type: "puback",
    packetId: id,
  }]);
  assert.equal(store.stored.length, 1);
  await broker.close();
});

Deno.test("a QoS 1 message the store failed to keep is not acknowledged", async () => {
  const { broker, store, key } = await setup({});
  const live = connected(broker);
  live.subscribe(`${key}/news/`);
  await settle();
  live.take();
  const pub = connected(broker);
  pub.publish(`${key}/news/?ttl=60`, "warm-up");
  await settle();
  store.fail = true;
  pub.publish(`${key}/news/?ttl=60`, "lost", { qos: 1 });
  await settle();
  assert.deepEqual(pub.take().filter((p) => p.type === "puback"), []);
  // Still delivered live, as the real broker does when its store fails
  assert.deepEqual(live.messages().map((m) => m.text), ["warm-up", "lost"]);
  assert.equal(broker.stats().storeFailures, 1);
  await broker.close();
});
