import assert from "node:assert/strict";
import {
  basicEnv,
  bundle,
  ignoredUnlessRequired,
  locateRuntime,
  REPOSITORY_ROOT as ROOT,
  requireBinary,
  startChild,
} from "../../_helpers/runtimes.ts";
import { openSocket } from "./_transport.ts";
import { CONNECT, type MqttPeer, websocketPeer } from "./_mqtt_peer.ts";

const BUN = locateRuntime({
  title: "Bun",
  candidates: [`${ROOT}.tools/node_modules/.bin/bun`, "bun"],
});

async function exchange(peer: MqttPeer, key: string) {
  await peer.send(CONNECT);
  assert.deepEqual(await peer.next(), { type: "connack", sessionPresent: false, returnCode: 0 });
  await peer.send({
    type: "subscribe",
    packetId: 2,
    subscriptions: [{ topic: `${key}/bun/`, qos: 0 }],
  });
  assert.deepEqual(await peer.next(), { type: "suback", packetId: 2, granted: [0] });
  const payload = new Uint8Array(70_000).map((_, i) => i % 251);
  await peer.send({
    type: "publish",
    topic: `${key}/bun/`,
    payload: payload.subarray(0, 60_000),
    qos: 0,
    retain: false,
    dup: false,
  });
  const message = await peer.next();
  assert.equal(message.type, "publish");
  assert.deepEqual(message.type === "publish" && message.payload, payload.subarray(0, 60_000));
}

Deno.test({
  name: "under Bun, the server upgrades on any path through Bun.serve and its WebSocket handlers",
  ignore: ignoredUnlessRequired(BUN),
  sanitizeResources: false,
  async fn() {
    const binary = requireBinary(BUN);
    await using built = await bundle(new URL("../../runtimes/_bun_server.ts", import.meta.url), {
      platform: "deno",
    });
    const started = await startChild(binary, [built.file], {
      env: basicEnv(),
      clearEnv: true,
      stdin: "piped",
      ready: /^(\{.*\})\n/,
      timeoutMs: 30_000,
    });
    try {
      const { port, emitterSecret } = JSON.parse(started.ready[1]);
      const ws = `ws://127.0.0.1:${port}`;
      for (
        const [offered, chosen] of [[["mqttv3.1"], "mqttv3.1"], [
          ["chat", "mqtt", "mqttv3"],
          "mqtt",
        ], [[], ""]] as const
      ) {
        await using client = await openSocket(`${ws}/some/path`, [...offered]);
        assert.equal(client.socket.protocol, chosen);
      }
      {
        await using client = await openSocket(`${ws}/`, ["mqtt"]);
        client.socket.send("text is not MQTT");
        assert.equal(await client.closed, 1003);
      }
      const made = await fetch(`http://127.0.0.1:${port}/keygen`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: emitterSecret, channel: "bun/", type: "rw", ttl: 0 }),
      });
      const { key } = await made.json();
      assert.equal(made.status, 200);
      await using peer = await websocketPeer(`${ws}/`, ["mqttv3.1"]);
      await exchange(peer, key);
    } finally {
      await started.child.stdin.close().catch(() => {});
      const { code, stderr } = await started.ended;
      assert.equal(code, 0, stderr);
    }
  },
});
