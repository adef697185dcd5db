import assert from "node:assert/strict";
import { newLicense } from "../../../src/emitter/security/license.ts";
import { serveWorker, WORKERD_TEST } from "../../_helpers/workerd.ts";
import { openSocket } from "./_transport.ts";
import { issuedKey, roundTrip, websocketPeer } from "./_mqtt_peer.ts";

Deno.test({
  name: "inside workerd, the server upgrades through a WebSocketPair and speaks MQTT on it",
  ...WORKERD_TEST,
  async fn() {
    const { license, secret } = newLicense();
    await using worker = await serveWorker(
      new URL("./_worker_emitter_entry.ts", import.meta.url),
      { LICENSE: license.toString() },
    );
    const ws = worker.url.href.replace(/^http/, "ws").replace(/\/$/, "");
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
    const key = await issuedKey(worker.url, secret, "edge/");
    // One connection only: a Worker may not write to a socket another request accepted,
    // so fan-out between connections needs a Durable Object holding them all
    await using peer = await websocketPeer(`${ws}/other`, ["mqttv3.1"]);
    await roundTrip(peer, key, "edge/", "from the edge");
  },
});
