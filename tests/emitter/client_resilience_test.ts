/**
 * The Emitter client when things go wrong, against a fake WebSocket broker:
 * a malformed packet closes the connection with a typed `error` event and
 * never throws; silence past 1.5 keepalives closes it (time injected);
 * reconnection resubscribes, then resends unacknowledged QoS 1 publishes,
 * then flushes the offline queue, whose bounds count what they drop.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { EdgewireError } from "../../src/core/errors.ts";
import { EmitterClient } from "../../src/emitter/client.ts";
import { MqttProtocolError } from "../../src/emitter/mqtt/errors.ts";
import type { MqttPacket } from "../../src/emitter/mqtt/packets.ts";
import { FakeBroker } from "./_fake_broker.ts";

const KEY = "Z1HLm5KAp_0lkE2fwx6Qv1kl8TNYjiUh";

function once<T>(register: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => register(resolve));
}

function brief(packet: MqttPacket): string {
  if (packet.type === "publish") {
    return `publish ${new TextDecoder().decode(packet.payload)}${packet.dup ? " dup" : ""}`;
  }
  if (packet.type === "subscribe") return `subscribe ${packet.subscriptions[0].topic}`;
  return packet.type;
}

Deno.test("a malformed packet closes the connection with an error event and the client reconnects", async () => {
  const broker = new FakeBroker();
  const client = new EmitterClient({ WebSocket: broker.WebSocket, random: () => 0 });
  await client.connect();
  const first = broker.socket;
  const errors: EdgewireError[] = [];
  client.on("error", (error) => errors.push(error));
  const reconnected = once<void>((resolve) => client.on("connect", resolve));
  // A whole PINGRESP, then a packet of reserved type 15: the first is kept, the second refused
  assert.doesNotThrow(() => first.write(new Uint8Array([0xd0, 0x00, 0xf0, 0x00])));
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof MqttProtocolError);
  assert.equal(errors[0].code, "reserved_packet_type");
  assert.equal(first.closedWith, 4002);
  assert.equal(client.connected, false);
  await reconnected;
  assert.equal(broker.sockets.length, 2);
  assert.equal(client.connected, true);
  await client.disconnect();
});

Deno.test("a text frame is refused as a protocol error, not thrown", async () => {
  const broker = new FakeBroker();
  const client = new EmitterClient({ WebSocket: broker.WebSocket, random: () => 0 });
  await client.connect();
  const errors: EdgewireError[] = [];
  client.on("error", (error) => errors.push(error));
  broker.socket.onmessage?.(new MessageEvent("message", { data: "hello" }));
  assert.ok(errors[0] instanceof MqttProtocolError);
  await client.disconnect();
});

Deno.test("keepalive pings every interval and closes a connection silent for 1.5 keepalives", async () => {
  const broker = new FakeBroker();
  broker.behaviour.pingresp = false;
  let now = 1_000_000;
  const client = new EmitterClient({
    WebSocket: broker.WebSocket,
    keepaliveSeconds: 1,
    now: () => now,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  await client.connect();
  const socket = broker.socket;
  const lost = once<EdgewireError | undefined>((resolve) => client.on("disconnect", resolve));
  now += 1000;
  // The watch ticks every half keepalive (500 ms of real time)
  while (!socket.received.some((p) => p.type === "pingreq")) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(socket.closedWith, undefined);
  now += 600;
  const error = await lost;
  assert.equal(error?.code, "keepalive_timeout");
  assert.match(error?.message ?? "", /sent nothing for 1600 ms/);
  assert.equal(socket.closedWith, 4008);
  await client.disconnect();
});

Deno.test("on reconnect the client resubscribes, then resends unacknowledged QoS 1, then flushes the queue", async () => {
  const broker = new FakeBroker();
  const client = new EmitterClient({ WebSocket: broker.WebSocket, random: () => 0 });
  await client.connect();
  await client.subscribe({ key: KEY, channel: "a/" });
  broker.behaviour.puback = false;
  const unacked = client.publish({ key: KEY, channel: "a/", message: "q1", qos: 1 });
  await Promise.resolve();
  const first = broker.socket;
  const firstId = first.received.find((p) => p.type === "publish")!;
  // Hold the next socket closed so publishes made meanwhile queue
  broker.autoAccept = false;
  const next = broker.nextSocket();
  first.drop();
  assert.equal(client.connected, false);
  await client.publish({ key: KEY, channel: "a/", message: "offline-0" });
  const queuedQos1 = client.publish({ key: KEY, channel: "a/", message: "offline-1", qos: 1 });
  assert.equal(client.queueStats().queued, 2);
  broker.behaviour.puback = true;
  const second = await next;
  second.accept();
  await Promise.all([unacked, queuedQos1]);
  assert.deepEqual(second.received.map(brief), [
    "connect",
    `subscribe ${KEY}/a/`,
    "publish q1 dup",
    "publish offline-0",
    "publish offline-1",
  ]);
  const resent = second.received[2];
  assert.equal(
    resent.type === "publish" && firstId.type === "publish" && resent.packetId === firstId.packetId,
    true,
  );
  assert.equal(client.queueStats().queued, 0);
  await client.disconnect();
});

Deno.test("the offline queue is bounded by count and bytes and counts what it drops", async () => {
  const broker = new FakeBroker();
  const client = new EmitterClient({
    WebSocket: broker.WebSocket,
    maxQueuedEvents: 2,
    maxQueuedBytes: 100,
  });
  for (const message of ["one", "two", "three"]) {
    await client.publish({ key: KEY, channel: "a/", message });
  }
  await client.publish({ key: KEY, channel: "a/", message: "x".repeat(200) });
  const stats = client.queueStats();
  assert.equal(stats.queued, 2);
  assert.equal(stats.dropped, 2);
  assert.deepEqual(stats.droppedByReason, { overflow: 1, oversize: 1 });
  await client.connect();
  assert.deepEqual(broker.socket.received.map(brief), ["connect", "publish two", "publish three"]);
  await client.disconnect();
});

Deno.test("disconnect stops reconnection and ends subscriptions", async () => {
  const broker = new FakeBroker();
  const client = new EmitterClient({
    WebSocket: broker.WebSocket,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    random: () => 0.5,
  });
  await client.connect();
  const subscription = await client.subscribe({ key: KEY, channel: "a/" });
  broker.socket.drop();
  await client.disconnect();
  assert.deepEqual(await subscription[Symbol.asyncIterator]().next(), {
    value: undefined,
    done: true,
  });
  assert.equal(broker.sockets.length, 1);
});
