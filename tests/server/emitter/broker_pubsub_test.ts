/**
 * The Emitter broker's publish and subscribe through in-memory links:
 * deliveries on the channel without key or options at QoS 0, Emitter's
 * prefix matching and `+`, `me=0`, one delivery per connection, one encoding
 * per message, the refusals on `emitter/error/` with `req` and the
 * acknowledgements that follow them, unsubscribe and close.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EMITTER_STATUS } from "../../../src/emitter/security/errors.ts";
import { connected, keyFor, makeBroker } from "./_broker_harness.ts";

Deno.test("a subscriber gets a message on its channel, without key or options, at QoS 0", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "chat/#/");
  const sub = connected(broker);
  const packetId = sub.subscribe(`${key}/chat/room1/`);
  assert.deepEqual(sub.take(), [{ type: "suback", packetId, granted: [0] }]);
  const pub = connected(broker);
  pub.publish(`${key}/chat/room1/?ttl=0&me=1`, "hello");
  const got = sub.take();
  assert.equal(got.length, 1);
  assert.equal(got[0].type, "publish");
  if (got[0].type !== "publish") return;
  assert.equal(got[0].topic, "chat/room1/");
  assert.equal(got[0].qos, 0);
  assert.equal(got[0].retain, false);
  assert.equal(new TextDecoder().decode(got[0].payload), "hello");
  await broker.close();
});

Deno.test("a subscription to a/ gets a/b/ but one to a/b/ does not get a/", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "a/#/");
  const top = connected(broker);
  top.subscribe(`${key}/a/`);
  const deep = connected(broker);
  deep.subscribe(`${key}/a/b/`);
  top.take();
  deep.take();
  const pub = connected(broker);
  pub.publish(`${key}/a/b/`, "deep");
  pub.publish(`${key}/a/`, "top");
  assert.deepEqual(top.messages(), [{ topic: "a/b/", text: "deep" }, { topic: "a/", text: "top" }]);
  assert.deepEqual(deep.messages(), [{ topic: "a/b/", text: "deep" }]);
  await broker.close();
});

Deno.test("+ matches exactly one segment", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "a/+/c/#/");
  const writer = keyFor(broker, "a/#/");
  const sub = connected(broker);
  sub.subscribe(`${key}/a/+/c/`);
  sub.take();
  const pub = connected(broker);
  pub.publish(`${writer}/a/x/c/`, "1");
  pub.publish(`${writer}/a/y/c/d/`, "2");
  pub.publish(`${writer}/a/x/`, "3");
  pub.publish(`${writer}/a/x/d/`, "4");
  assert.deepEqual(sub.messages().map((m) => m.text), ["1", "2"]);
  await broker.close();
});

Deno.test("the sender gets its own message unless it publishes with me=0", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "echo/#/");
  const client = connected(broker);
  client.subscribe(`${key}/echo/`);
  client.take();
  client.publish(`${key}/echo/`, "mine");
  client.publish(`${key}/echo/?me=0`, "hidden");
  assert.deepEqual(client.messages().map((m) => m.text), ["mine"]);
  await broker.close();
});

Deno.test("a connection matching twice gets a message once, and every subscriber gets the same bytes", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "x/#/");
  const one = connected(broker);
  one.subscribe(`${key}/x/`, `${key}/x/y/`);
  const two = connected(broker);
  two.subscribe(`${key}/x/y/`);
  one.take();
  two.take();
  connected(broker).publish(`${key}/x/y/`, "once");
  assert.equal(one.raw.length, 3); // CONNACK, SUBACK, one PUBLISH
  assert.deepEqual(one.messages(), [{ topic: "x/y/", text: "once" }]);
  assert.equal(one.raw.at(-1), two.raw.at(-1), "the PUBLISH is encoded once and shared");
  assert.equal(broker.stats().messagesOut, 2);
  await broker.close();
});

Deno.test("refused publishes answer on emitter/error/ with req and still get their PUBACK", async () => {
  const { broker } = await makeBroker();
  const readOnly = keyFor(broker, "ro/#/", "r");
  const client = connected(broker);
  const denied = client.publish(`${readOnly}/ro/`, "x", { qos: 1 });
  assert.deepEqual(client.take().map((p) => p.type), ["publish", "puback"]);
  client.publish(`${readOnly}/ro/`, "x", { qos: 1 });
  const [error] = client.answers("emitter/error/");
  assert.deepEqual(error, { req: denied! + 1, ...EMITTER_STATUS.unauthorized });
  client.publish(`${readOnly}/+/`, "x");
  assert.deepEqual(client.answers("emitter/error/"), [{ ...EMITTER_STATUS.forbidden }]);
  client.publish("no-key-here", "x");
  assert.deepEqual(client.answers("emitter/error/"), [{ ...EMITTER_STATUS.badRequest }]);
  await broker.close();
});

Deno.test("a QoS 1 publish gets PUBACK with its packet id after delivery", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "q/#/");
  const client = connected(broker);
  client.subscribe(`${key}/q/`);
  client.take();
  const id = client.publish(`${key}/q/`, "m", { qos: 1 });
  const packets = client.take();
  assert.deepEqual(packets.map((p) => p.type), ["publish", "puback"]);
  assert.deepEqual(packets[1], { type: "puback", packetId: id });
  await broker.close();
});

Deno.test("a subscription the key does not allow gets 0x80 and an error with req", async () => {
  const { broker } = await makeBroker();
  const writeOnly = keyFor(broker, "w/#/", "w");
  const key = keyFor(broker, "ok/#/");
  const client = connected(broker);
  const id = client.subscribe(`${writeOnly}/w/`, `${key}/ok/`, `${key}/bad channel/`);
  const packets = client.take();
  assert.deepEqual(packets.at(-1), { type: "suback", packetId: id, granted: [0x80, 0, 0x80] });
  const errors = packets.filter((p) => p.type === "publish").map((p) =>
    p.type === "publish" ? JSON.parse(new TextDecoder().decode(p.payload)) : undefined
  );
  assert.deepEqual(errors, [
    { req: id, ...EMITTER_STATUS.unauthorized },
    { req: id, ...EMITTER_STATUS.badRequest },
  ]);
  await broker.close();
});

Deno.test("a key with the extend permission cannot publish or subscribe", async () => {
  const { broker } = await makeBroker();
  const extend = keyFor(broker, "ext/#/", "rwe");
  const client = connected(broker);
  client.subscribe(`${extend}/ext/`);
  client.publish(`${extend}/ext/`, "x");
  const errors = client.answers("emitter/error/");
  assert.deepEqual(errors, [{ req: 1, ...EMITTER_STATUS.unauthorizedExt }, {
    ...EMITTER_STATUS.unauthorizedExt,
  }]);
  await broker.close();
});

Deno.test("a key past its expiry is refused", async () => {
  const { broker, time } = await makeBroker();
  const key = keyFor(broker, "t/#/", "rw", 60); // expires a minute after the real clock's now
  const client = connected(broker);
  time.now = Date.now();
  client.publish(`${key}/t/`, "fresh");
  assert.deepEqual(client.answers("emitter/error/"), []);
  time.now = Date.now() + 120_000;
  client.publish(`${key}/t/`, "stale");
  assert.deepEqual(client.answers("emitter/error/"), [{ ...EMITTER_STATUS.unauthorized }]);
  await broker.close();
});

Deno.test("UNSUBSCRIBE gets UNSUBACK and stops the deliveries", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "u/#/");
  const client = connected(broker);
  client.subscribe(`${key}/u/`);
  assert.equal(broker.stats().subscriptions, 1);
  client.take();
  const id = client.unsubscribe(`${key}/u/`);
  assert.deepEqual(client.take(), [{ type: "unsuback", packetId: id }]);
  assert.equal(broker.stats().subscriptions, 0);
  connected(broker).publish(`${key}/u/`, "gone");
  assert.deepEqual(client.messages(), []);
  await broker.close();
});

Deno.test("subscribing twice to one channel delivers once and one unsubscribe ends it", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "d/#/");
  const client = connected(broker);
  client.subscribe(`${key}/d/`);
  client.subscribe(`${key}/d/`);
  assert.equal(broker.stats().subscriptions, 1);
  client.unsubscribe(`${key}/d/`);
  assert.equal(broker.stats().subscriptions, 0);
  await broker.close();
});

Deno.test("closing a connection removes all of its subscriptions", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "c/#/");
  const client = connected(broker);
  client.subscribe(`${key}/c/1/`, `${key}/c/2/`);
  assert.equal(broker.stats().subscriptions, 2);
  client.session.closed();
  assert.equal(broker.stats().subscriptions, 0);
  assert.equal(broker.stats().connections, 0);
  await broker.close();
});

Deno.test("a # subscription is read as #/ and its key's channel covers the subtree", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "h/#/");
  const client = connected(broker);
  const id = client.subscribe(`${key}/h/#`);
  assert.deepEqual(client.take(), [{ type: "suback", packetId: id, granted: [0] }]);
  await broker.close();
});

Deno.test("a last will is published when the connection drops", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "will/#/");
  const watcher = connected(broker);
  watcher.subscribe(`${key}/will/`);
  watcher.take();
  const client = connected(broker, {
    will: {
      topic: `${key}/will/`,
      payload: new TextEncoder().encode("bye"),
      qos: 0,
      retain: false,
    },
  });
  client.session.closed();
  assert.deepEqual(watcher.messages(), [{ topic: "will/", text: "bye" }]);
  await broker.close();
});

Deno.test("the last will is published after DISCONNECT too, as the real broker does", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "will/#/");
  const watcher = connected(broker);
  watcher.subscribe(`${key}/will/`);
  watcher.take();
  const client = connected(broker, {
    will: {
      topic: `${key}/will/`,
      payload: new TextEncoder().encode("bye"),
      qos: 0,
      retain: false,
    },
  });
  client.write({ type: "disconnect" });
  assert.deepEqual(watcher.messages(), [{ topic: "will/", text: "bye" }]);
  await broker.close();
});
