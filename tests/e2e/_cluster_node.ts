/**
 * One server process of the cluster test: `createServer` on 127.0.0.1,
 * port 0, with a SQLite file store and a Redis backplane shared with its
 * siblings (none when EDGEWIRE_REDIS_URL is empty). Prints `listening <port>`
 * once it serves; stops on SIGTERM. `bench/cluster_bench.ts` runs it too.
 * Settings come from the environment: EDGEWIRE_REDIS_URL, CLUSTER_PREFIX,
 * CLUSTER_DB, CLUSTER_LICENSE, CLUSTER_ADMIN_KEY, CLUSTER_HONCH_KEY.
 *
 * @module
 */

import { createServer } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { RedisBackplane } from "../../src/server/redis/mod.ts";

const env = (name: string): string => {
  const value = Deno.env.get(name);
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

// An empty URL runs the process alone, without a backplane (the bench's baseline)
const redisUrl = env("EDGEWIRE_REDIS_URL");
const backplane = redisUrl === ""
  ? undefined
  : await RedisBackplane.connect({ url: redisUrl, keyPrefix: env("CLUSTER_PREFIX") });
const server = createServer({
  store: new SqliteStore(env("CLUSTER_DB")),
  backplane,
  secret: "a secret shared by the cluster, 32+ chars",
  adminKey: env("CLUSTER_ADMIN_KEY"),
  honch: { projectKeys: [env("CLUSTER_HONCH_KEY")], rateLimit: { capacity: 100_000 } },
  rateLimit: { address: { capacity: 100_000 } },
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
