/**
 * Our Emitter broker against the official Emitter JS SDK (npm `emitter-io`,
 * on MQTT.js 1.x and ws 1.x, run here under Deno's Node compatibility). The
 * SDK dials `ws://host:port/` with the `mqttv3.1` subprotocol and drops a
 * server that does not echo it, puts `?me=1` or `?me=0` on every publish,
 * and reports keygen, presence and me answers as events of their own.
 * Its subscribe gives no SUBACK, so a client proves its subscriptions are in
 * place by receiving its own message on a channel it subscribed to after them.
 *
 * @module
 */

import assert from "node:assert/strict";
// Named here rather than in deno.json: only this test needs the SDK
// deno-lint-ignore no-import-prefix
import { connect, type Emitter } from "npm:emitter-io@^1.39";
import { Inbox, type PeerBroker, startBroker, within } from "./_peers.ts";

/** An SDK client with the inbox its messages and events go to, disconnected when disposed. */
interface SdkPeer extends AsyncDisposable {
  client: Emitter;
  inbox: Inbox;
  /** Publishes to its own `KEY/peers/sync/<n>/` and waits for that message: earlier requests are done. */
  sync(key: string): Promise<void>;
}

/** Events the SDK parses itself go to the inbox under the event's name. */
const EVENTS = ["keygen", "presence", "me"] as const;

let peers = 0;

async function sdkPeer(broker: PeerBroker, username?: string): Promise<SdkPeer> {
  const inbox = new Inbox();
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const client = connect({ host: "127.0.0.1", port: broker.wsPort, username }, () => connected());
  const closed = new Promise<void>((resolve) => client.on("disconnect", () => resolve()));
  client.on("message", (message: { channel: string; binary: Uint8Array }) => {
    inbox.push(message.channel, message.binary);
  });
  for (const event of EVENTS) {
    client.on(event, (body: unknown) => inbox.push(event, JSON.stringify(body)));
  }
  let syncs = 0;
  const channel = `peers/sync/${++peers}/`;
  const syncing = new Set<string>();
  const peer: SdkPeer = {
    client,
    inbox,
    async sync(key) {
      const marker = `sync ${++syncs}`;
      if (!syncing.has(key)) client.subscribe({ key, channel });
      syncing.add(key);
      client.publish({ key, channel, message: marker });
      await inbox.take((m) => m.topic === channel && m.text === marker, channel);
    },
    async [Symbol.asyncDispose]() {
      client.disconnect();
      await within(closed, "the SDK's disconnect").catch(() => {});
    },
  };
  try {
    await within(ready, "the SDK's connect");
  } catch (error) {
    await peer[Symbol.asyncDispose]();
    throw error;
  }
  return peer;
}

Deno.test("the Emitter SDK connects with the mqttv3.1 subprotocol that the server echoes", async () => {
  await using broker = await startBroker();
  const socket = new WebSocket(broker.wsUrl, ["mqttv3.1"]);
  try {
    await within(new Promise((resolve) => socket.addEventListener("open", resolve)), "open");
    assert.equal(socket.protocol, "mqttv3.1");
  } finally {
    socket.close();
  }
  await using sdk = await sdkPeer(broker);
  sdk.client.me();
  assert.equal(typeof JSON.parse((await sdk.inbox.take("me")).text).id, "string");
});

Deno.test("the Emitter SDK makes a key with keygen, then publishes, subscribes and unsubscribes with it", async () => {
  await using broker = await startBroker();
  await using alice = await sdkPeer(broker);
  await using bob = await sdkPeer(broker);

  alice.client.keygen({ key: broker.secret, channel: "peers/#/", type: "rw", ttl: 0 });
  const made = await alice.inbox.json("keygen");
  assert.equal(made.status, 200);
  assert.equal(made.channel, "peers/#/");
  const key = made.key as string;
  assert.equal(key.length, 32);

  alice.client.subscribe({ key, channel: "peers/room" });
  await alice.sync(key);
  bob.client.subscribe({ key, channel: "peers/room/" });
  await bob.sync(key);

  alice.client.publish({ key, channel: "peers/room", message: "echoed to alice" });
  alice.client.publish({ key, channel: "peers/room/", message: "not echoed", me: false });
  assert.equal((await alice.inbox.take("peers/room/")).text, "echoed to alice");
  assert.equal((await bob.inbox.take("peers/room/")).text, "echoed to alice");
  assert.equal((await bob.inbox.take("peers/room/")).text, "not echoed");
  await alice.sync(key);
  assert.deepEqual(alice.inbox.pending(), [], "me=0 kept alice's message from her");

  bob.client.unsubscribe({ key, channel: "peers/room/" });
  await bob.sync(key);
  alice.client.publish({ key, channel: "peers/room/", message: "after bob left" });
  assert.equal((await alice.inbox.take("peers/room/")).text, "after bob left");
  await bob.sync(key);
  assert.deepEqual(bob.inbox.pending(), [], "bob got nothing after he unsubscribed");

  // A non-master key cannot make keys
  alice.client.keygen({ key, channel: "peers/other/", type: "rw", ttl: 0 });
  assert.equal((await alice.inbox.json("keygen")).status, 401);
});

Deno.test("messages the Emitter SDK publishes with a ttl reach a late SDK subscriber that asks for the last ones", async () => {
  await using broker = await startBroker();
  const key = broker.key("peers/#/", "rwsl");
  await using writer = await sdkPeer(broker);
  for (const text of ["first", "second", "third"]) {
    writer.client.publish({ key, channel: "peers/log/", message: text, ttl: 60 });
  }
  await writer.sync(key);

  await using reader = await sdkPeer(broker);
  reader.client.subscribe({ key, channel: "peers/log/", last: 2 });
  await reader.sync(key);
  assert.deepEqual(reader.inbox.pending("peers/log/").map((m) => m.text), ["second", "third"]);
});

Deno.test("a share group of Emitter SDK clients gets each message once", async () => {
  await using broker = await startBroker();
  const key = broker.key("peers/#/", "rw");
  const shareKey = broker.key("$share/#/", "r");
  await using first = await sdkPeer(broker);
  await using second = await sdkPeer(broker);
  await using publisher = await sdkPeer(broker);
  for (const member of [first, second]) {
    member.client.subscribe({ key: shareKey, channel: "$share/workers/peers/jobs/" });
    await member.sync(key);
  }
  const jobs = Array.from({ length: 10 }, (_, i) => `job ${i}`);
  for (const job of jobs) publisher.client.publish({ key, channel: "peers/jobs/", message: job });
  await publisher.sync(key);
  // The broker handled every job before the publisher's own sync message; each member's
  // jobs reach it before a sync message published after that
  await first.sync(key);
  await second.sync(key);
  const handed = [...first.inbox.pending("peers/jobs/"), ...second.inbox.pending("peers/jobs/")];
  assert.deepEqual(handed.map((m) => m.text).toSorted(), jobs.toSorted());
});

Deno.test("the Emitter SDK's presence, me and link calls get the real broker's answers", async () => {
  await using broker = await startBroker();
  const key = broker.key("peers/#/", "rwp");
  await using alice = await sdkPeer(broker, "alice");
  await using observer = await sdkPeer(broker);

  alice.client.me();
  const aliceId = JSON.parse((await alice.inbox.take("me")).text).id;
  alice.client.subscribe({ key, channel: "peers/lobby/" });
  await alice.sync(key);

  observer.client.presence({ key, channel: "peers/lobby/", status: true, changes: true });
  const status = await observer.inbox.json("presence");
  assert.equal(status.status, 200);
  assert.equal(status.event, "status");
  assert.equal(status.channel, "peers/lobby/");
  assert.deepEqual(status.who, [{ id: aliceId, username: "alice" }]);

  alice.client.unsubscribe({ key, channel: "peers/lobby/" });
  const left = await observer.inbox.json("presence");
  assert.deepEqual(
    { event: left.event, channel: left.channel, who: left.who },
    { event: "unsubscribe", channel: "peers/lobby/", who: { id: aliceId, username: "alice" } },
  );

  alice.client.link({ key, channel: "peers/linked/", name: "L1", private: false, subscribe: true });
  const linked = await alice.inbox.json("emitter/link/");
  assert.equal(linked.status, 200);
  assert.equal(linked.name, "L1");
  assert.match(String(linked.channel), /^peers\/linked\//);
  alice.client.publishWithLink({ link: "L1", message: "through the link" });
  assert.equal((await alice.inbox.take("peers/linked/")).text, "through the link");
  alice.client.me();
  const me = JSON.parse((await alice.inbox.take("me")).text);
  assert.equal(me.id, aliceId);
  assert.deepEqual(Object.keys(me.links), ["L1"]);
});
