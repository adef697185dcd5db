/**
 * The Emitter client's connection: CONNECT as sent, CONNACK refusals,
 * timeouts and aborts, and its options checked once, against a fake
 * WebSocket whose broker speaks MQTT through the real codec.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AbortedError, InvalidArgumentError, TimeoutError } from "../../src/core/errors.ts";
import { EmitterClient } from "../../src/emitter/client.ts";
import { EmitterConnectError } from "../../src/emitter/errors.ts";
import { FakeBroker } from "./_fake_broker.ts";

Deno.test("connect sends an MQTT 3.1.1 CONNECT over the mqtt subprotocol and resolves on CONNACK 0", async () => {
  const broker = new FakeBroker();
  const client = new EmitterClient({
    endpoint: "ws://broker.test/",
    clientId: "edge-1",
    username: "ana",
    keepaliveSeconds: 45,
    WebSocket: broker.WebSocket,
  });
  const events: string[] = [];
  client.on("connect", () => events.push("connect"));
  await client.connect();
  assert.equal(client.connected, true);
  assert.equal(broker.socket.url, "ws://broker.test/");
  assert.equal(broker.socket.protocol, "mqtt");
  assert.equal(broker.socket.binaryType, "arraybuffer");
  assert.deepEqual(broker.socket.received, [{
    type: "connect",
    protocolVersion: 4,
    clientId: "edge-1",
    cleanSession: true,
    keepAlive: 45,
    username: "ana",
  }]);
  assert.deepEqual(events, ["connect"]);
  await client.disconnect();
  assert.deepEqual(broker.socket.received.at(-1), { type: "disconnect" });
  assert.equal(broker.socket.closedWith, 1000);
  assert.equal(client.connected, false);
});

Deno.test("connect rejects with EmitterConnectError when CONNACK refuses, and closes the socket", async () => {
  const broker = new FakeBroker();
  broker.behaviour.connack = 5;
  const client = new EmitterClient({ WebSocket: broker.WebSocket });
  const error = await client.connect().catch((e) => e);
  assert.ok(error instanceof EmitterConnectError);
  assert.equal(error.returnCode, 5);
  assert.match(error.message, /CONNACK 5 \(the client is not authorized\)/);
  assert.equal(broker.socket.closedWith, 4008);
  assert.equal(client.connected, false);
});

Deno.test("connect rejects with TimeoutError when no CONNACK comes within timeoutMs", async () => {
  const broker = new FakeBroker();
  broker.behaviour.connack = undefined;
  const client = new EmitterClient({ WebSocket: broker.WebSocket, timeoutMs: 30 });
  const error = await client.connect().catch((e) => e);
  assert.ok(error instanceof TimeoutError, String(error));
  assert.equal(error.timeoutMs, 30);
  assert.notEqual(broker.socket.closedWith, undefined);
});

Deno.test("connect rejects with AbortedError when its signal aborts before the socket opens", async () => {
  const broker = new FakeBroker();
  broker.autoAccept = false;
  const client = new EmitterClient({ WebSocket: broker.WebSocket });
  const controller = new AbortController();
  const pending = client.connect({ signal: controller.signal });
  controller.abort();
  const error = await pending.catch((e) => e);
  assert.ok(error instanceof AbortedError, String(error));
  assert.notEqual(broker.socket.closedWith, undefined);
});

Deno.test("connect rejects with NetworkError when the socket closes before it opens", async () => {
  const broker = new FakeBroker();
  broker.autoAccept = false;
  const client = new EmitterClient({ WebSocket: broker.WebSocket });
  const pending = client.connect();
  broker.socket.drop(1006);
  const error = await pending.catch((e) => e);
  assert.equal(error.name, "NetworkError");
  assert.match(error.message, /closed with code 1006/);
});

Deno.test("options are checked once at construction, naming the field", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ endpoint: "http://broker.test/" }, "endpoint"],
    [{ keepaliveSeconds: 0 }, "keepaliveSeconds"],
    [{ timeoutMs: -1 }, "timeoutMs"],
    [{ maxQueuedEvents: 1.5 }, "maxQueuedEvents"],
    [{ backoff: { initialMs: 0 } }, "backoff.initialMs"],
    [{ WebSocket: "ws" }, "WebSocket"],
    [{ now: 1 }, "now"],
  ];
  for (const [options, field] of cases) {
    assert.throws(() => new EmitterClient(options), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.argument, field);
      assert.match(error.message, new RegExp(`^Cannot create EmitterClient as '${field}' must be`));
      return true;
    });
  }
});
