/**
 * The Emitter broker's limits: a subscriber whose send buffer is over
 * `maxSendBufferBytes` is closed without holding up the others, the
 * subscription and per-address connection caps, the packet size limit, a
 * closed broker refusing connections, and option validation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../../src/core/errors.ts";
import { EMITTER_STATUS } from "../../../src/emitter/security/errors.ts";
import { EmitterBroker } from "../../../src/server/emitter/broker.ts";
import { connected, keyFor, makeBroker, TestClient } from "./_broker_harness.ts";
import { TestEmitterStore } from "./_memory_emitter_store.ts";

Deno.test("a subscriber over maxSendBufferBytes is closed and the others still get the message", async () => {
  const { broker } = await makeBroker({ maxSendBufferBytes: 1024 });
  const key = keyFor(broker, "feed/#/");
  const slow = connected(broker);
  const fast = connected(broker);
  slow.subscribe(`${key}/feed/`);
  fast.subscribe(`${key}/feed/`);
  slow.take();
  fast.take();
  slow.buffered = 4096;
  const pub = connected(broker);
  pub.publish(`${key}/feed/`, "tick");
  assert.equal(slow.closedByBroker, true);
  assert.deepEqual(slow.messages(), []);
  assert.deepEqual(fast.messages(), [{ topic: "feed/", text: "tick" }]);
  assert.equal(broker.stats().slowClosed, 1);
  assert.equal(broker.stats().subscriptions, 1);
  pub.publish(`${key}/feed/`, "tock");
  assert.deepEqual(fast.messages(), [{ topic: "feed/", text: "tock" }]);
  await broker.close();
});

Deno.test("a subscription past maxSubscriptionsPerConnection is refused with 0x80 and 403", async () => {
  const { broker } = await makeBroker({ maxSubscriptionsPerConnection: 2 });
  const key = keyFor(broker, "s/#/");
  const client = connected(broker);
  const id = client.subscribe(`${key}/s/1/`, `${key}/s/2/`, `${key}/s/3/`);
  const packets = client.take();
  assert.deepEqual(packets.at(-1), { type: "suback", packetId: id, granted: [0, 0, 0x80] });
  assert.deepEqual(
    packets.filter((p) => p.type === "publish").map((p) =>
      p.type === "publish" ? JSON.parse(new TextDecoder().decode(p.payload)) : undefined
    ),
    [{ req: id, ...EMITTER_STATUS.forbidden }],
  );
  client.unsubscribe(`${key}/s/1/`);
  client.take();
  const again = client.subscribe(`${key}/s/3/`);
  assert.deepEqual(client.take(), [{ type: "suback", packetId: again, granted: [0] }]);
  await broker.close();
});

Deno.test("connections past maxConnectionsPerAddress are closed at once, other addresses unaffected", async () => {
  const { broker } = await makeBroker({ maxConnectionsPerAddress: 2 });
  const a = connected(broker, {}, "10.0.0.1");
  connected(broker, {}, "10.0.0.1");
  const third = new TestClient(broker, "10.0.0.1");
  assert.equal(third.closedByBroker, true);
  third.connect();
  assert.deepEqual(third.take(), []);
  const elsewhere = connected(broker, {}, "10.0.0.2");
  assert.equal(elsewhere.closedByBroker, false);
  assert.equal(broker.stats().refusedConnections, 1);
  a.session.closed();
  const fourth = new TestClient(broker, "10.0.0.1");
  assert.equal(fourth.closedByBroker, false);
  await broker.close();
});

Deno.test("a packet over maxMessageBytes closes its connection", async () => {
  const { broker } = await makeBroker({ maxMessageBytes: 1024 });
  const key = keyFor(broker, "big/#/");
  const client = connected(broker);
  client.publish(`${key}/big/`, "x".repeat(900));
  assert.equal(client.closedByBroker, false);
  client.publish(`${key}/big/`, "x".repeat(2000));
  assert.equal(client.closedByBroker, true);
  await broker.close();
});

Deno.test("a closed broker closes every connection and refuses new ones", async () => {
  const { broker } = await makeBroker();
  const before = connected(broker);
  await broker.close();
  assert.equal(before.closedByBroker, true);
  const after = new TestClient(broker);
  assert.equal(after.closedByBroker, true);
  assert.equal(broker.stats().connections, 0);
});

Deno.test("invalid options are refused with the field named", () => {
  assert.throws(
    () => new EmitterBroker({ maxSubscriptionsPerConnection: 0 }),
    (error: unknown) =>
      error instanceof InvalidArgumentError &&
      error.argument === "maxSubscriptionsPerConnection" &&
      /maxSubscriptionsPerConnection/.test(error.message),
  );
  assert.throws(() => new EmitterBroker({ license: "" }), InvalidArgumentError);
  assert.throws(
    () => new EmitterBroker({ now: 5 as unknown as () => number }),
    InvalidArgumentError,
  );
});

Deno.test("a broker given a license text accepts keys made under it and has no secret", async () => {
  const { broker: first } = await makeBroker();
  const key = keyFor(first, "k/#/");
  const { broker } = await makeBroker({ license: first.license.toString() });
  assert.equal(broker.secret, undefined);
  const client = connected(broker);
  client.subscribe(`${key}/k/`);
  assert.deepEqual(client.take().map((p) => p.type === "suback" && p.granted), [[0]]);
  await first.close();
  await broker.close();
});

Deno.test("a connection is closed when it sends too much while a store read holds its packets", async () => {
  await using store = new TestEmitterStore();
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const query = store.queryEmitterMessages.bind(store);
  store.queryEmitterMessages = async (q) => {
    await gate;
    return query(q);
  };
  const { broker } = await makeBroker({ store, maxSendBufferBytes: 4096 });
  const key = keyFor(broker, "q/#/", "rwsl");
  const client = connected(broker);
  client.subscribe(`${key}/q/`);
  client.publish(`${key}/q/`, "x".repeat(2000));
  assert.equal(client.closedByBroker, false, "held while the replay is read");
  client.publish(`${key}/q/`, "x".repeat(3000));
  assert.equal(client.closedByBroker, true);
  release();
  await broker.close();
});

Deno.test("link refuses a new name past 256 links on one connection", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "l/#/");
  const client = connected(broker);
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let made = 0;
  for (const a of alphabet) {
    for (const b of alphabet) {
      if (made === 257) break;
      client.request("link", { name: a + b, key, channel: "l/" });
      made++;
    }
  }
  const answers = client.answers("emitter/link/");
  assert.equal(answers.filter((a) => a.status === 200).length, 256);
  assert.deepEqual(answers.at(-1), { req: 257, ...EMITTER_STATUS.forbidden });
  await broker.close();
});

Deno.test("a license text that is not a license is refused at construction", () => {
  assert.throws(() => new EmitterBroker({ license: "not-a-license" }), InvalidArgumentError);
});
