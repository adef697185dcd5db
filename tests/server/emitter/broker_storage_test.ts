/**
 * The Emitter broker's stored messages through an EmitterStore: what is kept
 * (a `ttl` or the retain flag, with the store permission), what a new
 * subscription replays (with the load permission: the last one by default,
 * `last=N`, `from`/`until`, expiry on the fake clock), the history request
 * and its paging, answers kept in order while the store is read, and store
 * failures.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EMITTER_STATUS } from "../../../src/emitter/security/errors.ts";
import { connected, keyFor, makeBroker, settle } from "./_broker_harness.ts";
import { TestEmitterStore } from "./_memory_emitter_store.ts";

async function setup() {
  const store = new TestEmitterStore();
  const made = await makeBroker({ store });
  const key = keyFor(made.broker, "news/#/", "rwsl");
  return { ...made, store, key };
}

Deno.test("a message with a ttl is stored in the real broker's id layout", async () => {
  const { broker, store, key, time } = await setup();
  const pub = connected(broker);
  pub.publish(`${key}/news/tech/?ttl=60`, "stored");
  await settle();
  const [message] = store.stored;
  assert.equal(message.channel, "news/tech/");
  assert.equal(new TextDecoder().decode(message.payload), "stored");
  assert.equal(message.ssid.length, 3);
  assert.equal(message.ssid[0], broker.license.contract);
  assert.equal(message.id.length, 16 + 4 * 3);
  assert.equal(message.time, time.now);
  assert.equal(message.expiresAt, time.now + 60_000);
  await broker.close();
});

Deno.test("a new subscriber gets the last stored message before its SUBACK", async () => {
  const { broker, key, time } = await setup();
  const pub = connected(broker);
  pub.publish(`${key}/news/?ttl=60`, "first");
  time.advance(1000);
  pub.publish(`${key}/news/?ttl=60`, "second");
  await settle();
  const sub = connected(broker);
  const id = sub.subscribe(`${key}/news/`);
  await settle();
  const packets = sub.take();
  assert.deepEqual(packets.map((p) => p.type), ["publish", "suback"]);
  assert.deepEqual(packets[1], { type: "suback", packetId: id, granted: [0] });
  if (packets[0].type === "publish") {
    assert.equal(packets[0].topic, "news/");
    assert.equal(new TextDecoder().decode(packets[0].payload), "second");
  }
  await broker.close();
});

Deno.test("last=N replays the N newest messages oldest first", async () => {
  const { broker, key, time } = await setup();
  const pub = connected(broker);
  for (let i = 1; i <= 5; i++) {
    pub.publish(`${key}/news/?ttl=60`, `m${i}`);
    time.advance(1000);
  }
  await settle();
  const sub = connected(broker);
  sub.subscribe(`${key}/news/?last=3`);
  await settle();
  assert.deepEqual(sub.messages().map((m) => m.text), ["m3", "m4", "m5"]);
  await broker.close();
});

Deno.test("a retained message is stored and replayed without a ttl", async () => {
  const { broker, store, key, time } = await setup();
  connected(broker).publish(`${key}/news/`, "kept", { retain: true });
  await settle();
  const [message] = store.stored;
  assert.equal(message.expiresAt, time.now + 0xffffffff * 1000);
  const sub = connected(broker);
  sub.subscribe(`${key}/news/`);
  await settle();
  assert.deepEqual(sub.messages(), [{ topic: "news/", text: "kept" }]);
  await broker.close();
});

Deno.test("nothing is stored without a ttl, retain flag or the store permission", async () => {
  const { broker, store, key } = await setup();
  const noStore = keyFor(broker, "news/#/", "rwl");
  const pub = connected(broker);
  pub.publish(`${key}/news/`, "live only");
  pub.publish(`${noStore}/news/?ttl=60`, "no permission");
  await settle();
  assert.equal(store.stored.length, 0);
  await broker.close();
});

Deno.test("a key without the load permission gets no replay", async () => {
  const { broker, key } = await setup();
  connected(broker).publish(`${key}/news/?ttl=60`, "stored");
  await settle();
  const readOnly = keyFor(broker, "news/#/", "r");
  const sub = connected(broker);
  sub.subscribe(`${readOnly}/news/`);
  await settle();
  assert.deepEqual(sub.take().map((p) => p.type), ["suback"]);
  await broker.close();
});

Deno.test("an expired message is not replayed", async () => {
  const { broker, key, time } = await setup();
  connected(broker).publish(`${key}/news/?ttl=5`, "short");
  await settle();
  time.now += 6_000;
  const sub = connected(broker);
  sub.subscribe(`${key}/news/`);
  await settle();
  assert.deepEqual(sub.messages(), []);
  await broker.close();
});

Deno.test("from and until bound the replay in unix seconds", async () => {
  const { broker, key, time } = await setup();
  time.now = 1_600_000_000_000;
  const pub = connected(broker);
  for (
    const [at, text] of [[1_600_000_000, "a"], [1_600_000_100, "b"], [1_600_000_200, "c"]] as const
  ) {
    time.now = at * 1000;
    pub.publish(`${key}/news/?ttl=3600`, text);
  }
  await settle();
  const sub = connected(broker);
  sub.subscribe(`${key}/news/?last=10&from=1600000050&until=1600000150`);
  await settle();
  assert.deepEqual(sub.messages().map((m) => m.text), ["b"]);
  await broker.close();
});

Deno.test("packets after a SUBSCRIBE waiting on the store are answered after it, in order", async () => {
  const { broker, key } = await setup();
  connected(broker).publish(`${key}/news/?ttl=60`, "stored");
  await settle();
  const sub = connected(broker);
  sub.subscribe(`${key}/news/`);
  sub.write({ type: "pingreq" });
  sub.publish(`${key}/news/`, "live", { qos: 1 });
  await settle();
  assert.deepEqual(sub.take().map((p) => p.type), [
    "publish",
    "suback",
    "pingresp",
    "publish",
    "puback",
  ]);
  await broker.close();
});

Deno.test("a failing store still delivers live messages and refuses the replay with 500", async () => {
  const { broker, store, key } = await setup();
  const sub = connected(broker);
  sub.subscribe(`${key}/news/`);
  await settle();
  sub.take();
  store.fail = true;
  connected(broker).publish(`${key}/news/?ttl=60`, "live");
  await settle();
  assert.deepEqual(sub.messages(), [{ topic: "news/", text: "live" }]);
  assert.equal(broker.stats().storeFailures, 1);
  const late = connected(broker);
  const id = late.subscribe(`${key}/news/`);
  await settle();
  const packets = late.take();
  assert.deepEqual(packets.at(-1), { type: "suback", packetId: id, granted: [0x80] });
  assert.deepEqual(
    packets.filter((p) => p.type === "publish").map((p) =>
      p.type === "publish" ? JSON.parse(new TextDecoder().decode(p.payload)) : undefined
    ),
    [{ req: id, ...EMITTER_STATUS.serverError }],
  );
  await broker.close();
});

Deno.test("history answers the newest messages with base64 ids and payloads, and pages back from startFromID", async () => {
  const { broker, key, time } = await setup();
  const pub = connected(broker);
  for (let i = 1; i <= 4; i++) {
    pub.publish(`${key}/news/?ttl=600`, `h${i}`);
    time.advance(1000);
  }
  await settle();
  const client = connected(broker);
  const req = client.request("history", { key, channel: `${key}/news/?last=2` });
  await settle();
  const [page] = client.answers("emitter/history/");
  assert.equal(page.req, req);
  const messages = page.messages as { id: string; channel: string; payload: string }[];
  assert.deepEqual(messages.map((m) => atob(m.payload)), ["h3", "h4"]);
  assert.deepEqual(messages.map((m) => m.channel), ["news/", "news/"]);
  client.request("history", { key, channel: "news/?last=2", startFromID: messages[0].id });
  await settle();
  const [older] = client.answers("emitter/history/");
  assert.deepEqual(
    (older.messages as { payload: string }[]).map((m) => atob(m.payload)),
    ["h1", "h2"],
  );
  await broker.close();
});

Deno.test("history refuses a key without the load permission and a bad body", async () => {
  const { broker } = await setup();
  const noLoad = keyFor(broker, "news/#/", "rws");
  const client = connected(broker);
  const one = client.request("history", { key: noLoad, channel: "news/" });
  const two = client.request("history", "{not json");
  await settle();
  assert.deepEqual(client.answers("emitter/history/"), [
    { req: one, ...EMITTER_STATUS.unauthorized },
    { req: two, ...EMITTER_STATUS.badRequest },
  ]);
  await broker.close();
});
