/**
 * The Emitter client's publish, subscribe and unsubscribe against a fake
 * WebSocket broker speaking MQTT through the real codec: topics built as the
 * official SDKs build them, Emitter's own refusals before anything is sent,
 * QoS 1 acknowledgements and their deadline, and messages split or joined
 * across frames reaching both the `message` event and the subscription's
 * iterator.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TimeoutError } from "../../src/core/errors.ts";
import { EmitterClient } from "../../src/emitter/client.ts";
import { EmitterSubscribeError } from "../../src/emitter/errors.ts";
import type { EmitterMessage } from "../../src/emitter/message.ts";
import { encodePacket } from "../../src/emitter/mqtt/encoder.ts";
import type { MqttPublishPacket } from "../../src/emitter/mqtt/packets.ts";
import { EMITTER_STATUS, EmitterError } from "../../src/emitter/security/errors.ts";
import { FakeBroker } from "./_fake_broker.ts";

const KEY = "Z1HLm5KAp_0lkE2fwx6Qv1kl8TNYjiUh";
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

Deno.test("publish builds key/channel/?me=0&ttl=N and encodes text, bytes and JSON", async () => {
  const { client, socket } = await connected();
  await client.publish({ key: KEY, channel: "chat/room", message: "hi", me: false, ttl: 30 });
  await client.publish({ key: KEY, channel: "chat/", message: new Uint8Array([1, 2]) });
  await client.publish({ key: KEY, channel: "chat/", message: { a: 1 }, retain: true });
  const sent = publishes(socket.received);
  assert.deepEqual(sent.map((p) => p.topic), [
    `${KEY}/chat/room/?me=0&ttl=30`,
    `${KEY}/chat/`,
    `${KEY}/chat/`,
  ]);
  assert.deepEqual(sent.map((p) => [...p.payload]), [[104, 105], [1, 2], [...text('{"a":1}')]]);
  assert.deepEqual(sent.map((p) => [p.qos, p.retain]), [[0, false], [0, false], [0, true]]);
  await client.disconnect();
});

Deno.test("publish refuses a channel Emitter would refuse, with its status and text, sending nothing", async () => {
  const { client, socket } = await connected();
  const before = socket.received.length;
  const cases: [string, string, number, string][] = [
    [KEY, "chat room/", 400, EMITTER_STATUS.badRequest.message],
    [KEY, "a/+/", 403, EMITTER_STATUS.forbidden.message],
    ["", "chat/", 401, EMITTER_STATUS.unauthorized.message],
  ];
  for (const [key, channel, status, text] of cases) {
    const error = await client.publish({ key, channel, message: "x" }).catch((e) => e);
    assert.ok(error instanceof EmitterError, String(error));
    assert.equal(error.status, status);
    assert.equal(error.brokerMessage, text);
    assert.ok(!error.message.includes(KEY));
  }
  assert.equal(socket.received.length, before);
  await client.disconnect();
});

Deno.test("a QoS 1 publish resolves on PUBACK and rejects with TimeoutError without one", async () => {
  const { broker, client, socket } = await connected({ timeoutMs: 40 });
  await client.publish({ key: KEY, channel: "a/", message: "one", qos: 1 });
  const first = publishes(socket.received)[0];
  assert.equal(first.qos, 1);
  assert.equal(typeof first.packetId, "number");
  broker.behaviour.puback = false;
  const error = await client.publish({ key: KEY, channel: "a/", message: "two", qos: 1 }).catch((
    e,
  ) => e);
  assert.ok(error instanceof TimeoutError, String(error));
  assert.match(error.message, /PUBACK/);
  await client.disconnect();
});

Deno.test("subscribe sends the replay options, resolves on SUBACK and delivers split and joined frames", async () => {
  const { client, socket } = await connected();
  const events: EmitterMessage[] = [];
  client.on("message", (message) => events.push(message));
  const subscription = await client.subscribe({
    key: KEY,
    channel: "chat/+",
    last: 5,
    from: 1600000000,
    until: 1700000000,
  });
  const subscribe = socket.received.find((p) => p.type === "subscribe");
  assert.deepEqual(subscribe?.type === "subscribe" && subscribe.subscriptions, [
    { topic: `${KEY}/chat/+/?last=5&from=1600000000&until=1700000000`, qos: 0 },
  ]);
  const publish = (topic: string, payload: string) =>
    encodePacket({
      type: "publish",
      topic,
      payload: text(payload),
      qos: 0,
      retain: false,
      dup: false,
    });
  const a = publish("chat/one/", '{"n":1}');
  const b = publish("chat/two/", "second");
  const c = publish("other/", "not mine");
  socket.write(a.subarray(0, 3));
  socket.write(a.subarray(3, 7));
  socket.write(new Uint8Array([...a.subarray(7), ...b, ...c]));
  const iterator = subscription[Symbol.asyncIterator]();
  const one = (await iterator.next()).value as EmitterMessage;
  const two = (await iterator.next()).value as EmitterMessage;
  assert.equal(one.channel, "chat/one/");
  assert.deepEqual(one.asObject(), { n: 1 });
  assert.equal(two.asString(), "second");
  assert.deepEqual([...two.asBinary()], [...text("second")]);
  assert.deepEqual(events.map((m) => m.channel), ["chat/one/", "chat/two/", "other/"]);
  await client.unsubscribe({ key: KEY, channel: "chat/+" });
  const unsubscribe = socket.received.find((p) => p.type === "unsubscribe");
  assert.deepEqual(unsubscribe?.type === "unsubscribe" && unsubscribe.topics, [
    `${KEY}/chat/+/?last=5&from=1600000000&until=1700000000`,
  ]);
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  await client.disconnect();
});

Deno.test("a refused subscription rejects with EmitterSubscribeError naming the channel, not the key", async () => {
  const { broker, client } = await connected();
  broker.behaviour.suback = 0x80;
  const error = await client.subscribe({ key: KEY, channel: "secret/" }).catch((e) => e);
  assert.ok(error instanceof EmitterSubscribeError, String(error));
  assert.equal(error.channel, "secret/");
  assert.ok(!error.message.includes(KEY));
  await client.disconnect();
});

Deno.test("a QoS 1 message from the broker is acknowledged with PUBACK", async () => {
  const { client, socket } = await connected();
  socket.reply({
    type: "publish",
    topic: "a/",
    payload: text("x"),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 77,
  });
  assert.deepEqual(socket.received.at(-1), { type: "puback", packetId: 77 });
  await client.disconnect();
});
