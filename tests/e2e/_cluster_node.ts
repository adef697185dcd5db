/**
 * One server process of the cluster tests: `createServer` on 127.0.0.1,
 * port 0, with a store and a Redis backplane shared with its siblings (none
 * when EDGEWIRE_REDIS_URL is empty). The store is PostgreSQL when
 * CLUSTER_DATABASE_URL is set, else a SQLite file at CLUSTER_DB. Prints
 * `listening <port>` once it serves; stops on SIGTERM. The rate limits are
 * raised (the point is the cluster, not the limiter); mkStats' proof of work
 * is at difficulty 1; the migas project `acme/cluster` is registered.
 * `bench/cluster_bench.ts` and `bench/cluster_ingest_bench.ts` run it too.
 * Settings come from the environment: EDGEWIRE_REDIS_URL, CLUSTER_PREFIX,
 * CLUSTER_DATABASE_URL or CLUSTER_DB, CLUSTER_LICENSE, CLUSTER_ADMIN_KEY,
 * CLUSTER_HONCH_KEY.
 *
 * @module
 */

import { createServer, type ServerStore } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { PostgresStore } from "../../src/server/postgres/mod.ts";
import { RedisBackplane } from "../../src/server/redis/mod.ts";

const env = (name: string): string => {
  const value = Deno.env.get(name);
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

/** The migas project every node registers. */
export const CLUSTER_MIGAS_PROJECT = "acme/cluster";

const LIMITS = { capacity: 1e9, refillPerSecond: 1e9 };

if (import.meta.main) {
  // An empty URL runs the process alone, without a backplane (the bench's baseline)
  const redisUrl = env("EDGEWIRE_REDIS_URL");
  const backplane = redisUrl === ""
    ? undefined
    : await RedisBackplane.connect({ url: redisUrl, keyPrefix: env("CLUSTER_PREFIX") });
  const databaseUrl = Deno.env.get("CLUSTER_DATABASE_URL");
  const store: ServerStore = databaseUrl
    ? await PostgresStore.open({ url: databaseUrl })
    : new SqliteStore(env("CLUSTER_DB"));
  const server = createServer({
    store,
    backplane,
    secret: "a secret shared by the cluster, 32+ chars",
    adminKey: env("CLUSTER_ADMIN_KEY"),
    difficulty: 1,
    honch: { projectKeys: [env("CLUSTER_HONCH_KEY")], rateLimit: LIMITS },
    rateLimit: { address: LIMITS, install: LIMITS },
    migas: {
      projects: [{ project: CLUSTER_MIGAS_PROJECT, latestVersion: "1.0.0" }],
      rateLimit: { windowMs: 60_000, maxRequests: Infinity },
    },
    idempotencyMaxKeysPerScope: 1e9,
    idempotencyMaxKeys: 1e9,
    emitter: { license: env("CLUSTER_LICENSE") },
  });
  await server.emitter.ready();
  await server.spot.ready();
  const http = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.log(`listening ${port}`),
  }, (request, info) => server.fetch(request, info));
  Deno.addSignalListener("SIGTERM", async () => {
    await server.close();
    await http.shutdown();
    await backplane?.close();
    Deno.exit(0);
  });
}
