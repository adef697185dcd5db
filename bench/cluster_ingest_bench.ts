/**
 * HTTP ingest throughput of 1, 2 and 3 server processes
 * (`tests/e2e/_cluster_node.ts`) on one PostgreSQL database and one Redis:
 * mkStats events, each with a fresh `Idempotency-Key`, and Honch binary
 * frames of 50 events, each with its own message id (the scripts of
 * `bench/_wrk.ts`). The requests are spread over the processes by running
 * one `wrk` per process at once, the connections split evenly (the same
 * total in every row), and summed; the ratio is to the 1-process row. The
 * database is a fresh one per row, on the PostgreSQL at `--postgres-url` or
 * `EDGEWIRE_POSTGRES_URL`, else a throwaway server started like the tests'
 * (`tests/_helpers/postgres.ts`); Redis is `EDGEWIRE_REDIS_URL` or a
 * throwaway `redis-server`. On a small machine the servers, PostgreSQL,
 * Redis and wrk share the cores, so the ratios say how the work spreads on
 * that machine, not what more machines would add.
 *
 * `deno run -A bench/cluster_ingest_bench.ts [--seconds 10] [--connections 16] [--processes 1,2,3]`
 *
 * @module
 */

import { newLicense } from "../src/emitter/security/license.ts";
import { startRedis } from "../tests/_helpers/redis.ts";
import { locatePostgres, onPostgres, startPostgres } from "../tests/_helpers/postgres.ts";
import { type ClusterProcess, startNodes, stopNodes } from "../tests/e2e/_cluster.ts";
import {
  benchArgs,
  format,
  HONCH_EVENTS,
  honchScript,
  installEventBody,
  jsonScript,
  runWrk,
  type WrkResult,
} from "./_wrk.ts";

const args = benchArgs({ processes: { type: "string", default: "1,2,3" } });
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const COUNTS = args.processes.split(",").map(Number);
const HONCH_KEY = "phc_cluster_bench";

/** The summed outcome of one wrk per process, run at once. */
interface Spread {
  perSecond: number;
  failures: number;
  /** Each process's requests per second. */
  each: number[];
}

/** Runs one wrk per process at once, `CONNECTIONS` split evenly, and sums them. */
async function spread(
  processes: ClusterProcess[],
  path: string,
  script: () => string,
  seconds: number,
  directory: string,
): Promise<Spread> {
  const n = processes.length;
  const results: WrkResult[] = await Promise.all(processes.map((process, i) => {
    const connections = Math.floor(CONNECTIONS / n) + (i < CONNECTIONS % n ? 1 : 0);
    return runWrk({
      url: process.origin + path,
      script: script(),
      seconds,
      connections,
      // Two wrk threads in all whenever the processes are fewer than that
      threads: n === 1 ? 2 : 1,
      directory,
    });
  }));
  return {
    perSecond: results.reduce((sum, result) => sum + result.perSecond, 0),
    failures: results.reduce((sum, result) => sum + result.failures, 0),
    each: results.map((result) => result.perSecond),
  };
}

interface Row {
  processes: number;
  event: Spread;
  honch: Spread;
}

async function measure(
  count: number,
  databaseUrl: string,
  redis: { url: string; prefix: string },
  directory: string,
): Promise<Row> {
  const { license } = newLicense();
  const processes = await startNodes(count, {
    EDGEWIRE_REDIS_URL: redis.url,
    CLUSTER_PREFIX: `${redis.prefix}${count}:`,
    CLUSTER_DATABASE_URL: databaseUrl,
    CLUSTER_LICENSE: license.toString(),
    CLUSTER_ADMIN_KEY: "cluster-bench-admin-key",
    CLUSTER_HONCH_KEY: HONCH_KEY,
  });
  try {
    // One install, made through the first process, sends from all of them: its token is shared.
    const eventBody = await installEventBody(processes[0].origin);
    const event = () => jsonScript(eventBody, true);
    const honch = () => honchScript(HONCH_KEY);
    // A short warm-up of both routes on every process: the JIT and the pools.
    await spread(processes, "/api/v1/event", event, 2, directory);
    await spread(processes, "/capture", honch, 2, directory);
    return {
      processes: count,
      event: await spread(processes, "/api/v1/event", event, SECONDS, directory),
      honch: await spread(processes, "/capture", honch, SECONDS, directory),
    };
  } finally {
    await stopNodes(processes);
  }
}

async function main(): Promise<void> {
  const directory = await Deno.makeTempDir({ prefix: "edgewire-cluster-ingest-" });
  const external = args["postgres-url"] ?? Deno.env.get("EDGEWIRE_POSTGRES_URL");
  const postgres = external === undefined ? await startPostgres(locatePostgres()) : undefined;
  const adminUrl = external ?? postgres!.url;
  const urlOf = (database: string) => {
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    return url.href;
  };
  await using redis = await startRedis();
  const rows: Row[] = [];
  try {
    for (const count of COUNTS) {
      const database = `cluster_ingest_${count}_${Date.now()}`;
      await onPostgres(adminUrl, (sql) => sql.unsafe(`CREATE DATABASE ${database}`));
      try {
        rows.push(await measure(count, urlOf(database), redis, directory));
      } finally {
        await onPostgres(adminUrl, (sql) => sql.unsafe(`DROP DATABASE ${database} WITH (FORCE)`));
      }
    }
  } finally {
    await postgres?.stop();
    await Deno.remove(directory, { recursive: true }).catch(() => {});
  }
  const base = rows.find((row) => row.processes === 1) ?? rows[0];
  console.log(
    `\nwrk, ${CONNECTIONS} connections in all split over the processes, ${SECONDS} s per row, ` +
      `one PostgreSQL database and one Redis, ${navigator.hardwareConcurrency} cores\n`,
  );
  console.log(
    "| processes | mkStats keyed events/s | ratio | Honch frames/s | Honch events/s | ratio | failures | per process (events/s; frames/s) |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const row of rows) {
    console.log(
      `| ${row.processes} | ${format(row.event.perSecond)} | ${
        (row.event.perSecond / base.event.perSecond).toFixed(2)
      }× | ${format(row.honch.perSecond)} | ${format(row.honch.perSecond * HONCH_EVENTS)} | ${
        (row.honch.perSecond / base.honch.perSecond).toFixed(2)
      }× | ${row.event.failures + row.honch.failures} | ${row.event.each.map(format).join(", ")}; ${
        row.honch.each.map(format).join(", ")
      } |`,
    );
  }
}

if (import.meta.main) await main();
