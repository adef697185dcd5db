/**
 * Three real server processes (`_cluster_node.ts`) on one store and one
 * Redis act as one server, and one of them is killed with SIGKILL mid-run.
 *
 * On one SQLite file: Emitter subscribers on every process get every
 * message once, a share group spread over them gets each once in total,
 * Spot peers reach each other across processes, Honch events posted to any
 * process are stored once; nothing the killed process acknowledged (QoS 1
 * PUBACKs, Honch 200s) is lost.
 *
 * On one PostgreSQL database (a throwaway server, see
 * `tests/_helpers/postgres.ts`): the same, and then the mkStats, Honch and
 * migas clients send through a round-robin {@linkcode Balancer} over the
 * three processes while the Emitter publishers publish; one process is
 * killed under that load, with a breadcrumb it claimed still waiting in the
 * database (`_cluster_in_flight.ts`: its retry is refused while that
 * statement may commit, and takes the claim over at once when it cannot),
 * the clients' retries go to the others with their idempotency keys, and
 * the database must hold every acknowledged mkStats
 * count, Honch event and migas breadcrumb exactly once, and every live
 * subscriber every message acknowledged by a live process exactly once.
 * `CLUSTER_SEED` replays another seed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { newLicense } from "../../src/emitter/security/license.ts";
import { SpotClient } from "../../src/spot/client.ts";
import { REDIS_IGNORED, startRedis } from "../_helpers/redis.ts";
import { describeRuntime, ignoredUnlessRequired } from "../_helpers/runtimes.ts";
import {
  locatePostgres,
  onPostgres,
  type PostgresServer,
  startPostgres,
} from "../_helpers/postgres.ts";
import {
  type ClusterProcess,
  counts,
  emitterMesh,
  type Mesh,
  startNodes,
  stopNodes,
  until,
} from "./_cluster.ts";
import { clusterLoad } from "./_cluster_load.ts";

const ADMIN_KEY = "cluster-admin-key";
const HONCH_KEY = "phc_cluster";
const SEED = Number(Deno.env.get("CLUSTER_SEED") ?? 0xc1_05e7);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/**
 * Phase 1, every process up: each publishes, Spot peers query each other
 * across processes; every subscriber gets every message once, the group
 * each once in total.
 */
async function everyProcessServes(
  processes: ClusterProcess[],
  mesh: Mesh,
  acknowledged: string[],
): Promise<void> {
  const { key, plain, group, publishers } = mesh;
  // A process hears of another's new subscription over Redis a moment after its SUBACK: until
  // then a message published there reaches no one. Each has two (one plain, one in the group).
  const heard = 2 * (processes.length - 1);
  const remote = async (process: ClusterProcess) => {
    const response = await fetch(`${process.origin}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const text = await response.text();
    return Number(/^edgewire_emitter_remote_subscriptions (\d+)$/m.exec(text)?.[1]);
  };
  const deadline = Date.now() + 5000;
  while (!(await Promise.all(processes.map(remote))).every((n) => n === heard)) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for the mesh's subscriptions");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const perPublisher = 20;
  await Promise.all(publishers.map(async (publisher, p) => {
    for (let i = 0; i < perPublisher; i++) {
      const message = `p${p}-${i}`;
      await publisher.publish({ key, channel: "orders/", message, ttl: 3600, qos: 1 });
      acknowledged.push(message);
    }
  }));
  const spotOptions = { timeoutMs: 5000, backoff: { initialMs: 20, maxMs: 100 } };
  const peers = processes.map((process) => {
    const peer = new SpotClient({ url: `${process.ws}_websocket`, ...spotOptions });
    mesh.clients.push(peer);
    peer.setHandler("echo", (message) => `echo ${text(message.body)}`);
    return peer;
  });
  await Promise.all(peers.map((peer) => peer.waitOnline()));
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
  const total = perPublisher * publishers.length;
  await until(() => plain.every((list) => list.length >= total), "every subscriber has all");
  await until(() => group.flat().length >= total, "the share group has all");
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (const list of plain) {
    assert.equal(list.length, total, "no message twice to one subscriber");
    assert.deepEqual([...list].sort(), [...acknowledged].sort());
  }
  assert.equal(group.flat().length, total, "each message once to the group in all");
  assert.equal(new Set(group.flat()).size, total);
  assert.ok(group.filter((list) => list.length > 0).length >= 2, "the group's work is spread");
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

async function postHonch(process: ClusterProcess, name: string): Promise<number> {
  const response = await fetch(`${process.origin}/capture`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-honch-project-key": HONCH_KEY },
    body: JSON.stringify(honchEvent(name)),
  });
  await response.body?.cancel();
  return response.status;
}

/** The settings of every node but the store's. */
function nodeEnv(redis: { url: string; prefix: string }, license: string): Record<string, string> {
  return {
    EDGEWIRE_REDIS_URL: redis.url,
    CLUSTER_PREFIX: redis.prefix,
    CLUSTER_LICENSE: license,
    CLUSTER_ADMIN_KEY: ADMIN_KEY,
    CLUSTER_HONCH_KEY: HONCH_KEY,
  };
}

Deno.test({
  name:
    "three server processes on one SQLite file and one Redis act as one server, and a killed one loses nothing it acknowledged",
  ignore: REDIS_IGNORED,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await using redis = await startRedis();
  const dir = await Deno.makeTempDir();
  const { license, secret } = newLicense();
  let processes: ClusterProcess[] = [];
  let mesh: Mesh | undefined;
  try {
    processes = await startNodes(3, {
      ...nodeEnv(redis, license.toString()),
      CLUSTER_DB: `${dir}/cluster.db`,
    });
    const [first, , victim] = processes;
    mesh = await emitterMesh(processes, secret);
    const { key, plain, publishers } = mesh;
    const acknowledged: string[] = [];
    await everyProcessServes(processes, mesh, acknowledged);
    const honchSent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const name = `event-${i}`;
      assert.equal(await postHonch(processes[i % 3], name), 200);
      honchSent.push(name);
    }

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
    const history = await mesh.keys.history({ key, channel: "orders/", last: 5000 });
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
    for (const client of mesh?.clients ?? []) await client.close();
    await stopNodes(processes);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

const POSTGRES = locatePostgres();
const ignorePostgres = REDIS_IGNORED || ignoredUnlessRequired(POSTGRES);
// Started here, outside any test, so no test's resource check counts the server process.
const postgres: PostgresServer | undefined = ignorePostgres || POSTGRES.binary === undefined
  ? undefined
  : await startPostgres(POSTGRES);
/** A database of its own, so a server from EDGEWIRE_POSTGRES_URL holds nothing of an earlier run. */
const DATABASE = `cluster_${Date.now()}`;

Deno.test({
  name: `three server processes on one ${
    describeRuntime(POSTGRES)
  } and one Redis store every acknowledged event once and deliver every message once per subscriber while one is killed`,
  ignore: ignorePostgres,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  assert.ok(postgres, POSTGRES.missing ?? "PostgreSQL did not start");
  await onPostgres(postgres.url, (sql) => sql.unsafe(`CREATE DATABASE ${DATABASE}`));
  const databaseUrl = postgres.urlOf(DATABASE);
  await using redis = await startRedis();
  const { license, secret } = newLicense();
  let processes: ClusterProcess[] = [];
  let mesh: Mesh | undefined;
  try {
    processes = await startNodes(3, {
      ...nodeEnv(redis, license.toString()),
      CLUSTER_DATABASE_URL: databaseUrl,
    });
    mesh = await emitterMesh(processes, secret);
    const acknowledged: string[] = [];
    await everyProcessServes(processes, mesh, acknowledged);
    // Phase 2: every client sends through the balancer, and the third process is killed
    await clusterLoad({
      processes,
      victim: 2,
      mesh,
      databaseUrl,
      honchKey: HONCH_KEY,
      seed: SEED,
    });
  } finally {
    for (const client of mesh?.clients ?? []) await client.close();
    await stopNodes(processes);
    await onPostgres(postgres.url, (sql) => sql.unsafe(`DROP DATABASE ${DATABASE} WITH (FORCE)`))
      .catch(() => {});
  }
});

Deno.test({
  name: `the ${describeRuntime(POSTGRES)} of the cluster test stops cleanly`,
  ignore: ignorePostgres,
  async fn() {
    assert.ok(postgres, POSTGRES.missing ?? "PostgreSQL did not start");
    assert.equal(await postgres.stop(), 0);
  },
});
