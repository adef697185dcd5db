/**
 * The Emitter broker's connection lifecycle through an in-memory link:
 * CONNECT for MQTT 3.1 and 3.1.1, the refusal of other protocol levels,
 * packets out of order, PINGREQ and DISCONNECT, the read deadlines on a fake
 * clock, and malformed bytes closing only the connection that sent them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connected, keyFor, makeBroker, seeded, TestClient } from "./_broker_harness.ts";

Deno.test("an MQTT 3.1.1 CONNECT with an empty client id is accepted with CONNACK 0", async () => {
  const { broker } = await makeBroker();
  const client = new TestClient(broker);
  client.connect({ clientId: "" });
  assert.deepEqual(client.take(), [{ type: "connack", sessionPresent: false, returnCode: 0 }]);
  assert.equal(broker.stats().connections, 1);
  await broker.close();
  assert.equal(client.closedByBroker, true);
});

Deno.test("an MQTT 3.1 (MQIsdp level 3) CONNECT is accepted as well", async () => {
  const { broker } = await makeBroker();
  const client = new TestClient(broker);
  client.connect({ protocolVersion: 3, clientId: "legacy", username: "ann" });
  assert.deepEqual(client.take(), [{ type: "connack", sessionPresent: false, returnCode: 0 }]);
  await broker.close();
});

Deno.test("a CONNECT naming protocol level 5 gets CONNACK 1 and the connection closes", async () => {
  const { broker } = await makeBroker();
  const client = new TestClient(broker);
  // CONNECT, "MQTT" level 5, clean session, keepalive 30, empty client id
  client.session.receive(
    new Uint8Array([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 0x02, 0, 30, 0, 0]),
  );
  assert.deepEqual(client.take(), [{ type: "connack", sessionPresent: false, returnCode: 1 }]);
  assert.equal(client.closedByBroker, true);
  assert.equal(broker.stats().connections, 0);
  await broker.close();
});

Deno.test("a packet before CONNECT closes the connection without an answer", async () => {
  const { broker } = await makeBroker();
  const client = new TestClient(broker);
  client.write({ type: "pingreq" });
  assert.deepEqual(client.take(), []);
  assert.equal(client.closedByBroker, true);
  await broker.close();
});

Deno.test("a second CONNECT closes the connection", async () => {
  const { broker } = await makeBroker();
  const client = connected(broker);
  client.connect();
  assert.deepEqual(client.take(), []);
  assert.equal(client.closedByBroker, true);
  await broker.close();
});

Deno.test("PINGREQ gets PINGRESP and DISCONNECT closes the connection", async () => {
  const { broker } = await makeBroker();
  const client = connected(broker);
  client.write({ type: "pingreq" });
  assert.deepEqual(client.take(), [{ type: "pingresp" }]);
  client.write({ type: "disconnect" });
  assert.equal(client.closedByBroker, true);
  assert.equal(broker.stats().connections, 0);
  await broker.close();
});

Deno.test("a client with keepalive 30 is closed after 45 silent seconds and not before", async () => {
  const { broker, time } = await makeBroker();
  const client = connected(broker, { keepAlive: 30 });
  time.advance(44_000);
  assert.equal(client.closedByBroker, false);
  client.write({ type: "pingreq" });
  time.advance(44_000);
  assert.equal(client.closedByBroker, false);
  time.advance(3_000);
  assert.equal(client.closedByBroker, true);
  assert.equal(broker.stats().idleClosed, 1);
  assert.equal(time.pending.size, 0, "no timer is left once every connection is closed");
  await broker.close();
});

Deno.test("a client without keepalive gets the real broker's 120 second read deadline", async () => {
  const { broker, time } = await makeBroker();
  const client = connected(broker, { keepAlive: 0 });
  time.advance(119_000);
  assert.equal(client.closedByBroker, false);
  time.advance(3_000);
  assert.equal(client.closedByBroker, true);
  await broker.close();
});

Deno.test("a connection that never sends CONNECT is closed after connectTimeoutMs", async () => {
  const { broker, time } = await makeBroker({ connectTimeoutMs: 5_000 });
  const client = new TestClient(broker);
  time.advance(4_000);
  assert.equal(client.closedByBroker, false);
  time.advance(2_000);
  assert.equal(client.closedByBroker, true);
  await broker.close();
});

Deno.test("closing the broker cancels its deadline timer", async () => {
  const { broker, time } = await makeBroker();
  connected(broker);
  assert.equal(time.pending.size, 1);
  await broker.close();
  assert.equal(time.pending.size, 0);
});

Deno.test("a malformed packet closes only the connection that sent it", async () => {
  const { broker } = await makeBroker();
  const key = keyFor(broker, "room/#/");
  const good = connected(broker);
  good.subscribe(`${key}/room/`);
  const bad = connected(broker);
  bad.session.receive(new Uint8Array([0xf0, 0x00])); // reserved packet type 15
  assert.equal(bad.closedByBroker, true);
  assert.equal(good.closedByBroker, false);
  assert.equal(broker.stats().malformedPackets, 1);
  const other = connected(broker);
  other.publish(`${key}/room/`, "still here");
  assert.deepEqual(good.messages(), [{ topic: "room/", text: "still here" }]);
  await broker.close();
});

Deno.test("a packet declaring more than 64 KiB closes the connection before its body arrives", async () => {
  const { broker } = await makeBroker();
  const client = connected(broker);
  // PUBLISH with remaining length 65537 (0x81 0x80 0x04)
  client.session.receive(new Uint8Array([0x30, 0x81, 0x80, 0x04]));
  assert.equal(client.closedByBroker, true);
  await broker.close();
});

Deno.test("random bytes never throw out of receive()", async () => {
  const { broker } = await makeBroker();
  const random = seeded(7);
  for (let round = 0; round < 300; round++) {
    const client = round % 2 === 0 ? new TestClient(broker) : connected(broker);
    const chunk = new Uint8Array(1 + Math.floor(random() * 40));
    for (let i = 0; i < chunk.length; i++) chunk[i] = Math.floor(random() * 256);
    assert.doesNotThrow(() => client.session.receive(chunk));
    client.session.closed();
  }
  assert.equal(broker.stats().connections, 0);
  await broker.close();
});

Deno.test("bytes after close and a second closed() are ignored", async () => {
  const { broker } = await makeBroker();
  const client = connected(broker);
  client.session.closed();
  client.session.closed();
  client.write({ type: "pingreq" });
  assert.deepEqual(client.take(), []);
  assert.equal(broker.stats().connections, 0);
  await broker.close();
});
