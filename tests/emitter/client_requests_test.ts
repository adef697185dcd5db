/**
 * The Emitter client's API calls (`keygen`, `keyban`, `link`, `me`,
 * `presence`) and `publishWithLink` against the fake broker, which answers
 * them as the real broker does (keygen through the real security module):
 * correlation by `req`, refusals as `EmitterError`, deadlines, aborts and
 * presence change events.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AbortedError, NetworkError, TimeoutError } from "../../src/core/errors.ts";
import { EmitterClient } from "../../src/emitter/client.ts";
import type { EmitterPresenceEvent } from "../../src/emitter/options.ts";
import type { MqttPublishPacket } from "../../src/emitter/mqtt/packets.ts";
import { EMITTER_STATUS, EmitterError } from "../../src/emitter/security/errors.ts";
import { parseChannel } from "../../src/emitter/security/channel.ts";
import { FakeBroker } from "./_fake_broker.ts";

const text = (value: string) => new TextEncoder().encode(value);

async function connected(options: { timeoutMs?: number } = {}) {
  const broker = new FakeBroker();
  const client = new EmitterClient({ WebSocket: broker.WebSocket, ...options });
  await client.connect();
  return { broker, client, socket: broker.socket };
}

function publishes(packets: { type: string }[]): MqttPublishPacket[] {
  return packets.filter((p): p is MqttPublishPacket => p.type === "publish");
}

Deno.test("keygen publishes its JSON at QoS 1 to emitter/keygen/ and resolves with a working key", async () => {
  const { broker, client, socket } = await connected();
  const answer = await client.keygen({
    key: broker.license.secret,
    channel: "chat/",
    type: "rw",
    ttl: 60,
  });
  const [sent] = publishes(socket.received);
  assert.equal(sent.topic, "emitter/keygen/");
  assert.equal(sent.qos, 1);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(sent.payload)), {
    key: broker.license.secret,
    channel: "chat/",
    type: "rw",
    ttl: 60,
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.channel, "chat/");
  assert.equal(parseChannel(`${answer.key}/chat/`).type, "static");
  assert.equal(socket.received.filter((p) => p.type === "subscribe").length, 0);
  await client.disconnect();
});

Deno.test("two concurrent requests answered out of order each get the answer whose req is theirs", async () => {
  const { broker, client, socket } = await connected();
  broker.behaviour.holdAnswers = true;
  const first = client.link({ key: "K1", channel: "a/", name: "a1", subscribe: false });
  const second = client.link({ key: "K1", channel: "b/", name: "b2", subscribe: true, ttl: 5 });
  while (broker.held.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
  const ids = publishes(socket.received).map((p) => p.packetId);
  assert.notEqual(ids[0], ids[1]);
  broker.send(broker.held[1]);
  broker.send(broker.held[0]);
  assert.deepEqual(await second, { req: ids[1], status: 200, name: "b2", channel: "b/?ttl=5" });
  assert.deepEqual(await first, { req: ids[0], status: 200, name: "a1", channel: "a/" });
  await client.disconnect();
});

Deno.test("a refusal rejects with EmitterError carrying the broker's status and message, not the key", async () => {
  const { client } = await connected();
  const key = "not-a-real-key-but-looks-like-one";
  const error = await client.keygen({ key, channel: "chat/", type: "rw" }).catch((e) => e);
  assert.ok(error instanceof EmitterError, String(error));
  assert.equal(error.status, 401);
  assert.equal(error.brokerMessage, EMITTER_STATUS.unauthorized.message);
  assert.ok(!error.message.includes(key));
  await client.disconnect();
});

Deno.test("an answer on emitter/error/ with the request's req rejects it, one without is ignored", async () => {
  const { broker, client, socket } = await connected({ timeoutMs: 500 });
  broker.behaviour.holdAnswers = true;
  const me = client.me();
  while (broker.held.length < 1) await new Promise((resolve) => setTimeout(resolve, 1));
  const req = publishes(socket.received)[0].packetId;
  const reply = (topic: string, answer: object) =>
    socket.reply({
      type: "publish",
      topic,
      payload: text(JSON.stringify(answer)),
      qos: 0,
      retain: false,
      dup: false,
    });
  reply("emitter/me/", { req: 999, status: 200, id: "someone-else", links: {} });
  reply("emitter/error/", { status: 500, message: "no req" });
  reply("emitter/error/", { req, status: 403, message: EMITTER_STATUS.forbidden.message });
  const error = await me.catch((e) => e);
  assert.ok(error instanceof EmitterError, String(error));
  assert.equal(error.status, 403);
  await client.disconnect();
});

Deno.test("me sends an empty body and gets the connection id and its links", async () => {
  const { client, socket } = await connected();
  await client.link({ key: "K1", channel: "chat/", name: "c", subscribe: false });
  const me = await client.me();
  const sent = publishes(socket.received).at(-1)!;
  assert.equal(sent.topic, "emitter/me/");
  assert.equal(sent.payload.length, 0);
  assert.equal(me.id, "conn-1");
  assert.deepEqual(me.links, { c: "chat/" });
  await client.disconnect();
});

Deno.test("a request with no answer rejects with TimeoutError and a late answer is ignored", async () => {
  const { broker, client } = await connected();
  broker.behaviour.holdAnswers = true;
  const error = await client.keyban({ secret: "S", target: "T", banned: true, timeoutMs: 30 })
    .catch((e) => e);
  assert.ok(error instanceof TimeoutError, String(error));
  assert.match(error.message, /keyban/);
  broker.send(broker.held[0]);
  broker.behaviour.holdAnswers = false;
  assert.deepEqual(await client.keyban({ secret: "S", target: "T", banned: false }), {
    req: 2,
    status: 200,
    banned: false,
  });
  await client.disconnect();
});

Deno.test("aborting a request rejects it with AbortedError, and an aborted signal sends nothing", async () => {
  const { broker, client, socket } = await connected();
  broker.behaviour.holdAnswers = true;
  const controller = new AbortController();
  const pending = client.presence({ key: "K1", channel: "room/", signal: controller.signal });
  controller.abort();
  assert.ok((await pending.catch((e) => e)) instanceof AbortedError);
  const before = socket.received.length;
  const again = await client.me({ signal: controller.signal }).catch((e) => e);
  assert.ok(again instanceof AbortedError, String(again));
  assert.equal(socket.received.length, before);
  await client.disconnect();
});

Deno.test("requests fail with NetworkError offline and when the client disconnects", async () => {
  const { broker, client } = await connected();
  broker.behaviour.holdAnswers = true;
  const pending = client.me();
  await client.disconnect();
  assert.ok((await pending.catch((e) => e)) instanceof NetworkError);
  const offline = await client.me().catch((e) => e);
  assert.ok(offline instanceof NetworkError, String(offline));
  assert.match(offline.message, /connect\(\)/);
});

Deno.test("presence answers with who is there and change notifications arrive as presence events", async () => {
  const { client, socket } = await connected();
  const events: EmitterPresenceEvent[] = [];
  const messages: string[] = [];
  client.on("presence", (event) => events.push(event));
  client.on("message", (message) => messages.push(message.channel));
  const status = await client.presence({ key: "K1", channel: "room", changes: true });
  const sent = publishes(socket.received).at(-1)!;
  assert.deepEqual(JSON.parse(new TextDecoder().decode(sent.payload)), {
    key: "K1",
    channel: "room/",
    status: true,
    changes: true,
  });
  assert.deepEqual(status.who, [{ id: "conn-1", username: "ana" }]);
  const change = {
    time: 1700000001,
    event: "subscribe",
    channel: "room/",
    who: { id: "conn-9", username: "bo" },
  };
  socket.reply({
    type: "publish",
    topic: "emitter/presence/",
    payload: text(JSON.stringify(change)),
    qos: 0,
    retain: false,
    dup: false,
  });
  assert.deepEqual(events, [change]);
  assert.deepEqual(messages, []);
  assert.deepEqual(await client.presence({ key: "K1", channel: "room/", status: false }), {
    req: 2,
    status: 200,
  });
  await client.disconnect();
});

Deno.test("publishWithLink publishes to the link's name and refuses an invalid link with the broker's text", async () => {
  const { client, socket } = await connected();
  await client.publishWithLink({ link: "a1", message: "hi", qos: 1 });
  const sent = publishes(socket.received).at(-1)!;
  assert.equal(sent.topic, "a1");
  assert.deepEqual([...sent.payload], [...text("hi")]);
  const before = socket.received.length;
  for (const link of ["abc", "a/", "", "é"]) {
    const error = await client.publishWithLink({ link, message: "x" }).catch((e) => e);
    assert.ok(error instanceof EmitterError, String(error));
    assert.equal(error.brokerMessage, EMITTER_STATUS.linkInvalid.message);
    const viaLink = await client.link({ key: "K1", channel: "a/", name: link, subscribe: false })
      .catch((e) => e);
    assert.equal(viaLink.brokerMessage, EMITTER_STATUS.linkInvalid.message);
  }
  assert.equal(socket.received.length, before);
  await client.disconnect();
});
