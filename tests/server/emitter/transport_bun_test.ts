import assert from "node:assert/strict";
import {
  basicEnv,
  bundle,
  ignoredUnlessRequired,
  locateRuntime,
  requireBinary,
  RUNTIMES,
  startChild,
} from "../../_helpers/runtimes.ts";
import { openSocket } from "./_transport.ts";
import { issuedKey, roundTrip, websocketPeer } from "./_mqtt_peer.ts";

const BUN = locateRuntime(RUNTIMES.bun);

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
      const key = await issuedKey(`http://127.0.0.1:${port}`, emitterSecret, "bun/");
      await using peer = await websocketPeer(`${ws}/`, ["mqttv3.1"]);
      // A 60,000-byte message, far more than a small frame
      const payload = new Uint8Array(60_000).map((_, i) => i % 251);
      await roundTrip(peer, key, "bun/", payload);
    } finally {
      await started.child.stdin.close().catch(() => {});
      const { code, stderr } = await started.ended;
      assert.equal(code, 0, stderr);
    }
  },
});
