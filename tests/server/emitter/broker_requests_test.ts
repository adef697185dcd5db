/**
 * The Emitter broker's API requests on `emitter/<name>/`: keygen, keyban
 * (kept in the store by the key's SHA-256 and loaded when a broker opens),
 * link and publishing through a link, me, unknown names, and `req` present
 * for QoS 1 requests and absent for QoS 0 ones, each answer arriving before
 * the PUBACK as with the real broker.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EMITTER_STATUS } from "../../../src/emitter/security/errors.ts";
import { newLicense } from "../../../src/emitter/security/license.ts";
import { connected, keyFor, makeBroker, settle, TestClient } from "./_broker_harness.ts";
import { TestEmitterStore } from "./_memory_emitter_store.ts";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("keygen with the secret makes a key that works, and the answer comes before the PUBACK", async () => {
  const { broker } = await makeBroker();
  const client = connected(broker);
  const req = client.request("keygen", {
    key: broker.secret,
    channel: "room/#/",
    type: "rw",
    ttl: 0,
  });
  const packets = client.take();
  assert.deepEqual(packets.map((p) => p.type), ["publish", "puback"]);
  const answer = packets[0].type === "publish"
    ? JSON.parse(new TextDecoder().decode(packets[0].payload))
    : undefined;
  assert.equal(packets[0].type === "publish" && packets[0].topic, "emitter/keygen/");
  assert.equal(answer.req, req);
  assert.equal(answer.status, 200);
  assert.equal(answer.channel, "room/#/");
  assert.equal(typeof answer.key, "string");
  client.subscribe(`${answer.key}/room/a/`);
  assert.deepEqual(client.take().at(-1), { type: "suback", packetId: req + 1, granted: [0] });
  await broker.close();
});

Deno.test("keygen refuses a key that is not the secret and a malformed body", async () => {
  const { broker } = await makeBroker();
  const plain = keyFor(broker, "room/#/");
  const client = connected(broker);
  const one = client.request("keygen", { key: plain, channel: "room/", type: "rw", ttl: 0 });
  const two = client.request("keygen", "[1,2]");
  assert.deepEqual(client.answers("emitter/keygen/"), [
    { req: one, ...EMITTER_STATUS.unauthorized },
    { req: two, ...EMITTER_STATUS.badRequest },
  ]);
  await broker.close();
});

Deno.test("a QoS 0 request is answered without req", async () => {
  const { broker } = await makeBroker();
  const client = connected(broker);
  client.publish("emitter/me/", "");
  const [answer] = client.answers("emitter/me/");
  assert.equal("req" in answer, false);
  assert.equal(answer.status, 200);
  assert.equal(typeof answer.id, "string");
  await broker.close();
});

Deno.test("an unknown request name answers 404 on its own topic", async () => {
  const { broker } = await makeBroker();
  const client = connected(broker);
  const req = client.request("nothing", {});
  client.publish("emitter/keygen/extra/", "{}", { qos: 1, packetId: 77 });
  assert.deepEqual(client.answers("emitter/nothing/"), [{ req, ...EMITTER_STATUS.notFound }]);
  await broker.close();
});

Deno.test("link names a channel, subscribes when asked, and publishing to the name reaches it", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "chat/#/");
  const client = connected(broker);
  const req = client.request("link", {
    name: "a1",
    key,
    channel: "chat/room/?me=1",
    subscribe: true,
  });
  assert.deepEqual(client.answers("emitter/link/"), [{
    req,
    status: 200,
    name: "a1",
    channel: "chat/room/?me=1",
  }]);
  assert.equal(broker.stats().subscriptions, 1);
  client.publish("a1", "via link");
  assert.deepEqual(client.messages(), [{ topic: "chat/room/", text: "via link" }]);
  client.request("me", "");
  const [me] = client.answers("emitter/me/");
  assert.deepEqual(me.links, { a1: "chat/room/?me=1" });
  await broker.close();
});

Deno.test("link refuses a bad name and a bad channel, and an unknown short topic is a bad request", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "chat/#/");
  const client = connected(broker);
  const one = client.request("link", { name: "abc", key, channel: "chat/" });
  const two = client.request("link", { name: "b", key, channel: "chat" });
  assert.deepEqual(client.answers("emitter/link/"), [
    { req: one, ...EMITTER_STATUS.linkInvalid },
    { req: two, ...EMITTER_STATUS.badRequest },
  ]);
  client.publish("zz", "nowhere");
  assert.deepEqual(client.answers("emitter/error/"), [{ ...EMITTER_STATUS.badRequest }]);
  await broker.close();
});

Deno.test("me answers the connection id, which keygen uses for private channels", async () => {
  const { broker } = await makeBroker();
  const extend = keyFor(broker, "inbox/", "rwe");
  const client = connected(broker);
  client.request("me", "");
  const [me] = client.answers("emitter/me/");
  assert.equal("links" in me, false);
  client.request("keygen", { key: extend, channel: "inbox/", type: "rw", ttl: 0 });
  const [answer] = client.answers("emitter/keygen/");
  assert.equal(answer.channel, `inbox/${me.id}/`);
  await broker.close();
});

Deno.test("keyban bans a key at once, keeps its SHA-256 in the store, and unbans it", async () => {
  await using store = new TestEmitterStore();
  const { broker } = await makeBroker({ store });
  const target = keyFor(broker, "x/#/");
  const client = connected(broker);
  const req = client.request("keyban", { secret: broker.secret, target, banned: true });
  await settle();
  assert.deepEqual(client.answers("emitter/keyban/"), [{ req, status: 200, banned: true }]);
  assert.deepEqual(await store.listEmitterKeyBans(), [await sha256Hex(target)]);
  client.publish(`${target}/x/`, "banned");
  assert.deepEqual(client.answers("emitter/error/"), [{ ...EMITTER_STATUS.unauthorized }]);
  client.request("keyban", { secret: broker.secret, target, banned: false });
  await settle();
  assert.deepEqual(await store.listEmitterKeyBans(), []);
  client.take();
  client.publish(`${target}/x/`, "free");
  assert.deepEqual(client.answers("emitter/error/"), []);
  await broker.close();
});

Deno.test("a broker opening on a store loads its bans before it handles any bytes", async () => {
  await using store = new TestEmitterStore();
  const { broker: first } = await makeBroker({ store });
  const license = first.license.toString();
  const target = keyFor(first, "x/#/");
  await store.setEmitterKeyBan(await sha256Hex(target), true);
  await first.close();
  const { EmitterBroker } = await import("../../../src/server/emitter/broker.ts");
  const second = new EmitterBroker({ store, license });
  const client = new TestClient(second);
  client.connect();
  client.publish(`${target}/x/`, "x");
  assert.equal(client.received.length, 0, "bytes wait until the bans are loaded");
  await second.ready();
  assert.equal(client.received[0].type, "connack");
  assert.deepEqual(client.answers("emitter/error/"), [{ ...EMITTER_STATUS.unauthorized }]);
  await second.close();
});

Deno.test("keyban needs the master key of the same contract", async () => {
  const { broker } = await makeBroker();
  const target = keyFor(broker, "x/#/");
  const foreign = newLicense();
  const client = connected(broker);
  const one = client.request("keyban", { secret: target, target, banned: true });
  const two = client.request("keyban", {
    secret: broker.secret,
    target: foreign.secret,
    banned: true,
  });
  const three = client.request("keyban", { secret: 5 });
  await settle();
  assert.deepEqual(client.answers("emitter/keyban/"), [
    { req: one, ...EMITTER_STATUS.unauthorized },
    { req: two, ...EMITTER_STATUS.unauthorized },
    { req: three, ...EMITTER_STATUS.badRequest },
  ]);
  await broker.close();
});

Deno.test("keyban answers 500 when the store cannot keep the ban", async () => {
  await using store = new TestEmitterStore();
  const { broker } = await makeBroker({ store });
  const target = keyFor(broker, "x/#/");
  store.fail = true;
  const client = connected(broker);
  const req = client.request("keyban", { secret: broker.secret, target, banned: true });
  await settle();
  assert.deepEqual(client.answers("emitter/keyban/"), [{ req, ...EMITTER_STATUS.serverError }]);
  await broker.close();
});
