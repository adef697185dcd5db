/**
 * Ingest throughput of the reference server against an anchor, measured with
 * `wrk` (Debian's package) at 16 connections:
 * `deno run -A bench/ingest_bench.ts [--seconds 10] [--soak 60] [--store sqlite,postgres]`.
 *
 * One process serves the real server on each store asked for (`sqlite`, a
 * file, by default; `memory`; `postgres`, on a fresh schema of the database
 * at `--postgres-url` or `EDGEWIRE_POSTGRES_URL`, dropped at the end) and,
 * beside it, the anchor: a bare Hono route that parses the same JSON body
 * and stores nothing. Each row is one `wrk` run against one route, in the same run, so
 * the ratios compare like with like on the same machine. Every recording
 * request carries a fresh `Idempotency-Key`, as the clients send one; Honch
 * sends binary frames of 50 events (the wire's most per message), each with
 * its own message id so none is a duplicate. The rate limits are raised, as
 * the point is the ingest path, not the limiter. `--soak S` adds a run of
 * `S` seconds in slices of 10 against mkStats `/event`, printing each
 * slice's rate and the process's RSS, to show no drop and no growth.
 *
 * @module
 */

import { Hono } from "hono";
import { parseArgs } from "node:util";
import { createServer } from "../src/server/mod.ts";
import postgres from "postgres";
import { MemoryStore, type ServerStore } from "../src/server/mod.ts";
import { SqliteStore } from "../src/server/sqlite/mod.ts";
import { PostgresStore } from "../src/server/postgres/mod.ts";
import { solvePow } from "../src/pow/mod.ts";
import { encodeMessage } from "../src/honch/wire_v2.ts";
import { encodeFrames } from "../src/honch/frame_encoder.ts";
import { deviceBatch } from "./_honch_batch.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
    soak: { type: "string", default: "0" },
    only: { type: "string" },
    store: { type: "string", default: "sqlite" },
    "postgres-url": { type: "string" },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const SOAK = Number(args.soak);
const HONCH_EVENTS = 50;
const PROJECT_KEY = "phc_bench";
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
    idempotencyMaxKeysPerScope: 1e9,
    idempotencyMaxKeys: 1e9,
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

async function postJson(
  base: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Handshakes and pings as the mkStats client does before its first event; its event body. */
async function installEventBody(base: string): Promise<string> {
  const identity = {
    plugin_id: "bench",
    version: "1.0.0",
    client_name: "exteraGram",
    client_version: "12.3.1",
    user_hash: "a".repeat(64),
    device_fingerprint: "b".repeat(64),
  };
  const challenge = await postJson(base, "/api/v1/handshake", identity);
  const { nonce } = await solvePow(
    challenge.pow_challenge as string,
    challenge.pow_difficulty as number,
  );
  const installed = await postJson(base, "/api/v1/handshake", {
    ...identity,
    pow_challenge: challenge.pow_challenge,
    pow_nonce: nonce,
  });
  const token = installed.install_token as string;
  await postJson(base, "/api/v1/data", { ...identity, install_token: token, timestamp: 1 });
  return JSON.stringify({
    ...identity,
    install_token: token,
    timestamp: 1_700_000_000_000,
    event: "message_sent",
    count: 1,
  });
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

// A single frame is [header][message id as a varint][payload][CRC]: the CRC covers the
// payload only, so wrk can give each request its own id around the same bytes.
const message = encodeMessage(deviceBatch(HONCH_EVENTS));
const FIRST_ID = 2 ** 21; // four varint bytes from here to 2^28
const [frame] = encodeFrames(message, { messageId: FIRST_ID, maxFrameBytes: 65_536 });
const frameHead = frame.subarray(0, 1);
const frameTail = frame.subarray(1 + 4);

/** `bytes` as a Lua string literal of decimal escapes. */
function luaBytes(bytes: Uint8Array): string {
  return `"${Array.from(bytes, (byte) => `\\${byte}`).join("")}"`;
}

function luaString(text: string): string {
  return luaBytes(new TextEncoder().encode(text));
}

// Each wrk thread numbers its requests from its own offset, and each run from its own base:
// every key and message id of a run is new, so no request of a later run is a replay.
function luaCommon(base: number, stride: number): string {
  return `
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", ${base} + threads * ${stride})
  -- "offset" is a global of that thread's own Lua state
end
function done(summary, latency, requests)
  local s = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    s.status, s.connect + s.read + s.write, s.timeout))
end
`;
}

let jsonRuns = 0;
function jsonScript(body: string, keyed: boolean): string {
  jsonRuns += 1;
  return `${luaCommon(jsonRuns * 100_000_000, 10_000_000)}
local body = ${luaString(body)}
function request()
  counter = counter + 1
  local headers = { ["Content-Type"] = "application/json" }
  ${keyed ? 'headers["Idempotency-Key"] = "k" .. (offset + counter)' : ""}
  return wrk.format("POST", nil, headers, body)
end
`;
}

// Message ids stay four varint bytes (below 2^28): 20 runs of 2 threads of up to 5M requests.
const HONCH_RUN_IDS = 12_000_000;
let honchRuns = 0;
function honchScript(): string {
  if (honchRuns === 20) throw new Error("Out of four-byte Honch message ids: fewer runs, please");
  const base = FIRST_ID + honchRuns * HONCH_RUN_IDS;
  honchRuns += 1;
  return `${luaCommon(base, 5_000_000)}
local head = ${luaBytes(frameHead)}
local tail = ${luaBytes(frameTail)}
local function varint4(n)
  local out = {}
  for i = 1, 3 do
    out[i] = string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  out[4] = string.char(n)
  return table.concat(out)
end
function request()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/vnd.honch.chunk",
    ["X-Honch-Project-Key"] = "${PROJECT_KEY}",
  }
  return wrk.format("POST", nil, headers, head .. varint4(offset + counter) .. tail)
end
`;
}

interface WrkResult {
  requests: number;
  seconds: number;
  perSecond: number;
  failures: number;
}

async function wrk(
  target: Target,
  path: string,
  script: string,
  seconds: number,
): Promise<WrkResult> {
  const file = `${directory}/script.lua`;
  await Deno.writeTextFile(file, script);
  const output = await new Deno.Command("wrk", {
    args: [
      "-t",
      "2",
      "-c",
      String(CONNECTIONS),
      "-d",
      `${seconds}s`,
      "-s",
      file,
      target.base + path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const line = text.split("\n").find((row) => row.startsWith("RESULT "));
  if (!output.success || line === undefined) {
    throw new Error(`wrk failed: ${text}${new TextDecoder().decode(output.stderr)}`);
  }
  const [requests, micros, status, socket, timeouts] = line.split(" ").slice(1).map(Number);
  return {
    requests,
    seconds: micros / 1e6,
    perSecond: requests / (micros / 1e6),
    failures: status + socket + timeouts,
  };
}

const format = (value: number) => Math.round(value).toLocaleString("en-US");

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

  const anchorEvent = await run("/anchor", jsonScript(eventBody, false));
  const event = await run("/api/v1/event", jsonScript(eventBody, true));
  const eventUnkeyed = await run("/api/v1/event", jsonScript(eventBody, false));
  const anchorCrumb = await run("/anchor", jsonScript(crumbBody, false));
  const crumb = await run("/api/breadcrumb", jsonScript(crumbBody, true));
  const honch = await run("/capture", honchScript());

  console.log(`\nwrk, ${CONNECTIONS} connections, ${SECONDS} s per row, ${STORE_NAMES[kind]}\n`);
  console.log("| route | requests/s | events/s | failures | against the anchor |");
  console.log("| --- | --- | --- | --- | --- |");
  const row = (name: string, result: WrkResult, events: number, anchorResult?: WrkResult) =>
    console.log(
      `| ${name} | ${format(result.perSecond)} | ${
        format(result.perSecond * events)
      } | ${result.failures} | ${
        anchorResult === undefined
          ? "—"
          : `${(result.perSecond / anchorResult.perSecond).toFixed(2)}×`
      } |`,
    );
  row("anchor (mkStats event body)", anchorEvent, 1);
  row("mkStats POST /api/v1/event", event, 1, anchorEvent);
  row("mkStats POST /api/v1/event, no Idempotency-Key", eventUnkeyed, 1, anchorEvent);
  row("anchor (migas breadcrumb body)", anchorCrumb, 1);
  row("migas POST /api/breadcrumb", crumb, 1, anchorCrumb);
  row(`Honch POST /capture (${HONCH_EVENTS}-event frames)`, honch, HONCH_EVENTS);

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
