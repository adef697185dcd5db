/**
 * The second phase of the cluster test on PostgreSQL: every client at once
 * while one process is killed. mkStats installs, a Honch device and a migas
 * CLI send through a round-robin {@linkcode Balancer} over the processes
 * (each retry, with its idempotency key, goes to the next process still in
 * rotation); the Emitter publishers of every process publish with QoS 1, and
 * the killed process's publisher moves to a live one. Once the load is past
 * its first part the process is killed with SIGKILL, a breadcrumb it claimed
 * still in flight (`_cluster_in_flight.ts`); the clients then drain,
 * and the database is read directly: every mkStats count, Honch event and
 * migas breadcrumb exactly once, every Emitter message acknowledged stored
 * once, and delivered once to each live subscriber when a live process
 * acknowledged it (the share group: never twice).
 *
 * @module
 */

import assert from "node:assert/strict";
import { MemoryStorage } from "../../src/core/storage.ts";
import { HonchClient } from "../../src/honch/client.ts";
import { createMigas } from "../../src/migas/client.ts";
import { MkStatsClient } from "../../src/mkstats/client.ts";
import { onPostgres } from "../_helpers/postgres.ts";
import { seededRandom } from "./_fault_proxy.ts";
import { Balancer, type ClusterProcess, counts, emitterOf, type Mesh, until } from "./_cluster.ts";
import { CLUSTER_MIGAS_PROJECT } from "./_cluster_node.ts";
import { IN_FLIGHT_VERSION, InFlightOnVictim } from "./_cluster_in_flight.ts";

/** What {@linkcode clusterLoad} runs against. */
export interface ClusterLoadOptions {
  /** The processes, all up. */
  processes: ClusterProcess[];
  /** The index of the process to kill. */
  victim: number;
  /** The Emitter clients, one set per process. */
  mesh: Mesh;
  /** The database the processes share. */
  databaseUrl: string;
  /** The Honch project key the processes accept. */
  honchKey: string;
  /** The seed of every client's jitter. */
  seed: number;
}

const PLUGIN = "cluster_plugin";
const BACKOFF = { initialMs: 10, maxMs: 100 };
const TIMEOUT_MS = 3000;
/** Each client's whole load, and how much of it goes before the kill. */
const MAX = { mkstats: 180, honch: 320, migas: 90, emitter: 120 };
const BEFORE_KILL = { mkstats: 60, honch: 100, migas: 30, emitter: 30 };
/** How long each client's drain may take at most. */
const DRAIN_MS = 10_000;

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Flushes until nothing is left, bounded in time; answers what is left. */
async function drain(flush: () => Promise<number>): Promise<number> {
  const deadline = Date.now() + DRAIN_MS;
  let left = await flush();
  while (left > 0 && Date.now() < deadline) {
    await pause(20);
    left = await flush();
  }
  return left;
}

/** Every copy the database holds, by id, as `sql` selects them (`id`, `n`). */
async function stored(databaseUrl: string, sql: string, params: unknown[] = []) {
  const rows = await onPostgres(databaseUrl, (db) => db.unsafe(sql, params as never[]));
  return new Map(rows.map((row) => [String(row.id), Number(row.n)]));
}

/** Lists the ids whose stored count is not the expected one. */
function wrong(expected: Map<string, number>, got: Map<string, number>): string[] {
  const ids = new Set([...expected.keys(), ...got.keys()]);
  return [...ids].filter((id) => (got.get(id) ?? 0) !== (expected.get(id) ?? 0))
    .map((id) => `${id}: ${got.get(id) ?? 0} stored for ${expected.get(id) ?? 0}`);
}

/**
 * Runs the load, kills `victim` in its middle, drains and checks.
 *
 * @param options The cluster and its clients.
 * @returns Once every check passed.
 * @throws {AssertionError} When something acknowledged is missing or stored twice.
 */
export async function clusterLoad(options: ClusterLoadOptions): Promise<void> {
  const { processes, victim, mesh, databaseUrl, honchKey, seed } = options;
  const balancer = new Balancer(processes.map((process) => process.origin));
  const endpoint = processes[0].origin;
  const common = { timeoutMs: TIMEOUT_MS, backoff: BACKOFF, fetch: balancer.fetch };
  const installs = [0, 1, 2].map((i) =>
    new MkStatsClient({
      ...common,
      pluginId: PLUGIN,
      pluginVersion: "1.0.0",
      endpoint: `${endpoint}/api`,
      deviceId: `cluster-device-${i}`,
      storage: new MemoryStorage(),
      random: seededRandom(seed + 1 + i),
    })
  );
  const honch = new HonchClient({
    ...common,
    apiKey: honchKey,
    deviceId: "dev_cluster",
    deviceModel: "Cluster-Board",
    firmwareVersion: "1.0.0",
    endpoint,
    storage: new MemoryStorage(),
    batchSize: 8,
    flushMinIntervalMs: 0xFFFFFFFF,
    random: seededRandom(seed + 4),
  });
  const migas = createMigas({
    ...common,
    endpoint,
    random: seededRandom(seed + 5),
    storage: new MemoryStorage(),
    env: () => undefined,
    fileExists: () => Promise.resolve(false),
    lifecycle: {},
    logger: () => {},
  });
  await Promise.all(installs.map((install) => install.handshake()));

  const progress = { mkstats: 0, honch: 0, migas: 0, emitter: 0 };
  const mkstatsSent = new Map<string, number>();
  const mkstatsLoad = (async () => {
    for (; progress.mkstats < MAX.mkstats; progress.mkstats++) {
      const i = progress.mkstats;
      const name = `cluster_${i % 4}`;
      const count = 1 + (i % 3);
      mkstatsSent.set(name, (mkstatsSent.get(name) ?? 0) + count);
      const install = installs[i % installs.length];
      // Sent now, or queued under its Idempotency-Key for a later flush
      await install.trackEvent(name, count);
      if (i % 6 === 5) await install.flushEvents();
      await pause(5);
    }
  })();
  const honchLoad = (async () => {
    for (; progress.honch < MAX.honch; progress.honch++) {
      honch.track("cluster_event", { i: progress.honch });
      if (progress.honch % 8 === 7) await honch.flush({ deadlineMs: 1000 });
      await pause(3);
    }
  })();
  const migasLoad = (async () => {
    for (; progress.migas < MAX.migas; progress.migas++) {
      // A breadcrumb not delivered is queued, and delivered by a later flush
      await migas.addBreadcrumb(CLUSTER_MIGAS_PROJECT, `1.0.${progress.migas}`);
      await pause(10);
    }
  })();

  // Emitter: every publisher publishes; the victim's moves to a live process when its own dies
  const { key, plain, group } = mesh;
  const liveAcked: string[] = [];
  const victimAcked: string[] = [];
  const publishers = [...mesh.publishers];
  const emitterFailures: string[] = [];
  const emitterLoad = publishers.map(async (_, p) => {
    let moved = false;
    for (let i = 0; i < MAX.emitter; i++) {
      const message = `load-p${p}-${i}`;
      try {
        await publishers[p].publish({ key, channel: "orders/", message, ttl: 3600, qos: 1 });
      } catch (error) {
        // Unacknowledged: stored or not, but never counted as acknowledged
        if (p !== victim || moved) {
          emitterFailures.push(`publisher ${p} failed on a live process: ${error}`);
          return;
        }
        await publishers[p].disconnect().catch(() => {});
        const next = await emitterOf(processes[(victim + 1) % processes.length]);
        mesh.clients.push({ close: () => next.disconnect() });
        publishers[p] = next;
        moved = true;
        continue;
      }
      (p === victim && !moved ? victimAcked : liveAcked).push(message);
      if (p === victim) progress.emitter++;
      await pause(5);
    }
  });
  // Awaited below; marked handled now, so a check failing first is what the test reports
  for (const load of [mkstatsLoad, honchLoad, migasLoad, ...emitterLoad]) load.catch(() => {});

  await until(
    () => Object.entries(BEFORE_KILL).every(([k, n]) => progress[k as keyof typeof progress] >= n),
    "every client is past the first part of its load",
    15_000,
  );
  // A breadcrumb the victim claimed but has not recorded when it dies (see _cluster_in_flight.ts)
  const inFlight = await InFlightOnVictim.start(databaseUrl, victim, processes[victim].origin);
  const atKill = { ...progress };
  try {
    processes[victim].child.child.kill("SIGKILL");
    const { signal } = await processes[victim].child.ended;
    assert.equal(signal, "SIGKILL");
    // Its subscriber and share-group member are gone with it
    for (const reader of mesh.readers[victim]) await reader.disconnect().catch(() => {});
    await inFlight.retry(
      processes.filter((_, i) => i !== victim).map((process) => process.origin),
    );
  } finally {
    await inFlight.end();
  }
  await Promise.all([mkstatsLoad, honchLoad, migasLoad, ...emitterLoad]);

  const left = {
    mkstats: await drain(async () => {
      const drained = await Promise.all(installs.map((install) => install.flushEvents()));
      return drained.every(Boolean)
        ? 0
        : installs.reduce((sum, install) => sum + install.queueStats().queued, 0);
    }),
    honch: await drain(async () => (await honch.flush({ deadlineMs: 1000 })).remaining),
    migas: await drain(async () => (await migas.flush()).queued),
  };
  const dropped = {
    mkstats: installs.reduce((sum, install) => sum + install.queueStats().dropped, 0),
    honch: honch.queueStats().dropped,
    migas: migas.queueStats().dropped,
  };
  const live = plain.filter((_, i) => i !== victim);
  await until(
    () => live.every((list) => liveAcked.every((message) => list.includes(message))),
    "every live subscriber has every message a live process acknowledged",
  );
  await pause(100);
  await honch.shutdown({ deadlineMs: 1000 });

  // What the database holds, read directly
  const mkstatsStored = await stored(
    databaseUrl,
    `SELECT event AS id, sum(count) AS n FROM edgewire.event_counts WHERE plugin_id = $1
     GROUP BY event`,
    [PLUGIN],
  );
  const honchStored = await stored(
    databaseUrl,
    `SELECT properties::jsonb ->> 'i' AS id, count(*) AS n FROM edgewire.honch_events
     WHERE event = 'cluster_event' GROUP BY 1`,
  );
  const migasStored = await stored(
    databaseUrl,
    `SELECT project_version AS id, count(*) AS n FROM edgewire.migas_breadcrumbs
     WHERE project = $1 GROUP BY 1`,
    [CLUSTER_MIGAS_PROJECT],
  );
  const emitterStored = await stored(
    databaseUrl,
    `SELECT convert_from(payload, 'UTF8') AS id, count(*) AS n FROM edgewire.emitter_messages
     WHERE channel = 'orders/' GROUP BY 1`,
  );
  const once = (ids: Iterable<string>) => new Map([...ids].map((id) => [id, 1]));
  const range = (n: number, name: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => name(i));
  const summary = JSON.stringify({ atKill, left, dropped, balancer });
  if (Deno.env.get("CLUSTER_VERBOSE") === "1") {
    console.log(
      `seed ${seed}: ${summary}, Emitter ${victimAcked.length} acknowledged by the ` +
        `victim, ${liveAcked.length} by live processes`,
    );
  }
  assert.deepEqual(emitterFailures, [], summary);
  assert.deepEqual(left, { mkstats: 0, honch: 0, migas: 0 }, `every queue drained: ${summary}`);
  assert.deepEqual(dropped, { mkstats: 0, honch: 0, migas: 0 }, summary);
  // The kill reached the clients, and the victim had its share of the load
  assert.ok(balancer.failed > 0 && balancer.sent[victim] > 0, summary);
  assert.ok(victimAcked.length >= BEFORE_KILL.emitter, summary);
  // Drained, everything sent was acknowledged: each once, nothing else
  assert.deepEqual(wrong(mkstatsSent, mkstatsStored), [], "mkStats counts");
  assert.deepEqual(
    wrong(once(range(MAX.honch, String)), honchStored),
    [],
    "Honch events",
  );
  assert.deepEqual(
    wrong(once([...range(MAX.migas, (i) => `1.0.${i}`), IN_FLIGHT_VERSION]), migasStored),
    [],
    "migas breadcrumbs",
  );
  for (const message of [...liveAcked, ...victimAcked]) {
    assert.equal(emitterStored.get(message), 1, `${message} stored once`);
  }
  for (const [i, list] of plain.entries()) {
    const got = counts(list);
    assert.deepEqual([...got].filter(([, n]) => n > 1), [], `subscriber ${i}: nothing twice`);
    if (i === victim) continue;
    for (const message of liveAcked) assert.equal(got.get(message), 1, `${i} got ${message}`);
  }
  const groupGot = counts(group.flat());
  assert.deepEqual([...groupGot].filter(([, n]) => n > 1), [], "the share group: nothing twice");
}
