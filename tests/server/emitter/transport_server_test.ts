import assert from "node:assert/strict";
import { createServer, type EdgewireServer, serveMqttTcp } from "../../../src/server/mod.ts";
import { EmitterClient } from "../../../src/emitter/client.ts";
import { openSocket } from "./_transport.ts";
import { channelKey, CONNECT, type MqttPeer, tcpPeer, websocketPeer } from "./_mqtt_peer.ts";

function served(): AsyncDisposable & { server: EdgewireServer; base: string } {
  const server = createServer();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, server.fetch);
  return {
    server,
    base: `ws://127.0.0.1:${http.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.close();
      await http.shutdown();
    },
  };
}

async function connected(peer: MqttPeer): Promise<MqttPeer> {
  await peer.send(CONNECT);
  assert.deepEqual(await peer.next(), { type: "connack", sessionPresent: false, returnCode: 0 });
  return peer;
}

Deno.test("the server echoes the first MQTT subprotocol the client offered", async () => {
  await using running = served();
  const cases: [string[], string][] = [
    [["mqttv3.1"], "mqttv3.1"],
    [["mqttv3"], "mqttv3"],
    [["mqtt"], "mqtt"],
    [["mqtt", "mqttv3.1"], "mqtt"],
    [["mqttv3.1", "mqtt"], "mqttv3.1"],
    [["chat", "mqttv3"], "mqttv3"],
    [[], ""],
  ];
  for (const [offered, chosen] of cases) {
    await using client = await openSocket(`${running.base}/`, offered);
    assert.equal(client.socket.protocol, chosen, `offered ${offered.join(", ") || "none"}`);
  }
});

Deno.test("a request offering no MQTT subprotocol is still upgraded, and speaks MQTT", async () => {
  await using running = served();
  await using peer = await connected(await websocketPeer(`${running.base}/`, ["chat"]));
  await peer.send({ type: "pingreq" });
  assert.deepEqual(await peer.next(), { type: "pingresp" });
});

Deno.test("an upgrade on any path reaches the broker, while plain requests keep their routes", async () => {
  await using running = served();
  for (const path of ["/", "/any/path", "/healthz", "/keygen"]) {
    await using peer = await connected(await websocketPeer(`${running.base}${path}`, ["mqtt"]));
    await peer.send({ type: "pingreq" });
    assert.deepEqual(await peer.next(), { type: "pingresp" }, path);
  }
  const health = await running.server.fetch(new Request("http://localhost/healthz"));
  assert.deepEqual(await health.json(), { ok: true });
  // Each client's close ended its session on the broker
  for (let i = 0; i < 100 && running.server.emitter.stats().connections > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(running.server.emitter.stats().connections, 0);
});

Deno.test("a text frame closes the MQTT connection", async () => {
  await using running = served();
  await using client = await openSocket(`${running.base}/`, ["mqttv3.1"]);
  client.socket.send("not MQTT");
  assert.equal(await client.closed, 1003);
});

Deno.test("messages cross between WebSocket and plain TCP subscribers on the same broker", async () => {
  await using running = served();
  const key = await channelKey(running.server, "chat/");
  await using mqtt = await serveMqttTcp(running.server.emitter, { hostname: "127.0.0.1", port: 0 })
    .then((listener) => Object.assign(listener, { [Symbol.asyncDispose]: () => listener.close() }));
  await using tcp = await connected(await tcpPeer(mqtt.port));
  await using ws = await connected(await websocketPeer(`${running.base}/`, ["mqtt"]));
  for (const peer of [tcp, ws]) {
    await peer.send({
      type: "subscribe",
      packetId: 1,
      subscriptions: [{ topic: `${key}/chat/`, qos: 0 }],
    });
    assert.deepEqual(await peer.next(), { type: "suback", packetId: 1, granted: [0] });
  }
  const publish = (text: string) => ({
    type: "publish" as const,
    topic: `${key}/chat/`,
    payload: new TextEncoder().encode(text),
    qos: 0 as const,
    retain: false,
    dup: false,
  });
  await tcp.send(publish("from tcp"));
  await ws.send(publish("from ws"));
  for (const peer of [tcp, ws]) {
    const texts = [];
    for (let i = 0; i < 2; i++) {
      const packet = await peer.next();
      assert.equal(packet.type, "publish");
      if (packet.type === "publish") {
        assert.equal(packet.topic, "chat/");
        texts.push(new TextDecoder().decode(packet.payload));
      }
    }
    assert.deepEqual(texts.sort(), ["from tcp", "from ws"]);
  }
});

Deno.test("closing the server closes its MQTT connections", async () => {
  const server = createServer();
  await using http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    server.fetch,
  );
  const peer = await connected(await websocketPeer(`ws://127.0.0.1:${http.addr.port}/`, ["mqtt"]));
  await server.close();
  await assert.rejects(peer.next(), /ended/);
  await peer[Symbol.asyncDispose]();
  const after = await server.fetch(
    new Request("http://localhost/", { headers: { upgrade: "websocket" } }),
  );
  assert.equal(after.status, 503);
  await after.body?.cancel();
});

Deno.test("the SDK's EmitterClient publishes and receives through the server over WebSocket", async () => {
  await using running = served();
  const key = await channelKey(running.server, "sdk/");
  const client = new EmitterClient({ endpoint: `${running.base}/` });
  try {
    await client.connect();
    const subscription = await client.subscribe({ key, channel: "sdk/" });
    await client.publish({ key, channel: "sdk/", message: { hello: "broker" }, qos: 1 });
    for await (const message of subscription) {
      assert.deepEqual(message.asObject(), { hello: "broker" });
      break;
    }
  } finally {
    await client.disconnect();
  }
});

Deno.test("a connection the broker refuses at once (over the per-address limit) is closed", async () => {
  const server = createServer({ emitter: { maxConnectionsPerAddress: 1 } });
  await using http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    server.fetch,
  );
  const base = `ws://127.0.0.1:${http.addr.port}/`;
  try {
    await using first = await connected(await websocketPeer(base, ["mqtt"]));
    const second = new WebSocket(base, ["mqtt"]);
    const code = await new Promise<number>((resolve) =>
      second.onclose = (event) => resolve(event.code)
    );
    assert.notEqual(code, 0);
    assert.equal(server.emitter.stats().refusedConnections, 1);
    await first.send({ type: "pingreq" });
    assert.deepEqual(await first.next(), { type: "pingresp" }, "the first connection is untouched");
  } finally {
    await server.close();
  }
});
