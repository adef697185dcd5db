/**
 * What the ingest benches share to drive the reference server with `wrk`
 * (Debian's package): the Lua scripts that give every request of a run a new
 * `Idempotency-Key` or Honch message id (so no request is a replay), one
 * `wrk` run read back as numbers, and an mkStats install made ready to send
 * events (handshake, proof of work, first ping), and the command line's
 * options both benches take. Used by
 * `bench/ingest_bench.ts` and `bench/cluster_ingest_bench.ts`.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { solvePow } from "../src/pow/mod.ts";
import { encodeMessage } from "../src/honch/wire_v2.ts";
import { encodeFrames } from "../src/honch/frame_encoder.ts";
import { deviceBatch } from "./_honch_batch.ts";

/** The events in each Honch frame the scripts send: the wire's most per message. */
export const HONCH_EVENTS = 50;

/** The options every ingest bench takes: `--seconds`, `--connections` and `--postgres-url`. */
const WRK_OPTIONS = {
  seconds: { type: "string", default: "10" },
  connections: { type: "string", default: "16" },
  "postgres-url": { type: "string" },
} as const;

/** A bench's command line read: the options every ingest bench takes and its own `T`. */
export type BenchArgs<T extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: typeof WRK_OPTIONS & T }>
>["values"];

/**
 * Reads a bench's command line: the options every ingest bench takes and its own.
 *
 * @param options The bench's own options.
 * @returns The values, by option name.
 */
export function benchArgs<const T extends ParseArgsOptionsConfig>(options: T): BenchArgs<T> {
  return parseArgs({ args: Deno.args, options: { ...WRK_OPTIONS, ...options } })
    .values as BenchArgs<T>;
}

/** One `wrk` run's outcome. */
export interface WrkResult {
  /** Requests completed. */
  requests: number;
  /** How long the run took, in seconds. */
  seconds: number;
  /** Requests per second. */
  perSecond: number;
  /** Answers other than 2xx or 3xx, socket errors and timeouts. */
  failures: number;
}

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
/**
 * A script POSTing `body` as JSON, with a fresh `Idempotency-Key` per request when `keyed`.
 * Every call numbers its keys apart from every other call of this process.
 *
 * @param body The JSON body.
 * @param keyed Whether each request carries its own key.
 * @returns The Lua script.
 */
export function jsonScript(body: string, keyed: boolean): string {
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

// A single frame is [header][message id as a varint][payload][CRC]: the CRC covers the
// payload only, so wrk can give each request its own id around the same bytes.
const message = encodeMessage(deviceBatch(HONCH_EVENTS));
const FIRST_ID = 2 ** 21; // four varint bytes from here to 2^28
const [frame] = encodeFrames(message, { messageId: FIRST_ID, maxFrameBytes: 65_536 });
const frameHead = frame.subarray(0, 1);
const frameTail = frame.subarray(1 + 4);

// Message ids stay four varint bytes (below 2^28): 20 runs of 2 threads of up to 5M requests.
const HONCH_RUN_IDS = 12_000_000;
let honchRuns = 0;
/**
 * A script POSTing one Honch frame of {@linkcode HONCH_EVENTS} events per
 * request, each with its own message id, apart from every other call's.
 *
 * @param projectKey The Honch project key the server accepts.
 * @returns The Lua script.
 * @throws {Error} After 20 calls: the four-byte message ids are used up.
 */
export function honchScript(projectKey: string): string {
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
    ["X-Honch-Project-Key"] = "${projectKey}",
  }
  return wrk.format("POST", nil, headers, head .. varint4(offset + counter) .. tail)
end
`;
}

/** What one `wrk` run is given. */
export interface WrkRun {
  /** The full URL. */
  url: string;
  /** The Lua script, from {@linkcode jsonScript} or {@linkcode honchScript}. */
  script: string;
  /** How long, in seconds. */
  seconds: number;
  /** Open connections. */
  connections: number;
  /** Threads, at most `connections`. */
  threads: number;
  /** A folder for the script's file. */
  directory: string;
}

let scripts = 0;
/**
 * Runs `wrk` once and reads the numbers the script prints.
 *
 * @param run The URL, script and load.
 * @returns The outcome.
 * @throws {Error} When `wrk` fails, with its output.
 */
export async function runWrk(run: WrkRun): Promise<WrkResult> {
  // Its own file: several runs may go at once, one per server process.
  const file = `${run.directory}/script-${++scripts}.lua`;
  await Deno.writeTextFile(file, run.script);
  const output = await new Deno.Command("wrk", {
    args: [
      "-t",
      String(run.threads),
      "-c",
      String(run.connections),
      "-d",
      `${run.seconds}s`,
      "-s",
      file,
      run.url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(file).catch(() => {});
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

/**
 * A number rounded, with thousands separators.
 *
 * @param value The number.
 * @returns The text.
 */
export const format = (value: number): string => Math.round(value).toLocaleString("en-US");

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

/**
 * Handshakes and pings as the mkStats client does before its first event.
 *
 * @param base The server's origin.
 * @returns The body of an event of that install, for {@linkcode jsonScript}.
 * @throws {Error} When the server refuses a step.
 */
export async function installEventBody(base: string): Promise<string> {
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
