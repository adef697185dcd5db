/**
 * The Emitter client against a real MQTT broker: Debian's mosquitto, started
 * here with a WebSocket listener on 127.0.0.1. Mosquitto knows nothing of
 * Emitter keys, so topics are plain MQTT with a 32-character key-like first
 * segment. Two clients publish and subscribe both ways, at QoS 0 and 1.
 * Ignored when mosquitto is missing, unless EDGEWIRE_REQUIRE_RUNTIMES=1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EmitterClient } from "../../src/emitter/client.ts";
import type { EmitterMessage } from "../../src/emitter/message.ts";
import {
  describeRuntime,
  freePort,
  ignoredUnlessRequired,
  type LocatedRuntime,
  requireBinary,
} from "../_helpers/runtimes.ts";

const KEY = "Z1HLm5KAp_0lkE2fwx6Qv1kl8TNYjiUh";

/** Mosquitto has no `--version`: `-h` prints it (and exits non-zero). */
function locateMosquitto(): LocatedRuntime {
  const seen: string[] = [];
  for (const binary of ["/usr/sbin/mosquitto", "mosquitto"]) {
    try {
      const { stdout } = new Deno.Command(binary, { args: ["-h"], stdout: "piped", stderr: "null" })
        .outputSync();
      const version = /mosquitto version (\S+)/.exec(new TextDecoder().decode(stdout))?.[1];
      if (version !== undefined) return { title: "mosquitto", binary, version };
      seen.push(`${binary} printed no version`);
    } catch {
      seen.push(`${binary} does not run`);
    }
  }
  return {
    title: "mosquitto",
    missing: `No mosquitto found (${seen.join(", ")}); .ci/run installs it`,
  };
}

const mosquitto = locateMosquitto();

interface Mosquitto {
  port: number;
  child: Deno.ChildProcess;
  /** Its log (standard error, where it is not buffered). */
  log: Promise<string>;
}

/** Waits until `port` accepts a connection, or the child ends, or 10 s pass. */
async function accepting(port: number, child: Deno.ChildProcess): Promise<boolean> {
  let ended = false;
  child.status.then(() => (ended = true));
  for (const stop = Date.now() + 10_000; Date.now() < stop && !ended;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return false;
}

async function startMosquitto(binary: string, dir: string): Promise<Mosquitto> {
  const failures: string[] = [];
  // The port may be taken between its release and mosquitto's bind: try a second one
  for (let attempt = 0; attempt < 2; attempt++) {
    const port = freePort();
    const tcpPort = freePort();
    const config = `${dir}/mosquitto.conf`;
    await Deno.writeTextFile(
      config,
      [
        "allow_anonymous true",
        "persistence false",
        "log_dest stderr",
        // Debian's mosquitto 2.0.11 on libwebsockets 4.1 counts no socket for a
        // websockets listener and exits unless a plain MQTT listener exists too
        `listener ${tcpPort} 127.0.0.1`,
        `listener ${port} 127.0.0.1`,
        "protocol websockets",
        "",
      ].join("\n"),
    );
    const child = new Deno.Command(binary, {
      args: ["-c", config],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const log = new Response(child.stderr).text();
    if (await accepting(port, child)) return { port, child, log };
    try {
      child.kill("SIGKILL");
    } catch {
      // It already ended
    }
    await child.status;
    failures.push(await log);
  }
  assert.fail(`mosquitto did not accept connections: ${failures.join("\n")}`);
}

async function next(iterator: AsyncIterator<EmitterMessage>): Promise<EmitterMessage> {
  const result = await iterator.next();
  assert.equal(result.done, false, "the subscription ended before a message came");
  return result.value as EmitterMessage;
}

Deno.test({
  name: `two clients publish and subscribe both ways through ${describeRuntime(mosquitto)}`,
  ignore: ignoredUnlessRequired(mosquitto),
  async fn() {
    const binary = requireBinary(mosquitto);
    const dir = await Deno.makeTempDir({ prefix: "edgewire-mosquitto-" });
    const broker = await startMosquitto(binary, dir);
    const { port } = broker;
    const endpoint = `ws://127.0.0.1:${port}/`;
    const alice = new EmitterClient({ endpoint, clientId: "edgewire-alice", timeoutMs: 5000 });
    const bob = new EmitterClient({ endpoint, clientId: "edgewire-bob", timeoutMs: 5000 });
    try {
      await Promise.all([alice.connect(), bob.connect()]);
      const toAlice = (await alice.subscribe({ key: KEY, channel: "chat/alice/" }))
        [Symbol.asyncIterator]();
      const toBob = (await bob.subscribe({ key: KEY, channel: "chat/+/" }))[Symbol.asyncIterator]();

      await alice.publish({ key: KEY, channel: "chat/bob/", message: { from: "alice" } });
      const atBob = await next(toBob);
      assert.equal(atBob.channel, `${KEY}/chat/bob/`);
      assert.deepEqual(atBob.asObject(), { from: "alice" });

      await bob.publish({ key: KEY, channel: "chat/alice/", message: "from bob", qos: 1 });
      const atAlice = await next(toAlice);
      assert.equal(atAlice.channel, `${KEY}/chat/alice/`);
      assert.equal(atAlice.asString(), "from bob");
      // Bob's wildcard sees it too; Alice's exact channel did not see Bob's
      assert.equal((await next(toBob)).asString(), "from bob");

      const bytes = new Uint8Array([0, 1, 2, 255]);
      await alice.publish({ key: KEY, channel: "chat/bob/", message: bytes, qos: 1 });
      assert.deepEqual((await next(toBob)).asBinary(), bytes);

      await bob.unsubscribe({ key: KEY, channel: "chat/+/" });
      assert.equal((await toBob.next()).done, true);
    } finally {
      await alice.disconnect();
      await bob.disconnect();
      broker.child.kill("SIGTERM");
      const status = await broker.child.status;
      const log = await broker.log;
      await Deno.remove(dir, { recursive: true });
      assert.equal(status.success || status.signal === "SIGTERM", true, log);
    }
  },
});
