/**
 * Three real server processes (`_cluster_node.ts`) on one SQLite file and
 * one Redis act as one server: Emitter subscribers on every process get
 * every message once, a share group spread over them gets each once in
 * total, Spot peers reach each other across processes, Honch events posted
 * to any of them are stored once; then one process is killed with SIGKILL
 * mid-run and nothing it had acknowledged (QoS 1 PUBACKs, Honch 200s) is
 * lost, while the others go on.
 *
 * @module
 */

import assert from "node:assert/strict";
import { newLicense } from "../../src/emitter/security/license.ts";
import { EmitterClient } from "../../src/emitter/client.ts";
import { SpotClient } from "../../src/spot/client.ts";
import { REDIS_IGNORED, startRedis } from "../_helpers/redis.ts";
import { startChild, type StartedChild } from "../_helpers/runtimes.ts";

const ADMIN_KEY = "cluster-admin-key";
const HONCH_KEY = "cluster-honch-key";
const SCRIPT = new URL("./_cluster_node.ts", import.meta.url).pathname;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

interface Process {
  child: StartedChild;
  origin: string;
  ws: string;
}

async function until(check: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function emitter(process: Process): Promise<EmitterClient> {
  const client = new EmitterClient({
    endpoint: process.ws,
    timeoutMs: 5000,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  client.on("error", () => {});
  return client.connect().then(() => client);
}

/** Reads a subscription into a list, in the background. */
function collect(subscription: AsyncIterable<{ asString(): string }>): string[] {
  const into: string[] = [];
  void (async () => {
    for await (const message of subscription) into.push(message.asString());
  })();
  return into;
}

function honchEvent(name: string) {
  return {
    context: {
      distinct_id: "user-1",
      $device_id: "device-1",
      $device_model: "model-x",
      $firmware_version: "1.0.0",
      $sdk_platform: "posix",
      $sdk_version: "0.3.1",
    },
    events: [{ event: name, timestamp: Date.now() }],
  };
}

async function postHonch(process: Process, name: string): Promise<number> {
  const response = await fetch(`${process.origin}/capture`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-honch-project-key": HONCH_KEY },
    body: JSON.stringify(honchEvent(name)),
  });
  await response.body?.cancel();
  return response.status;
}

function counts(values: string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const value of values) map.set(value, (map.get(value) ?? 0) + 1);
  return map;
}

Deno.test({
  name:
    "three server processes on one Redis act as one server, and a killed one loses nothing it acknowledged",
  ignore: REDIS_IGNORED,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await using redis = await startRedis();
  const dir = await Deno.makeTempDir();
  const { license, secret } = newLicense();
  const processes: Process[] = [];
  const clients: { close(): unknown }[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const child = await startChild(Deno.execPath(), ["run", "-A", SCRIPT], {
        env: {
          EDGEWIRE_REDIS_URL: redis.url,
          CLUSTER_PREFIX: redis.prefix,
          CLUSTER_DB: `${dir}/cluster.db`,
          CLUSTER_LICENSE: license.toString(),
          CLUSTER_ADMIN_KEY: ADMIN_KEY,
          CLUSTER_HONCH_KEY: HONCH_KEY,
          NO_COLOR: "1",
        },
        ready: /listening (\d+)/,
        timeoutMs: 20_000,
      });
      const port = child.ready[1];
      processes.push({ child, origin: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/` });
    }
    const [first, , victim] = processes;

    // Emitter: a plain subscriber and a share-group member on every process
    const keys = await emitter(first);
    clients.push({ close: () => keys.disconnect() });
    const { key } = await keys.keygen({ key: secret, channel: "orders/", type: "rwsl" });
    const share = await keys.keygen({ key: secret, channel: "$share/#/", type: "r" });
    const plain: string[][] = [];
    const group: string[][] = [];
    const publishers: EmitterClient[] = [];
    for (const process of processes) {
      const subscriber = await emitter(process);
      const member = await emitter(process);
      const publisher = await emitter(process);
      clients.push(
        { close: () => subscriber.disconnect() },
        { close: () => member.disconnect() },
        { close: () => publisher.disconnect() },
      );
      plain.push(collect(await subscriber.subscribe({ key, channel: "orders/" })));
      group.push(
        collect(
          await member.subscribeWithGroup({ key: share.key, channel: "orders/", group: "g" }),
        ),
      );
      publishers.push(publisher);
    }

    // Spot: a peer on every process, each answering queries
    const spotOptions = { timeoutMs: 5000, backoff: { initialMs: 20, maxMs: 100 } };
    const peers = processes.map((process) => {
      const peer = new SpotClient({ url: `${process.ws}_websocket`, ...spotOptions });
      clients.push(peer);
      peer.setHandler("echo", (message) => `echo ${text(message.body)}`);
      return peer;
    });
    await Promise.all(peers.map((peer) => peer.waitOnline()));

    // Phase 1: every process publishes, takes Honch events and routes Spot queries
    const perPublisher = 20;
    const acknowledged: string[] = [];
    await Promise.all(publishers.map(async (publisher, p) => {
      for (let i = 0; i < perPublisher; i++) {
        const message = `p${p}-${i}`;
        await publisher.publish({ key, channel: "orders/", message, ttl: 3600, qos: 1 });
        acknowledged.push(message);
      }
    }));
    const honchSent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const name = `event-${i}`;
      assert.equal(await postHonch(processes[i % 3], name), 200);
      honchSent.push(name);
    }
    for (const [from, asker] of peers.entries()) {
      for (const [to, target] of peers.entries()) {
        if (from === to) continue;
        let answer: Uint8Array | undefined;
        // A card learnt from another process may take a moment to arrive
        for (let attempt = 0; answer === undefined && attempt < 50; attempt++) {
          answer = await asker.query(`${target.address}/echo`, `${from}>${to}`).catch(() => {
            return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20));
          });
        }
        assert.equal(text(answer!), `echo ${from}>${to}`);
      }
    }
    const total = perPublisher * 3;
    await until(() => plain.every((list) => list.length >= total), "every subscriber has all");
    await until(() => group.flat().length >= total, "the share group has all");
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const list of plain) {
      assert.equal(list.length, total, "no message twice to one subscriber");
      assert.deepEqual([...counts(list).keys()].sort(), [...acknowledged].sort());
    }
    assert.equal(group.flat().length, total, "each message once to the group in all");
    assert.equal(new Set(group.flat()).size, total);
    assert.ok(group.filter((list) => list.length > 0).length >= 2, "the group's work is spread");

    // Phase 2: the third process is killed while its clients publish and post
    const running = (async () => {
      for (let i = 0;; i++) {
        const message = `victim-${i}`;
        try {
          await publishers[2].publish({ key, channel: "orders/", message, ttl: 3600, qos: 1 });
        } catch {
          return;
        }
        acknowledged.push(message);
      }
    })();
    const posting = (async () => {
      for (let i = 0;; i++) {
        const name = `victim-event-${i}`;
        const status = await postHonch(victim, name).catch(() => 0);
        if (status !== 200) return;
        honchSent.push(name);
      }
    })();
    await until(
      () => acknowledged.some((m) => m.startsWith("victim-5")) && honchSent.length > 35,
      "the victim has acknowledged a few",
    );
    victim.child.child.kill("SIGKILL");
    await victim.child.ended;
    await publishers[2].disconnect();
    await Promise.all([running, posting]);

    // The others go on: a message published on the first reaches the second's subscriber
    await publishers[0].publish({ key, channel: "orders/", message: "after", qos: 1 });
    await until(() => plain[1].includes("after"), "the second process still delivers");

    // Everything acknowledged is stored, once
    const history = await keys.history({ key, channel: "orders/", last: 5000 });
    const stored = counts(history.map((message) => message.asString()));
    for (const message of acknowledged) {
      assert.equal(stored.get(message), 1, `${message} stored once`);
    }
    const events = await fetch(
      `${first.origin}/api/honch/events?project_key=${HONCH_KEY}&limit=1000`,
      { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
    ).then((response) => response.json()) as { events: { event: string }[] };
    assert.ok(Array.isArray(events.events), JSON.stringify(events));
    const storedEvents = counts(events.events.map((event) => event.event));
    for (const name of honchSent) assert.equal(storedEvents.get(name), 1, `${name} stored once`);
  } finally {
    for (const client of clients) await client.close();
    for (const process of processes) {
      try {
        process.child.child.kill("SIGTERM");
      } catch {
        // Killed already
      }
      await process.child.ended;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
