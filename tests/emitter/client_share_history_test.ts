/**
 * The Emitter client's share-group subscriptions and history requests
 * against the fake broker: `key/$share/group/channel/` topics and Emitter's
 * refusal of a group that is not one channel segment, messages shared among
 * a group's members, and `history()` asking `emitter/history/` and reading its
 * base64 answer into messages with ids. The last test runs the client over a
 * real WebSocket against the fake broker served by `Deno.serve`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EdgewireError, InvalidArgumentError } from "../../src/core/errors.ts";
import { EmitterClient } from "../../src/emitter/client.ts";
import type { EmitterMessage } from "../../src/emitter/message.ts";
import type { MqttPublishPacket } from "../../src/emitter/mqtt/packets.ts";
import { EMITTER_STATUS, EmitterError } from "../../src/emitter/security/errors.ts";
import type { EmitterSubscription } from "../../src/emitter/subscription.ts";
import { FakeBroker } from "./_fake_broker.ts";

const KEY = "Z1HLm5KAp_0lkE2fwx6Qv1kl8TNYjiUh";
const text = (value: string) => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function connected(broker = new FakeBroker()) {
  // Reconnections come at once, so a test of one waits for no backoff
  const backoff = { initialMs: 1, maxMs: 1 };
  const client = new EmitterClient({ WebSocket: broker.WebSocket, backoff });
  await client.connect();
  return { broker, client, socket: broker.socket };
}

function publishes(packets: { type: string }[]): MqttPublishPacket[] {
  return packets.filter((p): p is MqttPublishPacket => p.type === "publish");
}

/** Reads the next message, or fails after one second. */
async function next(subscription: EmitterSubscription): Promise<EmitterMessage> {
  const iterator = subscription[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("No message within 1 s")), 1000);
  });
  try {
    const result = await Promise.race([iterator.next(), late]);
    assert.equal(result.done, false, "The subscription ended");
    return result.value;
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("subscribeWithGroup subscribes to key/$share/group/channel/ with the replay options", async () => {
  const { client, socket } = await connected();
  const jobs = await client.subscribeWithGroup({
    key: KEY,
    channel: "jobs",
    group: "workers",
    last: 2,
  });
  const subscribe = socket.received.find((p) => p.type === "subscribe");
  assert.deepEqual(subscribe?.type === "subscribe" && subscribe.subscriptions, [
    { topic: `${KEY}/$share/workers/jobs/?last=2`, qos: 0 },
  ]);
  assert.equal(jobs.channel, "jobs/");
  await client.disconnect();
  assert.equal(jobs.ended, true);
});

Deno.test("a group that is not one plain channel segment is refused with Emitter's 400, sending nothing", async () => {
  const { client, socket } = await connected();
  const before = socket.received.length;
  for (const group of ["", "a/b", "+", "#", "*", "a b", "é", 5, undefined]) {
    const error = await client
      .subscribeWithGroup({ key: KEY, channel: "jobs/", group: group as string })
      .catch((e) => e);
    assert.ok(error instanceof EmitterError, `${String(group)}: ${error}`);
    assert.equal(error.status, 400);
    assert.equal(error.brokerMessage, EMITTER_STATUS.badRequest.message);
    assert.match(String(error.cause), /share group/);
  }
  const badKey = await client.subscribeWithGroup({ key: "", channel: "jobs/", group: "g" })
    .catch((e) => e);
  assert.equal(badKey.status, 401);
  assert.equal(socket.received.length, before);
  await client.disconnect();
});

Deno.test("the broker's messages are shared among a group's members while a plain subscriber gets them all", async () => {
  const broker = new FakeBroker();
  broker.behaviour.route = true;
  const a = await connected(broker);
  const b = await connected(broker);
  const watcher = await connected(broker);
  const inA = await a.client.subscribeWithGroup({ key: KEY, channel: "jobs/", group: "w" });
  const inB = await b.client.subscribeWithGroup({ key: KEY, channel: "jobs/", group: "w" });
  const all = await watcher.client.subscribe({ key: KEY, channel: "jobs/" });
  await watcher.client.publish({ key: KEY, channel: "jobs/", message: "one", qos: 1 });
  await watcher.client.publish({ key: KEY, channel: "jobs/", message: "two", qos: 1 });
  const shared = [(await next(inA)).asString(), (await next(inB)).asString()].sort();
  assert.deepEqual(shared, ["one", "two"]);
  assert.deepEqual([(await next(all)).asString(), (await next(all)).asString()], ["one", "two"]);
  for (const { client } of [a, b, watcher]) await client.disconnect();
  // Each member got exactly one: nothing more was waiting when the iterators ended
  for (const subscription of [inA, inB]) {
    assert.equal((await subscription[Symbol.asyncIterator]().next()).done, true);
  }
});

Deno.test("a group subscription and a plain one on a channel are apart: unsubscribe drops only the one named", async () => {
  const { broker, client, socket } = await connected();
  const grouped = await client.subscribeWithGroup({ key: KEY, channel: "jobs/", group: "w" });
  const plain = await client.subscribe({ key: KEY, channel: "jobs/" });
  await client.unsubscribe({ key: KEY, channel: "jobs", group: "w" });
  const unsubscribe = socket.received.find((p) => p.type === "unsubscribe");
  assert.deepEqual(unsubscribe?.type === "unsubscribe" && unsubscribe.topics, [
    `${KEY}/$share/w/jobs/`,
  ]);
  assert.equal(grouped.ended, true);
  assert.equal(plain.ended, false);
  // After a reconnection only the plain subscription is made again
  const reopened = broker.nextSocket();
  socket.drop();
  const again = await reopened;
  while (!again.received.some((p) => p.type === "subscribe")) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const topics = again.received.flatMap((p) =>
    p.type === "subscribe" ? p.subscriptions.map((s) => s.topic) : []
  );
  assert.deepEqual(topics, [`${KEY}/jobs/`]);
  await client.disconnect();
});

Deno.test("history asks emitter/history/ with the whole topic and reads ids and base64 payloads", async () => {
  const { broker, client, socket } = await connected();
  broker.stored.push(
    { id: "AAAAAQ==", channel: "chat/", payload: text("old") },
    { id: "AAAAAg==", channel: "chat/", payload: text('{"n":2}') },
    { id: "AAAAAw==", channel: "chat/", payload: new Uint8Array([0, 255, 7]) },
    { id: "AAAABA==", channel: "other/", payload: text("elsewhere") },
  );
  const messages = await client.history({ key: KEY, channel: "chat", last: 2 });
  const [sent] = publishes(socket.received);
  assert.equal(sent.topic, "emitter/history/");
  assert.equal(sent.qos, 1);
  assert.deepEqual(JSON.parse(decode(sent.payload)), { key: KEY, channel: `${KEY}/chat/?last=2` });
  assert.deepEqual(messages.map((m) => [m.id, m.channel]), [
    ["AAAAAg==", "chat/"],
    ["AAAAAw==", "chat/"],
  ]);
  assert.deepEqual(messages[0].asObject(), { n: 2 });
  assert.deepEqual([...messages[1].asBinary()], [0, 255, 7]);

  const paged = await client.history({
    key: KEY,
    channel: "chat/",
    last: 5,
    startFromId: "AAAAAQ==",
  });
  assert.deepEqual(
    JSON.parse(decode(publishes(socket.received)[1].payload)).startFromID,
    "AAAAAQ==",
  );
  assert.deepEqual(paged.map((m) => m.asString()), ['{"n":2}', "\u0000\ufffd\u0007"]);
  await client.disconnect();
});

Deno.test("history refuses an unusable startFromId or window before sending anything", async () => {
  const { client, socket } = await connected();
  for (const startFromId of ["", "not base64!", "abc", 12]) {
    const error = await client
      .history({ key: KEY, channel: "chat/", startFromId: startFromId as string })
      .catch((e) => e);
    assert.ok(error instanceof InvalidArgumentError, String(error));
    assert.match(error.message, /startFromId/);
  }
  const window = await client.history({ key: KEY, channel: "chat/", from: 5 }).catch((e) => e);
  assert.ok(window instanceof InvalidArgumentError, String(window));
  const key = await client.history({ key: "", channel: "chat/" }).catch((e) => e);
  assert.equal(key.status, 401);
  assert.equal(socket.received.filter((p) => p.type === "publish").length, 0);
  await client.disconnect();
});

Deno.test("history rejects a refusal as EmitterError and an answer of the wrong shape as invalid_answer", async () => {
  const { broker, client, socket } = await connected();
  broker.behaviour.holdAnswers = true;
  const answer = (body: object) => {
    const req = publishes(socket.received).at(-1)!.packetId;
    socket.reply({
      type: "publish",
      topic: "emitter/history/",
      payload: text(JSON.stringify({ req, ...body })),
      qos: 0,
      retain: false,
      dup: false,
    });
  };
  const ask = async (body: object) => {
    const pending = client.history({ key: KEY, channel: "chat/" }).catch((e) => e);
    while (broker.held.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    broker.held.length = 0;
    answer(body);
    return await pending;
  };
  const refused = await ask({ ...EMITTER_STATUS.unauthorized });
  assert.ok(refused instanceof EmitterError, String(refused));
  assert.equal(refused.status, 401);
  for (const body of [{ messages: 5 }, { messages: [{ id: "AA==", payload: "AA==" }] }]) {
    const error = await ask(body);
    assert.ok(error instanceof EdgewireError && !(error instanceof EmitterError), String(error));
    assert.equal(error.code, "invalid_answer");
  }
  // Go encodes an empty list and empty bytes as null
  assert.deepEqual(await ask({ messages: null }), []);
  const [empty] = await ask({ messages: [{ id: "AA==", channel: "chat/", payload: null }] });
  assert.equal(empty.asBinary().length, 0);
  await client.disconnect();
});

Deno.test("over a real WebSocket a key from keygen subscribes in a group and gets its own publish", async () => {
  const broker = new FakeBroker();
  broker.behaviour.route = true;
  await using served = broker.serve();
  const client = new EmitterClient({ endpoint: served.url });
  await client.connect();
  const { key } = await client.keygen({ key: broker.license.secret, channel: "jobs/", type: "rw" });
  const jobs = await client.subscribeWithGroup({ key, channel: "jobs/", group: "w" });
  await client.publish({ key, channel: "jobs/", message: { job: 1 }, qos: 1 });
  const message = await next(jobs);
  assert.equal(message.channel, "jobs/");
  assert.deepEqual(message.asObject(), { job: 1 });
  assert.equal(broker.socket.protocol, "mqtt");
  await client.disconnect();
});
