import assert from "node:assert/strict";
import { newLicense } from "../../../src/emitter/security/license.ts";
import { bundle, REQUIRE_RUNTIMES } from "../../_helpers/runtimes.ts";
import { openSocket } from "./_transport.ts";
import { CONNECT, type MqttPeer, websocketPeer } from "./_mqtt_peer.ts";

// Named here rather than in deno.json, as in the other workerd tests
// deno-lint-ignore no-import-prefix
const miniflare = await import("npm:miniflare@^4").catch((error: unknown) => error as Error);

async function connected(peer: MqttPeer): Promise<MqttPeer> {
  await peer.send(CONNECT);
  assert.deepEqual(await peer.next(), { type: "connack", sessionPresent: false, returnCode: 0 });
  return peer;
}

Deno.test({
  name: "inside workerd, the server upgrades through a WebSocketPair and speaks MQTT on it",
  ignore: miniflare instanceof Error && !REQUIRE_RUNTIMES,
  // Miniflare's child process and sockets belong to Node's compatibility layer
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (miniflare instanceof Error) {
      throw new Error(`Miniflare could not be loaded; .ci/run installs it: ${miniflare.message}`);
    }
    await using built = await bundle(new URL("./_worker_emitter_entry.ts", import.meta.url), {
      platform: "browser",
    });
    const { license, secret } = newLicense();
    const mf = new miniflare.Miniflare({
      modules: true,
      script: await Deno.readTextFile(built.file),
      compatibilityDate: "2025-09-01",
      compatibilityFlags: [],
      bindings: { LICENSE: license.toString() },
      host: "127.0.0.1",
      port: 0,
    });
    try {
      const base = await mf.ready;
      const ws = base.href.replace(/^http/, "ws").replace(/\/$/, "");
      for (
        const [offered, chosen] of [[["mqttv3", "mqtt"], "mqttv3"], [["mqtt"], "mqtt"]] as const
      ) {
        await using client = await openSocket(`${ws}/any/path`, [...offered]);
        assert.equal(client.socket.protocol, chosen);
      }
      {
        await using client = await openSocket(`${ws}/`, ["mqtt"]);
        client.socket.send("text is not MQTT");
        assert.equal(await client.closed, 1003);
      }
      const made = await fetch(new URL("/keygen", base), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: secret, channel: "edge/", type: "rw", ttl: 0 }),
      });
      const { key } = await made.json();
      assert.equal(made.status, 200);
      // One connection only: a Worker may not write to a socket another request accepted,
      // so fan-out between connections needs a Durable Object holding them all
      await using peer = await connected(await websocketPeer(`${ws}/other`, ["mqttv3.1"]));
      await peer.send({
        type: "subscribe",
        packetId: 3,
        subscriptions: [{ topic: `${key}/edge/`, qos: 0 }],
      });
      assert.deepEqual(await peer.next(), { type: "suback", packetId: 3, granted: [0] });
      const payload = new TextEncoder().encode("from the edge");
      await peer.send({
        type: "publish",
        topic: `${key}/edge/`,
        payload,
        qos: 0,
        retain: false,
        dup: false,
      });
      const message = await peer.next();
      assert.deepEqual(message.type === "publish" && message.payload, payload);
    } finally {
      await mf.dispose();
    }
  },
});
