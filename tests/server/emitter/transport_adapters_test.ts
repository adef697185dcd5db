import assert from "node:assert/strict";
import { upgradeWebSocket } from "../../../src/core/runtime/websocket_upgrade.ts";
import {
  attachWebSocket,
  selectMqttSubprotocol,
} from "../../../src/server/emitter/websocket_link.ts";
import { serveMqttTcp } from "../../../src/server/emitter/mqtt_tcp.ts";
import { echoBroker, openSocket } from "./_transport.ts";

function serveEcho(broker: ReturnType<typeof echoBroker>) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) => {
      // Read before upgrading: Deno forgets the request's address once it is upgraded
      const address = info.remoteAddr.hostname;
      return upgradeWebSocket(request, info, {
        protocol: selectMqttSubprotocol(request.headers.get("sec-websocket-protocol")),
        onSocket: (socket) => attachWebSocket(broker, socket, address),
      }) ?? new Response("no upgrade", { status: 426 });
    },
  );
}

Deno.test("the subprotocol picked is the first MQTT one the client offered", () => {
  assert.equal(selectMqttSubprotocol("mqttv3.1, mqtt"), "mqttv3.1");
  assert.equal(selectMqttSubprotocol("mqtt,mqttv3.1"), "mqtt");
  assert.equal(selectMqttSubprotocol(["chat", "mqttv3", "mqtt"]), "mqttv3");
  assert.equal(selectMqttSubprotocol(new Set(["MQTT", "chat"])), undefined);
  assert.equal(selectMqttSubprotocol(""), undefined);
  assert.equal(selectMqttSubprotocol(null), undefined);
});

Deno.test("binary messages reach the session and its bytes come back as binary messages", async () => {
  const broker = echoBroker();
  await using http = serveEcho(broker);
  {
    await using client = await openSocket(`ws://127.0.0.1:${http.addr.port}/`, ["mqtt"]);
    assert.equal(client.socket.protocol, "mqtt");
    client.socket.send(new Uint8Array([0xc0, 0x00]));
    client.socket.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual(await client.bytes(5), new Uint8Array([0xc0, 0, 1, 2, 3]));
    assert.deepEqual(broker.addresses, ["127.0.0.1"]);
  }
  // The client's close ends the session exactly once
  for (let i = 0; i < 50 && broker.ends === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(broker.ends, 1);
});

Deno.test("a text message closes the connection with 1003 and ends the session", async () => {
  const broker = echoBroker();
  await using http = serveEcho(broker);
  await using client = await openSocket(`ws://127.0.0.1:${http.addr.port}/`, ["mqttv3.1"]);
  client.socket.send("CONNECT");
  assert.equal(await client.closed, 1003);
  assert.equal(broker.ends, 1);
  assert.equal(client.received.length, 0);
});

Deno.test("plain TCP connections are sessions: bytes both ways, and either side's close ends them", async () => {
  const broker = echoBroker();
  const mqtt = await serveMqttTcp(broker, { hostname: "127.0.0.1", port: 0 });
  assert.equal(mqtt.hostname, "127.0.0.1");
  assert.ok(mqtt.port > 0);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: mqtt.port });
  await conn.write(new Uint8Array([0xc0, 0x00, 7]));
  const buffer = new Uint8Array(3);
  let got = 0;
  while (got < 3) got += (await conn.read(buffer.subarray(got))) ?? 0;
  assert.deepEqual(buffer, new Uint8Array([0xc0, 0, 7]));
  assert.deepEqual(broker.addresses, ["127.0.0.1"]);
  conn.close();
  for (let i = 0; i < 50 && broker.ends === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(broker.ends, 1);

  // Closing the listener closes the connections it still holds
  const second = await Deno.connect({ hostname: "127.0.0.1", port: mqtt.port });
  await second.write(new Uint8Array([1]));
  await second.read(new Uint8Array(1));
  await mqtt.close();
  assert.equal(await second.read(new Uint8Array(1)), null);
  second.close();
  assert.equal(broker.ends, 2);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: mqtt.port }));
});

Deno.test("an aborted signal stops the TCP listener", async () => {
  const controller = new AbortController();
  const mqtt = await serveMqttTcp(echoBroker(), { port: 0, signal: controller.signal });
  controller.abort();
  await mqtt.close();
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: mqtt.port }));
});
