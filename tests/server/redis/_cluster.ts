/**
 * Several reference servers in one test process acting as one cluster:
 * each its own `createServer` on its own `Deno.serve` (127.0.0.1, port 0)
 * with its own `RedisBackplane` and its own `SqliteStore` connection to one
 * shared database file, all given the same secret and Emitter license.
 *
 * @module
 */

import { createServer, type EdgewireServer, type ServerOptions } from "../../../src/server/mod.ts";
import { SqliteStore } from "../../../src/server/sqlite/mod.ts";
import { RedisBackplane } from "../../../src/server/redis/mod.ts";
import { newLicense } from "../../../src/emitter/security/license.ts";
import { EmitterClient } from "../../../src/emitter/client.ts";
import type { EmitterMessage } from "../../../src/emitter/message.ts";
import type { EmitterSubscription } from "../../../src/emitter/subscription.ts";

/** One server of the cluster. */
export interface Node {
  readonly server: EdgewireServer;
  readonly backplane: RedisBackplane;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** `ws://127.0.0.1:<port>/`, the Emitter endpoint. */
  readonly emitterUrl: string;
  /** `ws://127.0.0.1:<port>/_websocket`, the Spot endpoint. */
  readonly spotUrl: string;
  /** Closes the server, its listener and its backplane. */
  stop(): Promise<void>;
}

/** The shared settings of one cluster. */
export interface Cluster extends AsyncDisposable {
  readonly nodes: Node[];
  /** The Emitter license's master key, for keygen. */
  readonly secret: string;
  /** Starts one more server in the cluster. */
  add(options?: ServerOptions): Promise<Node>;
}

/**
 * Starts `count` servers on one Redis and one SQLite file.
 *
 * @param redisUrl The Redis.
 * @param prefix The names' prefix in Redis, one per test.
 * @param count How many servers.
 * @param options More server options, for every server.
 * @returns The cluster; dispose of it to stop everything.
 */
export async function startCluster(
  redisUrl: string,
  prefix: string,
  count: number,
  options: ServerOptions = {},
): Promise<Cluster> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cluster.db`;
  const { license, secret } = newLicense();
  const nodes: Node[] = [];
  const add = async (extra: ServerOptions = {}): Promise<Node> => {
    const backplane = await RedisBackplane.connect({ url: redisUrl, keyPrefix: prefix });
    const server = createServer({
      store: new SqliteStore(path),
      backplane,
      secret: "a secret shared by the cluster, 32+ chars",
      ...options,
      ...extra,
      emitter: { license: license.toString(), ...options.emitter, ...extra.emitter },
    });
    const http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request, info) => server.fetch(request, info),
    );
    await server.emitter.ready();
    await server.spot.ready();
    const port = http.addr.port;
    let stopped = false;
    const node: Node = {
      server,
      backplane,
      origin: `http://127.0.0.1:${port}`,
      emitterUrl: `ws://127.0.0.1:${port}/`,
      spotUrl: `ws://127.0.0.1:${port}/_websocket`,
      async stop() {
        if (stopped) return;
        stopped = true;
        await server.close();
        await http.shutdown();
        await backplane.close();
      },
    };
    nodes.push(node);
    return node;
  };
  for (let i = 0; i < count; i++) await add();
  return {
    nodes,
    secret,
    add,
    async [Symbol.asyncDispose]() {
      for (const node of nodes) await node.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * An Emitter client connected to a node.
 *
 * @param node The server.
 * @param username The MQTT user name.
 * @returns The connected client.
 */
export async function emitterClient(node: Node, username?: string): Promise<EmitterClient> {
  const client = new EmitterClient({
    endpoint: node.emitterUrl,
    username,
    timeoutMs: 5000,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.disconnect();
    throw error;
  }
  return client;
}

/**
 * The next message of a subscription, or `undefined` after `ms`.
 *
 * @param subscription The subscription.
 * @param ms How long to wait.
 * @returns The message, or `undefined`.
 */
export async function nextMessage(
  subscription: EmitterSubscription,
  ms = 5000,
): Promise<EmitterMessage | undefined> {
  const iterator = subscription[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) =>
    timer = setTimeout(() => resolve(undefined), ms)
  );
  try {
    const result = await Promise.race([iterator.next(), timeout]);
    return result === undefined || result.done ? undefined : result.value;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until `check` holds, polling every 10 ms.
 *
 * @param check The condition.
 * @param what What is waited for, for the error.
 * @param ms How long at most.
 * @returns Once it holds.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 5000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
