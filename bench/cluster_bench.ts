/**
 * The Emitter broker's publish→deliver throughput when several server
 * processes share a Redis backplane: 1 process alone (the baseline, no
 * backplane), then 1, 2 and 3 processes on one Redis and one SQLite file
 * (`tests/e2e/_cluster_node.ts`). Every run has the same load: one
 * publisher per process and `SUBSCRIBERS` subscribers spread round-robin
 * over the processes, 100-byte QoS 0 messages on one channel, with at most
 * `WINDOW` messages per publisher not yet delivered to every subscriber.
 * The figure is deliveries per second and its ratio to the baseline; on a
 * small machine the clients (all in this process) and Redis share the
 * cores with the servers, so the ratios say more than the absolute figures.
 *
 * `deno run -A bench/cluster_bench.ts [--quick]` (needs `redis-server`, or
 * `EDGEWIRE_REDIS_URL`).
 *
 * @module
 */

import { newLicense } from "../src/emitter/security/license.ts";
import { EmitterClient } from "../src/emitter/client.ts";
import { startChild, type StartedChild } from "../tests/_helpers/runtimes.ts";
import { startRedis } from "../tests/_helpers/redis.ts";

const QUICK = Deno.args.includes("--quick");
const SUBSCRIBERS = 6;
const DELIVERIES = QUICK ? 30_000 : 120_000;
const WINDOW = 64;
const TIME_LIMIT_MS = 60_000;
const SCRIPT = new URL("../tests/e2e/_cluster_node.ts", import.meta.url).pathname;

interface RunResult {
  label: string;
  deliveries: number;
  seconds: number;
  perSecond: number;
}

async function startProcesses(
  count: number,
  redisUrl: string,
  prefix: string,
  dir: string,
  license: string,
): Promise<StartedChild[]> {
  const started: StartedChild[] = [];
  for (let i = 0; i < count; i++) {
    started.push(
      await startChild(Deno.execPath(), ["run", "-A", SCRIPT], {
        env: {
          EDGEWIRE_REDIS_URL: redisUrl,
          CLUSTER_PREFIX: prefix,
          CLUSTER_DB: `${dir}/bench.db`,
          CLUSTER_LICENSE: license,
          CLUSTER_ADMIN_KEY: "bench-admin-key",
          CLUSTER_HONCH_KEY: "bench-honch-key",
          NO_COLOR: "1",
        },
        ready: /listening (\d+)/,
        timeoutMs: 30_000,
      }),
    );
  }
  return started;
}

async function connect(port: string): Promise<EmitterClient> {
  const client = new EmitterClient({
    endpoint: `ws://127.0.0.1:${port}/`,
    timeoutMs: 10_000,
    maxQueuedEvents: 100_000,
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function run(
  label: string,
  count: number,
  redisUrl: string,
  prefix: string,
): Promise<RunResult> {
  const dir = await Deno.makeTempDir();
  const { license, secret } = newLicense();
  const processes = await startProcesses(count, redisUrl, prefix, dir, license.toString());
  const ports = processes.map((p) => p.ready[1]);
  const clients: EmitterClient[] = [];
  try {
    const publishers = await Promise.all(ports.map(connect));
    clients.push(...publishers);
    const { key } = await publishers[0].keygen({ key: secret, channel: "bench/", type: "rw" });
    let delivered = 0;
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const subscriber = await connect(ports[i % ports.length]);
      clients.push(subscriber);
      const subscription = await subscriber.subscribe({ key, channel: "bench/" });
      void (async () => {
        for await (const _ of subscription) delivered++;
      })();
    }
    // Let every process learn every subscription
    await new Promise((resolve) => setTimeout(resolve, 300));
    const payload = new Uint8Array(100);
    const messages = Math.ceil(DELIVERIES / SUBSCRIBERS);
    const perPublisher = Math.ceil(messages / publishers.length);
    let sent = 0;
    const started = performance.now();
    const deadline = started + TIME_LIMIT_MS;
    await Promise.all(publishers.map(async (publisher) => {
      for (let i = 0; i < perPublisher && performance.now() < deadline; i++) {
        while ((sent - delivered / SUBSCRIBERS) > WINDOW * publishers.length) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (performance.now() > deadline) return;
        }
        sent++;
        await publisher.publish({ key, channel: "bench/", message: payload });
      }
    }));
    while (delivered < sent * SUBSCRIBERS && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const seconds = (performance.now() - started) / 1000;
    return { label, deliveries: delivered, seconds, perSecond: delivered / seconds };
  } finally {
    for (const client of clients) await client.disconnect();
    for (const process of processes) {
      process.child.kill("SIGTERM");
      await process.ended;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function main(): Promise<void> {
  await using redis = await startRedis();
  const results: RunResult[] = [];
  results.push(await run("1 process, no backplane", 1, "", redis.prefix));
  for (const count of [1, 2, 3]) {
    const label = `${count} process${count > 1 ? "es" : ""}, Redis backplane`;
    results.push(await run(label, count, redis.url, `${redis.prefix}${count}:`));
  }
  const baseline = results[0].perSecond;
  console.log(
    `Emitter publish→deliver, ${SUBSCRIBERS} subscribers, 100-byte QoS 0 messages` +
      `, ${DELIVERIES} deliveries per run`,
  );
  console.log("| run | deliveries/s | ratio to 1 process alone |");
  console.log("| --- | ---: | ---: |");
  for (const result of results) {
    console.log(
      `| ${result.label} | ${Math.round(result.perSecond)} | ${
        (result.perSecond / baseline).toFixed(2)
      } |`,
    );
  }
}

if (import.meta.main) await main();
