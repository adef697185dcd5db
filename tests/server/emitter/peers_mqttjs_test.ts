/**
 * Our Emitter broker against MQTT.js 5, the most used MQTT client (and the
 * library under the official Emitter JS SDK), over WebSocket and plain TCP:
 * publish and subscribe at QoS 0 and 1, wildcards, `me=0`, unsubscribe,
 * retained and stored messages replayed with `last`, share groups, and the
 * `emitter/` requests (keygen, me, link, presence) with their refusals.
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here rather than in deno.json: only the peer tests and the broker bench need MQTT.js
// deno-lint-ignore no-import-prefix
import mqtt from "npm:mqtt@5";
import { Inbox, type PeerBroker, startBroker, WAIT_MS, within } from "./_peers.ts";

/** An MQTT.js client with the inbox its messages go to, ended when disposed. */
interface Peer extends AsyncDisposable {
  client: mqtt.MqttClient;
  inbox: Inbox;
}

async function peer(
  url: string,
  options: mqtt.IClientOptions = {},
  inbox = new Inbox(),
  tag = "",
): Promise<Peer> {
  const client = await mqtt.connectAsync(url, {
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: WAIT_MS,
    ...options,
  });
  client.on("message", (topic, payload) => inbox.push(tag + topic, payload));
  return {
    client,
    inbox,
    [Symbol.asyncDispose]: () => client.endAsync(true),
  };
}

/** Subscribes and returns the granted QoS of the one topic (128 for a refusal). */
async function subscribe(client: mqtt.MqttClient, topic: string): Promise<number> {
  // MQTT.js rejects a SUBACK of 128 with the packet attached
  const granted = await within(
    client.subscribeAsync(topic, { qos: 0 }).catch((error) => {
      if (error instanceof mqtt.ErrorWithSubackPacket) return error.packet.granted;
      throw error;
    }),
    `SUBACK of ${topic}`,
  );
  assert.equal(granted.length, 1);
  const grant = granted[0] as number | mqtt.ISubscriptionGrant;
  return typeof grant === "number" ? grant : grant.qos;
}

/**
 * Publishes and waits until MQTT.js is done with it: written at QoS 0, its PUBACK at QoS 1.
 * Resolves with the packet sent, whose `messageId` the PUBACK carried.
 */
function publish(
  client: mqtt.MqttClient,
  topic: string,
  payload: string,
  qos: 0 | 1,
  retain = false,
): Promise<mqtt.Packet | undefined> {
  return within(client.publishAsync(topic, payload, { qos, retain }), `PUBACK on ${topic}`);
}

/** Sends an `emitter/<name>/` request at QoS 1 and returns its answer and packet id. */
async function request(
  { client, inbox }: Peer,
  name: string,
  body: unknown,
): Promise<{ answer: Record<string, unknown>; id: number | undefined }> {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  const ack = await publish(client, `emitter/${name}/`, payload, 1);
  return { answer: await inbox.json(`emitter/${name}/`), id: ack?.messageId };
}

for (const transport of ["WebSocket", "TCP"] as const) {
  const url = (broker: PeerBroker) => transport === "TCP" ? broker.tcpUrl : broker.wsUrl;

  Deno.test(`MQTT.js clients publish at QoS 0 and 1 over ${transport} and exact and wildcard subscribers receive each message once`, async () => {
    await using broker = await startBroker();
    const key = broker.key("peers/#/", "rw");
    await using alice = await peer(url(broker), { clientId: "alice" });
    await using bob = await peer(url(broker), { clientId: "bob" });
    await using carol = await peer(url(broker), { clientId: "carol" });
    assert.equal(await subscribe(alice.client, `${key}/peers/room/`), 0);
    assert.equal(await subscribe(bob.client, `${key}/peers/+/`), 0);
    assert.equal(await subscribe(carol.client, `${key}/peers/room/`), 0);

    await publish(carol.client, `${key}/peers/room/?me=0`, "one", 0);
    const sent = await publish(carol.client, `${key}/peers/room/`, "two", 1);
    assert.equal(typeof sent?.messageId, "number", "a QoS 1 publish was acknowledged");
    await publish(carol.client, `${key}/peers/hall/`, "hall", 1);
    await publish(carol.client, `${key}/peers/room/`, "three", 0);

    // Delivered topics carry the channel without the key, as the real broker sends them
    for (const text of ["one", "two", "three"]) {
      assert.equal((await alice.inbox.take("peers/room/")).text, text);
    }
    assert.deepEqual(
      [
        await bob.inbox.take("peers/room/"),
        await bob.inbox.take("peers/room/"),
        await bob.inbox.take("peers/hall/"),
        await bob.inbox.take("peers/room/"),
      ].map((m) => m.text),
      ["one", "two", "hall", "three"],
    );
    // With me=0 the publisher did not get "one"; "three" came after everything else
    assert.equal((await carol.inbox.take("peers/room/")).text, "two");
    assert.equal((await carol.inbox.take("peers/room/")).text, "three");
    for (const inbox of [alice.inbox, bob.inbox, carol.inbox]) {
      assert.deepEqual(inbox.pending(), [], "no message came twice or on a channel not asked for");
    }
  });
}

Deno.test("an MQTT.js client that unsubscribes gets no more messages from that channel", async () => {
  await using broker = await startBroker();
  const key = broker.key("peers/#/", "rw");
  await using alice = await peer(broker.wsUrl);
  await using bob = await peer(broker.wsUrl);
  await subscribe(alice.client, `${key}/peers/news/`);
  await subscribe(alice.client, `${key}/peers/marker/`);
  await subscribe(bob.client, `${key}/peers/news/`);

  await publish(bob.client, `${key}/peers/news/`, "before", 1);
  assert.equal((await alice.inbox.take("peers/news/")).text, "before");
  await within(alice.client.unsubscribeAsync(`${key}/peers/news/`), "UNSUBACK");
  await publish(bob.client, `${key}/peers/news/`, "after", 1);
  await publish(bob.client, `${key}/peers/marker/`, "marker", 1);

  // Bob still gets the news; Alice gets the later marker and so would have had "after" first
  assert.equal((await bob.inbox.take("peers/news/")).text, "before");
  assert.equal((await bob.inbox.take("peers/news/")).text, "after");
  assert.equal((await alice.inbox.take("peers/marker/")).text, "marker");
  assert.deepEqual(alice.inbox.pending(), []);
});

Deno.test("retained and stored messages reach a late MQTT.js subscriber, the newest one or the last N", async () => {
  await using broker = await startBroker();
  const key = broker.key("peers/#/", "rwsl");
  await using publisher = await peer(broker.wsUrl);
  await publish(publisher.client, `${key}/peers/log/?ttl=60`, "first", 1);
  await publish(publisher.client, `${key}/peers/log/?ttl=60`, "second", 1);
  await publish(publisher.client, `${key}/peers/log/`, "not stored: no ttl", 1);
  await publish(publisher.client, `${key}/peers/state/`, "old", 1, true);
  await publish(publisher.client, `${key}/peers/state/`, "new", 1, true);

  await using late = await peer(broker.tcpUrl);
  // Stored messages come before the SUBACK, oldest first
  await subscribe(late.client, `${key}/peers/log/?last=5`);
  assert.deepEqual(late.inbox.pending().map((m) => [m.topic, m.text]), [
    ["peers/log/", "first"],
    ["peers/log/", "second"],
  ]);
  await subscribe(late.client, `${key}/peers/state/`);
  assert.deepEqual(late.inbox.pending("peers/state/").map((m) => m.text), ["new"]);

  // A key without the load right gets no replay
  const noLoad = broker.key("peers/#/", "r");
  await using other = await peer(broker.wsUrl);
  await subscribe(other.client, `${noLoad}/peers/log/?last=5`);
  await publish(publisher.client, `${key}/peers/log/`, "live", 1);
  assert.equal((await other.inbox.take("peers/log/")).text, "live");
  assert.deepEqual(other.inbox.pending(), []);
});

Deno.test("a share group hands each message to exactly one of its MQTT.js members", async () => {
  await using broker = await startBroker();
  const key = broker.key("peers/#/", "rw");
  // As with the real broker, joining a group needs a key for the `$share/...` channel
  const shareKey = broker.key("$share/#/", "r");
  const group = new Inbox();
  await using first = await peer(broker.wsUrl, {}, group, "first:");
  await using second = await peer(broker.wsUrl, {}, group, "second:");
  await using watcher = await peer(broker.tcpUrl);
  await using publisher = await peer(broker.tcpUrl);
  assert.equal(await subscribe(first.client, `${key}/$share/workers/peers/jobs/`), 128);
  assert.equal((await group.json("first:emitter/error/")).status, 401);
  for (const member of [first, second]) {
    assert.equal(await subscribe(member.client, `${shareKey}/$share/workers/peers/jobs/`), 0);
    await subscribe(member.client, `${key}/peers/marker/`);
  }
  await subscribe(watcher.client, `${key}/peers/jobs/`);

  const jobs = Array.from({ length: 20 }, (_, i) => `job ${i}`);
  for (const job of jobs) {
    await publish(publisher.client, `${key}/peers/jobs/`, job, 1);
  }
  await publish(publisher.client, `${key}/peers/marker/`, "marker", 1);

  for (const job of jobs) assert.equal((await watcher.inbox.take("peers/jobs/")).text, job);
  await group.take("first:peers/marker/");
  await group.take("second:peers/marker/");
  // Each member had its jobs before the marker, so the group's inbox now holds all of them
  const handed = group.pending().map((m) => m.text);
  assert.deepEqual(handed.toSorted(), jobs.toSorted(), "each job went to one member, once");
});

Deno.test("keygen over MQTT.js makes keys that work, and keys without a right are refused", async () => {
  await using broker = await startBroker();
  await using client = await peer(broker.wsUrl);

  const { answer, id } = await request(client, "keygen", {
    key: broker.secret,
    channel: "peers/made/",
    type: "rw",
    ttl: 0,
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.req, id, "the answer names the request's packet id");
  assert.equal(answer.channel, "peers/made/");
  assert.equal(typeof answer.key, "string");
  const made = answer.key as string;
  assert.equal(made.length, 32);
  assert.equal(await subscribe(client.client, `${made}/peers/made/`), 0);
  await publish(client.client, `${made}/peers/made/`, "with a made key", 1);
  assert.equal((await client.inbox.take("peers/made/")).text, "with a made key");

  // Only the master key may make keys
  const refused = await request(client, "keygen", {
    key: made,
    channel: "peers/made/",
    type: "rw",
    ttl: 0,
  });
  assert.equal(refused.answer.status, 401);

  // A read-only key cannot publish; a write-only key cannot subscribe
  const readOnly = broker.key("peers/ro/", "r");
  const writeOnly = broker.key("peers/wo/", "w");
  await publish(client.client, `${readOnly}/peers/ro/`, "no", 1);
  assert.equal((await client.inbox.json("emitter/error/")).status, 401);
  assert.equal(await subscribe(client.client, `${writeOnly}/peers/wo/`), 128);
  assert.equal((await client.inbox.json("emitter/error/")).status, 401);
  // A key for another channel is refused too
  assert.equal(await subscribe(client.client, `${made}/peers/other/`), 128);
  assert.equal((await client.inbox.json("emitter/error/")).status, 401);
  assert.deepEqual(client.inbox.pending(), []);
});

Deno.test("me lists an MQTT.js connection's links, and a link publishes to its channel", async () => {
  await using broker = await startBroker();
  const key = broker.key("peers/#/", "rw");
  await using client = await peer(broker.wsUrl);
  await using watcher = await peer(broker.tcpUrl);
  await subscribe(watcher.client, `${key}/peers/linked/`);

  const before = (await request(client, "me", "")).answer;
  assert.equal(before.status, 200);
  assert.equal(typeof before.id, "string");
  assert.equal(
    "links" in before,
    false,
    "no links: the field is left out, as the real broker does",
  );

  const { answer: linked } = await request(client, "link", {
    key,
    channel: "peers/linked/",
    name: "a1",
    subscribe: true,
  });
  assert.deepEqual(
    { status: linked.status, name: linked.name, channel: linked.channel },
    { status: 200, name: "a1", channel: "peers/linked/" },
  );
  const after = (await request(client, "me", "")).answer;
  assert.equal(after.id, before.id);
  assert.deepEqual(after.links, { a1: "peers/linked/" });

  await publish(client.client, "a1", "through the link", 1);
  // The link subscribed its owner, and the watcher of the channel gets it as well
  assert.equal((await client.inbox.take("peers/linked/")).text, "through the link");
  assert.equal((await watcher.inbox.take("peers/linked/")).text, "through the link");

  const { answer: bad } = await request(client, "link", {
    key,
    channel: "peers/linked/",
    name: "abc",
    subscribe: false,
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(client.inbox.pending(), []);
});

Deno.test("presence over MQTT.js lists who is subscribed and notifies subscribe and unsubscribe", async () => {
  await using broker = await startBroker();
  const key = broker.key("peers/#/", "rp");
  await using alice = await peer(broker.wsUrl, { username: "alice" });
  await using observer = await peer(broker.wsUrl);
  await using carol = await peer(broker.tcpUrl, { username: "carol" });
  await subscribe(alice.client, `${key}/peers/lobby/`);
  const aliceId = (await request(alice, "me", "")).answer.id;
  const carolId = (await request(carol, "me", "")).answer.id;

  const { answer: status, id } = await request(observer, "presence", {
    key,
    channel: "peers/lobby/",
    status: true,
    changes: true,
  });
  assert.equal(status.status, 200);
  assert.equal(status.req, id);
  assert.equal(status.event, "status");
  assert.equal(status.channel, "peers/lobby/");
  assert.equal(typeof status.time, "number");
  assert.deepEqual(status.who, [{ id: aliceId, username: "alice" }]);

  await subscribe(carol.client, `${key}/peers/lobby/`);
  const joined = await observer.inbox.json("emitter/presence/");
  assert.deepEqual(
    { event: joined.event, channel: joined.channel, who: joined.who },
    { event: "subscribe", channel: "peers/lobby/", who: { id: carolId, username: "carol" } },
  );
  await within(carol.client.unsubscribeAsync(`${key}/peers/lobby/`), "UNSUBACK");
  const left = await observer.inbox.json("emitter/presence/");
  assert.deepEqual(
    { event: left.event, channel: left.channel, who: left.who },
    { event: "unsubscribe", channel: "peers/lobby/", who: { id: carolId, username: "carol" } },
  );

  // A key without the presence right is refused
  const { answer: refused } = await request(observer, "presence", {
    key: broker.key("peers/#/", "r"),
    channel: "peers/lobby/",
  });
  assert.equal(refused.status, 401);
});
