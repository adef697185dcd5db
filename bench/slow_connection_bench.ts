/**
 * The reference server's memory under the slow-connection attack of issue 12
 * (3,000 connections holding partial bodies once took it from 59 MB to
 * 620 MB, never released): `deno run -A bench/slow_connection_bench.ts
 * [--connections 3000] [--content-length 60000] [--sent-bytes 30000]
 * [--body-timeout-ms 10000]`.
 * Linux only: the server's memory is read from `/proc/<pid>/status`.
 *
 * It starts the real server, `deno run -A examples/ingest_server.ts`, in a
 * child process on 127.0.0.1 (port 0, a temporary SQLite file, one Honch
 * project key per 1,000 connections so the per-key rate limit refuses none),
 * warms it up with a few ordinary requests, then opens `--connections` raw
 * TCP connections that each send the headers of a Honch `POST /capture`
 * promising `--content-length` bytes, the first `--sent-bytes` of them, and
 * stop. It samples the child's `VmRSS` every 100 ms: the baseline after the
 * warm-up, once every connection holds its partial body, the peak over the
 * run, and after the server's body deadline (`--body-timeout-ms`, given
 * to the server as `EDGEWIRE_BODY_TIMEOUT_MS`) has answered each 408 and this
 * side has closed them; and it counts the answers by status. `Deno.serve` keeps a socket open after the 408 until
 * the client sends the rest or hangs up (README, "Deployment and limits"),
 * so this script closes its side itself once answered.
 *
 * Every loop is bounded: the server gets 20 s to start, the connections 20 s
 * to open and their answers the deadline and 15 s, so a default run ends within about a minute.
 * 3,000 connections need about 3,100 file descriptors in this process and as
 * many in the server: with a lower `ulimit -n`, run `ulimit -n 8192` first; a
 * connection refused for lack of descriptors (EMFILE) is counted and
 * reported, not retried. A server that dies during the run (`Deno.serve`
 * ends when it cannot accept a socket for lack of descriptors) is reported
 * with the end of its standard error, and the script exits with code 1.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { basicEnv, startChild } from "../tests/_helpers/runtimes.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    connections: { type: "string", default: "3000" },
    "content-length": { type: "string", default: "60000" },
    "sent-bytes": { type: "string", default: "30000" },
    "body-timeout-ms": { type: "string", default: "10000" },
  },
});

const CONNECTIONS = Number(args.connections);
const CONTENT_LENGTH = Number(args["content-length"]);
const SENT_BYTES = Number(args["sent-bytes"]);
/** Connections opened at once; the server's accept backlog is the kernel's (`somaxconn`). */
const BATCH = 100;
/** Connections per Honch project key, under its burst of 2,000. */
const PER_KEY = 1000;
const START_MS = 20_000;
const OPEN_MS = 20_000;
/** How long after the last connection opened an answer may come: the deadline and 15 s more. */
const ANSWER_MS = Number(args["body-timeout-ms"]) + 15_000;
const SAMPLE_MS = 100;
const SETTLE_MS = 2_000;
const MIB = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The answer one stalled connection got. */
interface Answer {
  /** The status, or `undefined` when none came before it was closed. */
  status?: number;
  /** Milliseconds from its partial body being sent to its answer. */
  afterMs?: number;
  /** Why reading stopped without an answer. */
  failure?: string;
}

function fail(message: string): never {
  console.error(message);
  Deno.exit(1);
}

function checkArguments(): void {
  const whole = (value: number, min: number) => Number.isInteger(value) && value >= min;
  if (!whole(CONNECTIONS, 1) || CONNECTIONS > 20_000) {
    fail(`--connections must be an integer in 1..20000: current value is ${args.connections}`);
  }
  if (!whole(CONTENT_LENGTH, 64) || CONTENT_LENGTH > 1_000_000) {
    fail(`--content-length must be an integer in 64..1000000: current value is ${CONTENT_LENGTH}`);
  }
  if (!whole(SENT_BYTES, 1) || SENT_BYTES >= CONTENT_LENGTH) {
    fail(
      `--sent-bytes must be an integer from 1 to below --content-length (${CONTENT_LENGTH}): ` +
        `current value is ${SENT_BYTES}`,
    );
  }
  if (Deno.build.os !== "linux") {
    fail(`This bench reads /proc/<pid>/status, so it runs on Linux only, not ${Deno.build.os}`);
  }
}

/** A field of `/proc/<pid>/status` in bytes, such as `VmRSS`, or `undefined` once it has exited. */
function procStatus(pid: number, field: string): number | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** This process's soft limit on open files, from `/proc/self/limits`. */
function openFileLimit(): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(
    Deno.readTextFileSync("/proc/self/limits"),
  );
  if (match === null) return undefined;
  return match[1] === "unlimited" ? Infinity : Number(match[1]);
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  // Each write moves at least one byte, so this ends within bytes.length rounds.
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}

/** Reads one HTTP answer (head, then its `Content-Length` body) until it is whole or the socket ends. */
async function readAnswer(conn: Deno.TcpConn, sentAt: number): Promise<Answer> {
  const buffer = new Uint8Array(4096);
  let text = "";
  try {
    // At most 16 reads: an answer to a stalled body is a short JSON error.
    for (let reads = 0; reads < 16; reads++) {
      const count = await conn.read(buffer);
      if (count === null) break;
      text += decoder.decode(buffer.subarray(0, count), { stream: true });
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) continue;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
      if (length !== null && encoder.encode(text.slice(end + 4)).length < Number(length[1])) {
        continue;
      }
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(text);
      return {
        status: status === null ? undefined : Number(status[1]),
        afterMs: performance.now() - sentAt,
        failure: status === null ? "not an HTTP answer" : undefined,
      };
    }
    return { failure: text === "" ? "closed without an answer" : "incomplete answer" };
  } catch (error) {
    // Closed by this side at the end of the wait, or reset by the server
    return { failure: error instanceof Error ? error.name : String(error) };
  }
}

async function warmUp(origin: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const health = await fetch(`${origin}/healthz`);
    await health.body?.cancel();
    if (health.status !== 200) throw new Error(`Warm-up: GET /healthz answered ${health.status}`);
    const capture = await fetch(`${origin}/capture`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-honch-project-key": keys[0] },
      body: JSON.stringify({
        context: {
          distinct_id: `warm-up-${i}`,
          $device_id: "bench-device",
          $device_model: "bench",
          $firmware_version: "1.0.0",
          $sdk_platform: "posix",
          $sdk_version: "0.3.1",
        },
        events: [{ event: "warm_up", timestamp: Date.now() }],
      }),
    });
    const answer = await capture.text();
    if (capture.status !== 200) {
      throw new Error(`Warm-up: POST /capture answered ${capture.status} ${answer}`);
    }
  }
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? "n/a" : `${(bytes / MIB).toFixed(1)} MiB`;
}

function ratio(value: number | undefined, base: number | undefined): string {
  return value === undefined || base === undefined ? "n/a" : `${(value / base).toFixed(2)}×`;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "n/a" : `${(ms / 1000).toFixed(2)} s`;
}

/** What one run measured. */
interface Measured {
  results: Answer[];
  refused: Map<string, number>;
  openedIn: number;
  baseline?: number;
  held?: number;
  peak: number;
  after?: number;
  highWater?: number;
  /** How the server ended, when it died during the run. */
  died?: { code: number; signal: Deno.Signal | null; stderr: string };
}

/** Warms the server up, holds the partial bodies, waits for the answers and hangs up. */
async function attack(
  ready: RegExpMatchArray,
  keys: readonly string[],
  pid: number,
  serverEnded: () => Measured["died"],
): Promise<Measured> {
  const [, origin, portText] = ready;
  const port = Number(portText);
  const rss = () => procStatus(pid, "VmRSS");
  const conns: Deno.TcpConn[] = [];
  const answers: Promise<Answer>[] = [];
  const refused = new Map<string, number>();
  let peak = 0;
  const sampler = setInterval(() => peak = Math.max(peak, rss() ?? 0), SAMPLE_MS);
  let baseline: number | undefined;
  let held: number | undefined;
  let openedIn = 0;
  try {
    await warmUp(origin, keys);
    await new Promise((resolve) => setTimeout(resolve, 500));
    baseline = rss();
    peak = baseline ?? 0;

    const prefix = '{"events":[{"event":"slow","properties":{"pad":"';
    const body = encoder.encode(prefix + "a".repeat(SENT_BYTES - prefix.length));
    const request = (key: string) =>
      encoder.encode(
        `POST /capture HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          `Content-Type: application/json\r\nX-Honch-Project-Key: ${key}\r\n` +
          `Content-Length: ${CONTENT_LENGTH}\r\n\r\n`,
      );
    const opening = performance.now();
    // At most CONNECTIONS / BATCH rounds; none starts past OPEN_MS or after a failure
    for (let first = 0; first < CONNECTIONS; first += BATCH) {
      if (performance.now() - opening > OPEN_MS || refused.size > 0) break;
      const batch = Array.from(
        { length: Math.min(BATCH, CONNECTIONS - first) },
        async (_, offset) => {
          try {
            const conn = await Deno.connect({ hostname: "127.0.0.1", port });
            conns.push(conn);
            await writeAll(conn, request(keys[Math.floor((first + offset) / PER_KEY)]));
            await writeAll(conn, body);
            answers.push(readAnswer(conn, performance.now()));
          } catch (error) {
            const name = error instanceof Error && /os error 24/.test(error.message)
              ? "EMFILE (too many open files)"
              : error instanceof Error
              ? error.name
              : String(error);
            refused.set(name, (refused.get(name) ?? 0) + 1);
          }
        },
      );
      await Promise.all(batch);
    }
    openedIn = performance.now() - opening;
    held = rss();

    let waited: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(answers),
      new Promise((resolve) => waited = setTimeout(resolve, ANSWER_MS)),
    ]);
    clearTimeout(waited);
  } finally {
    // This side hangs up: Deno.serve would keep each socket open after its 408
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Already closed
      }
    }
    clearInterval(sampler);
  }
  const results = await Promise.all(answers);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  peak = Math.max(peak, rss() ?? 0);
  const after = rss();
  const highWater = procStatus(pid, "VmHWM");
  return {
    results,
    refused,
    openedIn,
    baseline,
    held,
    peak,
    after,
    highWater,
    died: serverEnded(),
  };
}

async function main(): Promise<void> {
  checkArguments();
  const limit = openFileLimit();
  if (limit !== undefined && limit < CONNECTIONS + 256) {
    console.error(
      `Warning: the open-file limit is ${limit}, below the ${CONNECTIONS + 256} descriptors ` +
        `${CONNECTIONS} connections need here and in the server: run \`ulimit -n 8192\` first. ` +
        "Connections refused for lack of descriptors (EMFILE) are counted below.",
    );
  }

  const directory = await Deno.makeTempDir({ prefix: "edgewire-slow-bench-" });
  const keys = Array.from(
    { length: Math.ceil(CONNECTIONS / PER_KEY) },
    (_, i) => `phc_slow_bench_${i}`,
  );
  const root = new URL("../", import.meta.url);
  const started = await startChild(
    Deno.execPath(),
    ["run", "-A", new URL("examples/ingest_server.ts", root).pathname],
    {
      cwd: root.pathname,
      clearEnv: true,
      env: basicEnv({
        NO_COLOR: "1",
        EDGEWIRE_HOST: "127.0.0.1",
        EDGEWIRE_PORT: "0",
        EDGEWIRE_DB: `${directory}/bench.sqlite`,
        EDGEWIRE_ADMIN_KEY: crypto.randomUUID(),
        EDGEWIRE_HONCH_PROJECT_KEYS: keys.join(","),
        EDGEWIRE_BODY_TIMEOUT_MS: args["body-timeout-ms"],
      }),
      ready: /^Listening on (http:\/\/127\.0\.0\.1:(\d+))/m,
      timeoutMs: START_MS,
    },
  );
  // The server may die under the attack (a runtime that cannot accept more sockets): reported below
  let serverEnded: Awaited<typeof started.ended> | undefined;
  const ended = started.ended.then((result) => serverEnded = result);
  let measured: Measured;
  try {
    measured = await attack(started.ready, keys, started.child.pid, () => serverEnded);
  } finally {
    if (serverEnded === undefined) {
      started.child.kill("SIGTERM");
      const stop = setTimeout(() => started.child.kill("SIGKILL"), 10_000);
      await ended;
      clearTimeout(stop);
    }
    await Deno.remove(directory, { recursive: true });
  }
  const { results, refused, openedIn, baseline, held, peak, after, highWater, died } = measured;
  const statuses = new Map<string, number>();
  for (const { status, failure } of results) {
    const key = status === undefined ? `no answer (${failure})` : String(status);
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  }
  const timedOut = results.filter((answer) => answer.status === 408).length;
  const delays = results.flatMap((a) => a.status === 408 ? [a.afterMs!] : []).sort((a, b) => a - b);
  const others = [...statuses].filter(([key]) => key !== "408").map(([k, n]) => `${k}: ${n}`);
  const rows: [string, string][] = [
    ["connections asked", String(CONNECTIONS)],
    [
      "connections holding a partial body",
      `${results.length} (opened in ${openedIn.toFixed(0)} ms)`,
    ],
    [
      "connections that failed to open or send",
      [...refused].map(([k, n]) => `${k}: ${n}`).join(", ") || "0",
    ],
    ["answered 408", String(timedOut)],
    ["other outcomes", others.join(", ") || "none"],
    [
      "408 after its partial body (min / median / max)",
      `${seconds(delays[0])} / ${seconds(delays[Math.floor(delays.length / 2)])} / ${
        seconds(delays.at(-1))
      }`,
    ],
    ["RSS baseline, after warm-up", mib(baseline)],
    ["RSS once every connection was held", mib(held)],
    [`RSS peak during the run (sampled every ${SAMPLE_MS} ms)`, mib(peak)],
    ["RSS after the 408s and this side's close", mib(after)],
    ["VmHWM (the process's high-water mark)", mib(highWater)],
    ["peak / baseline", ratio(peak, baseline)],
    ["after / baseline", ratio(after, baseline)],
  ];
  console.log(
    `\nSlow-connection attack on examples/ingest_server.ts (Deno ${Deno.version.deno}): ` +
      `POST /capture, Content-Length ${CONTENT_LENGTH}, ${SENT_BYTES} bytes sent, then silence\n`,
  );
  console.log("| figure | value |\n| --- | --- |");
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
  if (died !== undefined) {
    console.log(
      `\nThe server ended during the run (${died.signal ?? `exit code ${died.code}`}); ` +
        `the end of its standard error:\n${died.stderr.trim().split("\n").slice(-10).join("\n")}`,
    );
    Deno.exit(1);
  }
}

if (import.meta.main) await main();
