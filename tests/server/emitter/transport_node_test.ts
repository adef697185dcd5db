import assert from "node:assert/strict";
import { serveProcess } from "../../examples/_served.ts";
import {
  bundle,
  locateRuntime,
  REPOSITORY_ROOT as ROOT,
  REQUIRE_RUNTIMES,
  requireBinary,
} from "../../_helpers/runtimes.ts";
import { CONNECT, type MqttPeer, tcpPeer, websocketPeer } from "./_mqtt_peer.ts";

const EXAMPLE = `${ROOT}examples/node`;

/** The first Node with node:sqlite (22.5+), which the example's SQLite store needs. */
const NODE = locateRuntime({
  title: "Node 22.5+",
  candidates: [`${ROOT}.tools/node22/node_modules/.bin/node`, "node"],
  accepts(version) {
    const [major, minor] = version.split(".").map(Number);
    return major > 22 || (major === 22 && minor >= 5);
  },
});

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

const dependencies = installed(`${EXAMPLE}/node_modules/ws`) &&
  installed(`${EXAMPLE}/node_modules/@hono/node-server`);

async function exchange(peer: MqttPeer, key: string, text: string) {
  await peer.send(CONNECT);
  assert.deepEqual(await peer.next(), { type: "connack", sessionPresent: false, returnCode: 0 });
  await peer.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topic: `${key}/node/`, qos: 0 }],
  });
  assert.deepEqual(await peer.next(), { type: "suback", packetId: 1, granted: [0] });
  const payload = new TextEncoder().encode(text);
  await peer.send({
    type: "publish",
    topic: `${key}/node/`,
    payload,
    qos: 0,
    retain: false,
    dup: false,
  });
  const message = await peer.next();
  assert.equal(message.type === "publish" && new TextDecoder().decode(message.payload), text);
}

Deno.test({
  name: "the Node example carries MQTT over ws upgrades on any path and over TCP",
  ignore: (NODE.binary === undefined || !dependencies) && !REQUIRE_RUNTIMES,
  sanitizeResources: false,
  async fn() {
    const node = requireBinary(NODE);
    assert.ok(
      dependencies,
      "examples/node lacks ws or @hono/node-server; .ci/run runs npm ci there",
    );
    await using built = await bundle(`${EXAMPLE}/_bundle_entry.ts`, {
      platform: "node",
      output: "dist/edgewire.mjs",
    });
    const dir = built.dir;
    for (const file of ["package.json", "server.mjs"]) {
      await Deno.copyFile(`${EXAMPLE}/${file}`, `${dir}/${file}`);
    }
    await Deno.symlink(`${EXAMPLE}/node_modules`, `${dir}/node_modules`);

    await using served = await serveProcess(node, [`${dir}/server.mjs`], {
      EDGEWIRE_PORT: "0",
      EDGEWIRE_DB: ":memory:",
      EDGEWIRE_MQTT_PORT: "0",
    });
    const secret = served.banner.match(/master secret key .*:\n {2}(\S+)$/m)?.[1];
    const mqttPort = Number(served.banner.match(/mqtt:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    assert.ok(secret && mqttPort > 0, served.banner);
    const made = await fetch(`${served.base}/keygen`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: secret, channel: "node/", type: "rw", ttl: 0 }),
    });
    const { key } = await made.json();
    assert.equal(made.status, 200);

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
      await exchange(peer, key, "over ws");
    }
    {
      await using peer = await tcpPeer(mqttPort);
      await exchange(peer, key, "over tcp");
    }
    // An open MQTT connection does not keep the server from stopping
    const lingering = await websocketPeer(ws, ["mqtt"]);
    const { code, stdout, stderr } = await served.stop("SIGTERM");
    await lingering[Symbol.asyncDispose]();
    assert.equal(code, 0, stderr);
    assert.match(stdout, /SIGTERM: stopping\nStopped\n$/);
  },
});
