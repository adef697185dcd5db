/**
 * Ingest throughput of the reference server against an anchor, measured with
 * `wrk` (Debian's package) at 16 connections:
 * `deno run -A bench/ingest_bench.ts [--seconds 10] [--soak 60] [--store sqlite,postgres]`.
 *
 * One process serves the real server on each store asked for (`sqlite`, a
 * file, by default; `memory`; `postgres`, on a fresh schema of the database
 * at `--postgres-url` or `EDGEWIRE_POSTGRES_URL`, dropped at the end) and,
 * beside it, the anchor: a bare Hono route that parses the same JSON body
 * and stores nothing. Each route runs right after an anchor run with the
 * same body, in the same process, so a ratio compares like with like even as
 * the machine's speed drifts. The recording routes run twice: with a fresh
 * `Idempotency-Key` per request, as Edgewire's clients send, and without,
 * as the services' own clients send; Honch
 * sends binary frames of 50 events (the wire's most per message), each with
 * its own message id so none is a duplicate. The rate limits are raised, as
 * the point is the ingest path, not the limiter. `--soak S` adds a run of
 * `S` seconds in slices of 10 against mkStats `/event`, printing each
 * slice's rate and the process's RSS, to show no drop and no growth.
 *
 * @module
 */

import { Hono } from "hono";
import { createServer } from "../src/server/mod.ts";
import postgres from "postgres";
import { MemoryStore, type ServerStore } from "../src/server/mod.ts";
import { SqliteStore } from "../src/server/sqlite/mod.ts";
import { PostgresStore } from "../src/server/postgres/mod.ts";
import {
  benchArgs,
  format,
  HONCH_EVENTS,
  honchScript as honchScriptOf,
  installEventBody,
  jsonScript,
  runWrk,
  type WrkResult,
} from "./_wrk.ts";

const args = benchArgs({
  soak: { type: "string", default: "0" },
  only: { type: "string" },
  store: { type: "string", default: "sqlite" },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const SOAK = Number(args.soak);
const PROJECT_KEY = "phc_bench";
const honchScript = () => honchScriptOf(PROJECT_KEY);
const LIMITS = { capacity: 1e9, refillPerSecond: 1e9 };

const directory = await Deno.makeTempDir({ prefix: "edgewire-ingest-" });

/** A store to measure, and how to remove what the run left in it. */
interface BenchStore {
  store: ServerStore;
  dispose(): Promise<void>;
}

async function openStore(kind: string): Promise<BenchStore> {
  if (kind === "memory") return { store: new MemoryStore(), dispose: () => Promise.resolve() };
  if (kind === "sqlite") {
    return {
      store: new SqliteStore(`${directory}/bench.sqlite`),
      dispose: () => Promise.resolve(),
    };
  }
  if (kind === "postgres") {
    const url = args["postgres-url"] ?? Deno.env.get("EDGEWIRE_POSTGRES_URL");
    if (url === undefined) {
      throw new Error("Give --postgres-url or EDGEWIRE_POSTGRES_URL for --store postgres");
    }
    const sql = postgres(url, { max: 10, onnotice: () => {} });
    const schema = `ingest_bench_${Date.now()}`;
    const store = await PostgresStore.open({ sql, schema });
    return {
      store,
      async dispose() {
        await sql.unsafe(`DROP SCHEMA ${schema} CASCADE`);
        await sql.end();
      },
    };
  }
  throw new Error(`Unknown --store ${kind}: use sqlite, memory or postgres`);
}

const anchor = new Hono();
anchor.post("/anchor", async (c) => {
  const body = await c.req.json();
  return c.json({ ok: typeof body === "object" });
});

/** One store's server, listening beside the anchor, with an install ready to send events. */
interface Target {
  base: string;
  eventBody: string;
  close(): Promise<void>;
}

async function openTarget(kind: string): Promise<Target> {
  const { store, dispose } = await openStore(kind);
  const server = createServer({
    store,
    difficulty: 1,
    rateLimit: { install: LIMITS, address: LIMITS },
    honch: { projectKeys: [PROJECT_KEY], rateLimit: LIMITS },
    migas: {
      projects: [{ project: "acme/tool", latestVersion: "1.2.0" }],
      rateLimit: { windowMs: 60_000, maxRequests: Infinity },
    },
    // Every bench request comes through one install and one project, whose scope would
    // otherwise hold 1,000 keys; the total keeps its default of 100,000, so a long run
    // forgets the oldest key at each claim, as a busy server does.
    idempotencyMaxKeysPerScope: 1e9,
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request, info) => {
    if (new URL(request.url).pathname === "/anchor") return anchor.fetch(request);
    return server.fetch(request, { remoteAddr: info.remoteAddr });
  });
  const base = `http://127.0.0.1:${http.addr.port}`;
  const close = async () => {
    await http.shutdown();
    await server.close();
    await dispose();
  };
  try {
    return { base, eventBody: await installEventBody(base), close };
  } catch (error) {
    await close();
    throw error;
  }
}

const crumbBody = JSON.stringify({
  project: "acme/tool",
  project_version: "1.1.0",
  language: "python",
  language_version: "3.12.1",
  platform: "linux",
  container: "docker",
  is_ci: false,
});

/** One `wrk` run at this bench's load against one route of `target`. */
function wrk(target: Target, path: string, script: string, seconds: number): Promise<WrkResult> {
  return runWrk({
    url: target.base + path,
    script,
    seconds,
    connections: CONNECTIONS,
    threads: 2,
    directory,
  });
}

/** Serves one route's load alone, for a profiler: `--only /api/v1/event`. */
async function only(target: Target, path: string): Promise<void> {
  const script = path === "/capture"
    ? honchScript()
    : jsonScript(path === "/api/breadcrumb" ? crumbBody : target.eventBody, path !== "/anchor");
  const result = await wrk(target, path, script, SECONDS);
  console.log(`${path}: ${format(result.perSecond)} requests/s, ${result.failures} failures`);
}

const STORE_NAMES: Record<string, string> = {
  sqlite: "SQLite file store",
  memory: "MemoryStore",
  postgres: "Postgres store (local server, 10 connections)",
};

/** Every row of one store, the anchors beside their routes, then the soak when asked. */
async function table(target: Target, kind: string): Promise<void> {
  const { eventBody } = target;
  const run = (path: string, script: string, seconds = SECONDS) =>
    wrk(target, path, script, seconds);
  // A short warm-up of every route, so the JIT and the store's caches are not what is measured.
  await run("/anchor", jsonScript(eventBody, false), 2);
  await run("/api/v1/event", jsonScript(eventBody, true), 2);
  await run("/api/breadcrumb", jsonScript(crumbBody, true), 2);
  await run("/capture", honchScript(), 2);

  // Each route runs right after its own anchor, so a drift of the machine's speed over the
  // run moves both sides of a ratio alike.
  const rows: { name: string; path: string; script: string; events: number; anchor?: string }[] = [
    {
      name: "mkStats POST /api/v1/event",
      path: "/api/v1/event",
      script: jsonScript(eventBody, true),
      events: 1,
      anchor: eventBody,
    },
    {
      name: "mkStats POST /api/v1/event, no Idempotency-Key",
      path: "/api/v1/event",
      script: jsonScript(eventBody, false),
      events: 1,
      anchor: eventBody,
    },
    {
      name: "migas POST /api/breadcrumb",
      path: "/api/breadcrumb",
      script: jsonScript(crumbBody, true),
      events: 1,
      anchor: crumbBody,
    },
    {
      name: "migas POST /api/breadcrumb, no Idempotency-Key",
      path: "/api/breadcrumb",
      script: jsonScript(crumbBody, false),
      events: 1,
      anchor: crumbBody,
    },
    {
      name: `Honch POST /capture (${HONCH_EVENTS}-event frames)`,
      path: "/capture",
      script: honchScript(),
      events: HONCH_EVENTS,
    },
  ];
  const results = [];
  for (const row of rows) {
    const anchor = row.anchor === undefined
      ? undefined
      : await run("/anchor", jsonScript(row.anchor, false));
    results.push({ row, anchor, result: await run(row.path, row.script) });
  }

  console.log(`\nwrk, ${CONNECTIONS} connections, ${SECONDS} s per row, ${STORE_NAMES[kind]}\n`);
  console.log(
    "| route | requests/s | events/s | failures | its anchor, requests/s | against the anchor |",
  );
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const { row, anchor, result } of results) {
    const ratio = anchor === undefined
      ? "—"
      : `${(result.perSecond / anchor.perSecond).toFixed(2)}×`;
    console.log(
      `| ${row.name} | ${format(result.perSecond)} | ${
        format(result.perSecond * row.events)
      } | ${result.failures} | ${
        anchor === undefined ? "—" : format(anchor.perSecond)
      } | ${ratio} |`,
    );
  }

  if (SOAK > 0) {
    console.log(`\nSoak: mkStats /api/v1/event for ${SOAK} s in slices of 10 s\n`);
    console.log("| slice | requests/s | failures | RSS MiB |");
    console.log("| --- | --- | --- | --- |");
    const mib = () => (Deno.memoryUsage().rss / 2 ** 20).toFixed(1);
    console.log(`| start | — | — | ${mib()} |`);
    for (let slice = 1; slice <= Math.ceil(SOAK / 10); slice++) {
      const result = await run("/api/v1/event", jsonScript(eventBody, true), 10);
      console.log(`| ${slice} | ${format(result.perSecond)} | ${result.failures} | ${mib()} |`);
    }
  }
}

try {
  for (const kind of args.store.split(",")) {
    const target = await openTarget(kind);
    try {
      await (args.only === undefined ? table(target, kind) : only(target, args.only));
    } finally {
      await target.close();
    }
  }
} finally {
  await Deno.remove(directory, { recursive: true });
}
