import assert from "node:assert/strict";
import { nodeExampleTest, serveNodeExample } from "../../examples/_served.ts";
import { issuedKey, roundTrip, tcpPeer, websocketPeer } from "./_mqtt_peer.ts";

const PACKAGES = ["ws", "@hono/node-server"];

Deno.test({
  name: "the Node example carries MQTT over ws upgrades on any path and over TCP",
  ...nodeExampleTest(PACKAGES),
  async fn() {
    await using served = await serveNodeExample(PACKAGES, () => ({
      EDGEWIRE_DB: ":memory:",
      EDGEWIRE_MQTT_PORT: "0",
    }));
    const secret = served.banner.match(/master secret key .*:\n {2}(\S+)$/m)?.[1];
    const mqttPort = Number(served.banner.match(/mqtt:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    assert.ok(secret && mqttPort > 0, served.banner);
    const key = await issuedKey(served.base, secret, "node/");

    const ws = served.base.replace(/^http/, "ws");
    for (
      const [path, offered, chosen] of [
        ["/", ["mqttv3.1", "mqtt"], "mqttv3.1"],
        ["/any/path", ["mqtt", "mqttv3"], "mqtt"],
        ["/", ["mqttv3"], "mqttv3"],
      ] as const
    ) {
      const socket = new WebSocket(`${ws}${path}`, [...offered]);
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      });
      assert.equal(socket.protocol, chosen);
      const closed = new Promise((resolve) => socket.onclose = resolve);
      socket.close();
      await closed;
    }
    {
      await using peer = await websocketPeer(`${ws}/any/path`, ["mqtt"]);
      await roundTrip(peer, key, "node/", "over ws");
    }
    {
      await using peer = await tcpPeer(mqttPort);
      await roundTrip(peer, key, "node/", "over tcp");
    }
    // An open MQTT connection does not keep the server from stopping
    const lingering = await websocketPeer(ws, ["mqtt"]);
    const { code, stdout, stderr } = await served.stop("SIGTERM");
    await lingering[Symbol.asyncDispose]();
    assert.equal(code, 0, stderr);
    assert.match(stdout, /SIGTERM: stopping\nStopped\n$/);
  },
});
