/**
 * What the cluster tests share: starting the server processes
 * (`_cluster_node.ts`), Emitter clients and their subscriptions read into
 * lists, waiting for a condition, and {@linkcode Balancer}, a fetch that
 * spreads HTTP requests over the processes as a round-robin load balancer
 * does, taking a process out once a request to it failed to connect.
 *
 * @module
 */

import { EmitterClient } from "../../src/emitter/client.ts";
import { startChild, type StartedChild } from "../_helpers/runtimes.ts";

const SCRIPT = new URL("./_cluster_node.ts", import.meta.url).pathname;

/** One server process of the cluster. */
export interface ClusterProcess {
  /** The running process. */
  child: StartedChild;
  /** Its HTTP origin, `http://127.0.0.1:<port>`. */
  origin: string;
  /** Its WebSocket base, `ws://127.0.0.1:<port>/`. */
  ws: string;
}

/**
 * Starts `count` server processes, one after the other, with the same settings.
 *
 * @param count How many.
 * @param env The settings of `_cluster_node.ts`.
 * @returns The processes, listening.
 */
export async function startNodes(
  count: number,
  env: Record<string, string>,
): Promise<ClusterProcess[]> {
  const processes: ClusterProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const child = await startChild(Deno.execPath(), ["run", "-A", SCRIPT], {
        env: { ...env, NO_COLOR: "1" },
        ready: /listening (\d+)/,
        timeoutMs: 30_000,
      });
      const port = child.ready[1];
      processes.push({ child, origin: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/` });
    }
  } catch (error) {
    await stopNodes(processes);
    throw error;
  }
  return processes;
}

/**
 * Stops every process still running (SIGTERM) and waits for each to end.
 *
 * @param processes The processes.
 * @returns Once all ended.
 */
export async function stopNodes(processes: ClusterProcess[]): Promise<void> {
  for (const process of processes) {
    try {
      process.child.child.kill("SIGTERM");
    } catch {
      // Killed already
    }
    await process.child.ended;
  }
}

/**
 * Waits until `check` holds, polling every 10 ms.
 *
 * @param check The condition.
 * @param what What is waited for, for the error.
 * @param ms How long at most.
 * @throws {Error} When the time is up.
 */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A connected Emitter client of one process, its errors swallowed (the tests count outcomes).
 *
 * @param process The process.
 * @param random The jitter's random source.
 * @returns The client.
 */
export async function emitterOf(
  process: ClusterProcess,
  random?: () => number,
): Promise<EmitterClient> {
  const client = new EmitterClient({
    endpoint: process.ws,
    timeoutMs: 5000,
    backoff: { initialMs: 20, maxMs: 100 },
    random,
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/**
 * Reads a subscription into a list, in the background.
 *
 * @param subscription The subscription.
 * @returns The list, growing.
 */
export function collect(subscription: AsyncIterable<{ asString(): string }>): string[] {
  const into: string[] = [];
  // A subscription ends, or fails, when its client is closed: what it got is what counts
  (async () => {
    for await (const message of subscription) into.push(message.asString());
  })().catch(() => {});
  return into;
}

/**
 * Counts the occurrences of each value.
 *
 * @param values The values.
 * @returns Each value's count.
 */
export function counts<T>(values: Iterable<T>): Map<T, number> {
  const map = new Map<T, number>();
  for (const value of values) map.set(value, (map.get(value) ?? 0) + 1);
  return map;
}

/**
 * A round-robin load balancer in front of the processes, as a fetch: each
 * request goes to the next process still in rotation, its URL's origin
 * replaced. A request that fails without an answer (the process is gone)
 * takes that process out of rotation and fails as it would behind a real
 * balancer; the client's own retry then goes to another process, with the
 * same idempotency key.
 */
export class Balancer {
  readonly #origins: string[];
  readonly #down = new Set<number>();
  #next = 0;
  /** Requests sent to each process, by index. */
  readonly sent: number[];
  /** Requests that failed without an answer. */
  failed = 0;
  /** The answers other than 2xx, by status and the service's error code. */
  readonly answers: Record<string, number> = {};

  /**
   * Puts the processes behind the balancer.
   *
   * @param origins Their origins.
   */
  constructor(origins: string[]) {
    this.#origins = origins;
    this.sent = origins.map(() => 0);
  }

  /** The fetch to give the clients. */
  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    let index = this.#next++ % this.#origins.length;
    for (let i = 0; i < this.#origins.length && this.#down.has(index); i++) {
      index = (index + 1) % this.#origins.length;
    }
    const url = new URL(request.url);
    const target = new URL(url.pathname + url.search, this.#origins[index]);
    this.sent[index]++;
    try {
      const response = await fetch(new Request(target, request));
      if (response.status >= 300) {
        // The service's error code tells a key still held apart from other refusals
        const body = await response.clone().json().catch(() => undefined);
        const said = body?.error ?? body?.detail;
        const answer = `${response.status}${typeof said === "string" ? ` ${said}` : ""}`;
        this.answers[answer] = (this.answers[answer] ?? 0) + 1;
      }
      return response;
    } catch (error) {
      this.failed++;
      // A connection refused or cut: the process is gone (an abort by the client is not).
      if (!request.signal.aborted) this.#down.add(index);
      throw error;
    }
  };
}

/** The Emitter clients of a cluster: subscribers, share-group members and publishers. */
export interface Mesh {
  /** The client that made the channel keys. */
  keys: EmitterClient;
  /** The channel key of `orders/`. */
  key: string;
  /** What each process's plain subscriber got. */
  plain: string[][];
  /** What each process's share-group member got. */
  group: string[][];
  /** One publisher per process. */
  publishers: EmitterClient[];
  /** Each process's subscriber and share-group member. */
  readers: EmitterClient[][];
  /** Every client, to close. */
  clients: { close(): unknown }[];
}

/**
 * A plain subscriber of `orders/`, a member of its share group `g` and a
 * publisher on every process.
 *
 * @param processes The processes.
 * @param secret The license's master secret, to make the channel keys.
 * @returns The clients and what they receive.
 */
export async function emitterMesh(processes: ClusterProcess[], secret: string): Promise<Mesh> {
  const clients: { close(): unknown }[] = [];
  const keys = await emitterOf(processes[0]);
  clients.push({ close: () => keys.disconnect() });
  const { key } = await keys.keygen({ key: secret, channel: "orders/", type: "rwsl" });
  const share = await keys.keygen({ key: secret, channel: "$share/#/", type: "r" });
  const plain: string[][] = [];
  const group: string[][] = [];
  const publishers: EmitterClient[] = [];
  const readers: EmitterClient[][] = [];
  for (const process of processes) {
    const [subscriber, member, publisher] = await Promise.all(
      [0, 1, 2].map(() => emitterOf(process)),
    );
    for (const client of [subscriber, member, publisher]) {
      clients.push({ close: () => client.disconnect() });
    }
    plain.push(collect(await subscriber.subscribe({ key, channel: "orders/" })));
    group.push(
      collect(await member.subscribeWithGroup({ key: share.key, channel: "orders/", group: "g" })),
    );
    publishers.push(publisher);
    readers.push([subscriber, member]);
  }
  return { keys, key, plain, group, publishers, readers, clients };
}
