/**
 * What remembering an `Idempotency-Key` costs a store, without HTTP or
 * routes: each request claims a fresh key, then counts an mkStats event with
 * the key's answer, as the `/event` route does, 16 requests at a time so the
 * SQLite store groups its commits as under load:
 * `deno run -A bench/idempotency_store_cost.ts [--requests 60000] [--postgres-url <url>]`.
 *
 * Each store runs the same requests with random keys (a UUID, as clients
 * send), with keys that sort in the order they come, without a key (the
 * count alone), and with random keys beyond a total bound of half a pass, so
 * each claim also forgets the oldest key, as on a busy server. Ordered and
 * random keys cost the same once nothing indexes the keys on disk; with a
 * SQLite unique index on them, a random key wrote a random index page to
 * the WAL, and again at each checkpoint. With `--postgres-url <url>` (or
 * `EDGEWIRE_POSTGRES_URL`), `PostgresStore` runs the same rows, each on a
 * fresh schema dropped after it.
 *
 * @module
 */

import process from "node:process";
import { MemoryStore } from "../src/server/mod.ts";
import type { ServerStore } from "../src/server/store.ts";
import { SqliteStore } from "../src/server/sqlite/mod.ts";
import { PostgresStore } from "../src/server/postgres/mod.ts";
import postgres from "postgres";

const requestsArg = Deno.args.indexOf("--requests");
const REQUESTS = requestsArg === -1 ? 60_000 : Number(Deno.args[requestsArg + 1]);
if (!Number.isSafeInteger(REQUESTS) || REQUESTS < 1_600) {
  throw new RangeError(
    `Cannot run the bench as '--requests' must be an integer of at least 1600: current value is ${
      Deno.args[requestsArg + 1]
    }`,
  );
}
const urlArg = Deno.args.indexOf("--postgres-url");
const POSTGRES_URL = urlArg === -1 ? Deno.env.get("EDGEWIRE_POSTGRES_URL") : Deno.args[urlArg + 1];
const CONCURRENT = 16;
const SCOPE = `mkstats\nbench\n${"a".repeat(64)}`;
const FINGERPRINT = "f".repeat(64);
const ANSWER = { status: 200, body: '{"ok":true}' };
const DAY = "2026-11-26";
const WINDOW_MS = 86_400_000;

/** `bounded`: random keys beyond the total bound, so each claim forgets the oldest key. */
type Keys = "random" | "ordered" | "none" | "bounded";

/** The total bound of the `bounded` rows: half a pass, so the measured pass is all beyond it. */
const BOUND = Math.floor(REQUESTS / 2);

let sequence = 0;
function nextKey(keys: Keys): string | undefined {
  if (keys === "none") return undefined;
  sequence++;
  return keys === "ordered" ? `k${String(sequence).padStart(16, "0")}` : crypto.randomUUID();
}

/** One request as the route makes it: a claim, then the count with the key's answer. */
async function request(store: ServerStore, keys: Keys): Promise<void> {
  const key = nextKey(keys);
  const event = { pluginId: "bench", version: "1.0.0", event: "opened", day: DAY, count: 1 };
  if (key === undefined) {
    await store.addEventCount(event, undefined);
    return;
  }
  const now = Date.now();
  const claim = await store.claimIdempotencyKey({
    scope: SCOPE,
    key,
    fingerprint: FINGERPRINT,
    now,
    expiresAt: now + WINDOW_MS,
    leaseExpiresAt: now + 30_000,
    maxPerScope: Number.MAX_SAFE_INTEGER,
    maxTotal: keys === "bounded" ? BOUND : Number.MAX_SAFE_INTEGER,
  });
  if (claim.status !== "claimed") throw new Error(`A fresh key was found held: ${key}`);
  await store.addEventCount(event, { scope: SCOPE, key, answer: ANSWER });
}

async function run(store: ServerStore, keys: Keys, count: number): Promise<[number, number]> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let done = 0; done < count; done += CONCURRENT) {
    await Promise.all(Array.from({ length: CONCURRENT }, () => request(store, keys)));
  }
  const used = process.cpuUsage(cpu);
  return [(performance.now() - started) * 1000 / count, (used.user + used.system) / count];
}

console.log(`${REQUESTS} requests per row, ${CONCURRENT} at a time\n`);
console.log("| store | keys | µs per request | CPU µs per request |");
console.log("| --- | --- | --- | --- |");
const directory = await Deno.makeTempDir({ prefix: "edgewire-idempotency-bench-" });
const kinds = POSTGRES_URL === undefined
  ? ["memory", "sqlite"] as const
  : ["memory", "sqlite", "postgres"] as const;

/** A fresh store of one kind, and how to remove what it left. */
async function open(
  kind: typeof kinds[number],
  keys: Keys,
): Promise<{ store: ServerStore; dispose(): Promise<void> }> {
  if (kind === "memory") return { store: new MemoryStore(), dispose: () => Promise.resolve() };
  if (kind === "sqlite") {
    return {
      store: new SqliteStore(`${directory}/${keys}.sqlite`),
      dispose: () => Promise.resolve(),
    };
  }
  const schema = `edgewire_bench_${keys}_${Date.now().toString(36)}`;
  return {
    store: await PostgresStore.open({ url: POSTGRES_URL!, schema }),
    async dispose() {
      const sql = postgres(POSTGRES_URL!, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => sql.end());
    },
  };
}

try {
  for (const kind of kinds) {
    for (const keys of ["none", "ordered", "random", "bounded"] as const) {
      const { store, dispose } = await open(kind, keys);
      try {
        // A first pass fills the key index, so the measured one inserts into a table of size
        await run(store, keys, REQUESTS);
        const [wall, cpu] = await run(store, keys, REQUESTS);
        const label = keys === "bounded" ? `random, ${BOUND} kept` : keys;
        console.log(`| ${kind} | ${label} | ${wall.toFixed(1)} | ${cpu.toFixed(1)} |`);
      } finally {
        await store.close();
        await dispose();
      }
    }
  }
} finally {
  await Deno.remove(directory, { recursive: true });
}
