/**
 * What the Emitter client leaves after a connection ends or a reader stops:
 * a connection that dies in the same turn as its CONNACK is not reported as
 * connected (and keeps no keepalive timer), a subscription left with `break`
 * can be made again and delivers, and an UNSUBSCRIBE waiting for its ack is
 * failed at once by `disconnect()` rather than by its timer; a subscription
 * the broker refuses when the client makes it again after a reconnection is
 * reported on the `error` event, not ended in silence.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EdgewireError } from "../../src/core/errors.ts";
import { EmitterClient } from "../../src/emitter/client.ts";
import { encodePacket } from "../../src/emitter/mqtt/encoder.ts";
import { EmitterSubscribeError } from "../../src/emitter/errors.ts";
import { MqttProtocolError } from "../../src/emitter/mqtt/errors.ts";
import { FakeBroker } from "./_fake_broker.ts";

const KEY = "Z1HLm5KAp_0lkE2fwx6Qv1kl8TNYjiUh";

async function connectSent(broker: FakeBroker): Promise<void> {
  for (let i = 0; i < 10 && broker.sockets.at(-1)?.received.length !== 1; i++) {
    await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
  }
  assert.equal(broker.socket.received[0]?.type, "connect");
}

Deno.test("a connection that breaks in the frame of its CONNACK fails connect()", async () => {
  const broker = new FakeBroker();
  broker.behaviour.connack = undefined;
  const client = new EmitterClient({ WebSocket: broker.WebSocket, random: () => 0 });
  const connecting = client.connect();
  await connectSent(broker);
  const connack = encodePacket({ type: "connack", sessionPresent: false, returnCode: 0 });
  // CONNACK, then a packet of reserved type 15, in one frame
  broker.socket.write(new Uint8Array([...connack, 0xf0, 0x00]));
  await assert.rejects(connecting, MqttProtocolError);
  assert.equal(client.connected, false);
  await client.disconnect();
});

Deno.test("disconnect() right after the CONNACK arrives leaves the client disconnected", async () => {
  const broker = new FakeBroker();
  broker.behaviour.connack = undefined;
  const client = new EmitterClient({ WebSocket: broker.WebSocket, random: () => 0 });
  let connects = 0;
  client.on("connect", () => connects++);
  const connecting = client.connect();
  await connectSent(broker);
  broker.socket.reply({ type: "connack", sessionPresent: false, returnCode: 0 });
  await client.disconnect();
  await assert.rejects(connecting, EdgewireError);
  assert.equal(client.connected, false);
  assert.equal(connects, 0);
});

Deno.test("a subscription left with break can be made again and receives messages", async () => {
  const broker = new FakeBroker();
  const client = new EmitterClient({ WebSocket: broker.WebSocket, random: () => 0 });
  await client.connect();
  const first = await client.subscribe({ key: KEY, channel: "chat/" });
  broker.socket.reply({
    type: "publish",
    topic: "chat/",
    payload: new TextEncoder().encode("one"),
    qos: 0,
    retain: false,
    dup: false,
  });
  for await (const message of first) {
    assert.equal(message.asString(), "one");
    break;
  }
  assert.equal(first.ended, true);
  const again = await client.subscribe({ key: KEY, channel: "chat/" });
  assert.equal(again.ended, false);
  broker.socket.reply({
    type: "publish",
    topic: "chat/",
    payload: new TextEncoder().encode("two"),
    qos: 0,
    retain: false,
    dup: false,
  });
  const iterator = again[Symbol.asyncIterator]();
  const next = await iterator.next();
  assert.equal(next.done, false);
  assert.equal(next.value?.asString(), "two");
  await client.disconnect();
});

Deno.test("disconnect() fails an unsubscribe waiting for its UNSUBACK at once", async () => {
  const broker = new FakeBroker();
  // A long deadline: the unsubscribe must not wait for it, and no timer may outlive the test
  const client = new EmitterClient({
    WebSocket: broker.WebSocket,
    random: () => 0,
    timeoutMs: 60_000,
  });
  await client.connect();
  await client.subscribe({ key: KEY, channel: "chat/" });
  // The broker never answers the UNSUBSCRIBE
  broker.answer = () => {};
  const leaving = client.unsubscribe({ key: KEY, channel: "chat/" });
  await client.disconnect();
  await assert.rejects(leaving, (error: unknown) => {
    assert.ok(error instanceof EdgewireError);
    assert.equal(error.code, "disconnected");
    return true;
  });
});

Deno.test("a subscription refused on resubscribe after a reconnection is reported as an error", async () => {
  const broker = new FakeBroker();
  const client = new EmitterClient({ WebSocket: broker.WebSocket, random: () => 0 });
  await client.connect();
  const room = await client.subscribe({ key: KEY, channel: "chat/" });
  const errors: Error[] = [];
  client.on("error", (error) => errors.push(error));
  const reconnected = new Promise<void>((resolve) => client.on("connect", resolve));
  broker.behaviour.suback = 0x80;
  broker.socket.drop();
  await reconnected;
  const next = await room[Symbol.asyncIterator]().next();
  assert.equal(next.done, true);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof EmitterSubscribeError);
  assert.equal(errors[0].channel, "chat/");
  assert.ok(!errors[0].message.includes(KEY));
  await client.disconnect();
});
