/**
 * A fault-injecting HTTP/1.1 proxy for end-to-end tests: it listens on
 * 127.0.0.1, port 0, forwards each request to the reference server, waits
 * for the server's whole answer (so whatever it records is stored), and only
 * then, as a seeded PRNG decides, answers 503 instead, resets the
 * connection, answers too slowly for the client's deadline, or truncates the
 * body (a Content-Length larger than what is sent, or a chunked body cut
 * mid-chunk). It speaks raw HTTP over TCP because `Deno.serve` cannot send
 * a body shorter than it declares. Every answer closes its connection.
 *
 * @module
 */

import { concatBytes } from "../../src/core/bytes.ts";

/** What the proxy may do to one answer the server already gave. */
export type Fault = "none" | "503" | "reset" | "slow" | "truncate_length" | "truncate_chunked";

/** Settings of {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** The server to forward to, such as `http://127.0.0.1:1234`. */
  upstream: string;
  /** The PRNG seed; one seed, one sequence of faults. */
  seed: number;
  /** The chance that an answer to a faultable request is replaced, in [0, 1]. */
  rate: number;
  /** How long a slow answer waits, in milliseconds; more than the client's `timeoutMs`. */
  slowMs: number;
  /** The most faults injected in all, so every run ends. */
  maxFaults: number;
  /** Which requests may be faulted, by method and path; all when absent. */
  faultable?: (method: string, path: string) => boolean;
}

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** The proxy's base URL. */
  base: string;
  /** How many of each fault were injected, `none` included. */
  counts: Record<Fault, number>;
  /** Each request's path and the first byte of its body (a Honch frame's flags), in order. */
  requests: { path: string; firstByte: number | undefined }[];
}

const FAULTS: Fault[] = ["503", "reset", "slow", "truncate_length", "truncate_chunked"];
const PASSED_HEADERS = ["content-type", "retry-after", "x-backend-server", "idempotent-replayed"];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** mulberry32: a small, fast, seeded PRNG, enough to make a run repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

interface ParsedRequest {
  method: string;
  path: string;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
}

/** Reads one request with a Content-Length body (what fetch sends for a string body). */
async function readRequest(conn: Deno.Conn): Promise<ParsedRequest | undefined> {
  let buffer: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  const chunk = new Uint8Array(65_536);
  let headEnd = -1;
  while (headEnd < 0) {
    const n = await conn.read(chunk);
    if (n === null) return undefined;
    buffer = concatBytes(buffer, chunk.subarray(0, n));
    headEnd = indexOfHeadEnd(buffer);
  }
  const lines = decoder.decode(buffer.subarray(0, headEnd)).split("\r\n");
  const [method, path] = lines[0].split(" ");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const length = Number(headers.get("content-length") ?? "0");
  let body: Uint8Array<ArrayBuffer> = buffer.subarray(headEnd + 4);
  while (body.length < length) {
    const n = await conn.read(chunk);
    if (n === null) return undefined;
    body = concatBytes(body, chunk.subarray(0, n));
  }
  return { method, path, headers, body: body.subarray(0, length) };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function head(status: number, headers: [string, string][]): Uint8Array {
  const lines = [
    `HTTP/1.1 ${status} X`,
    ...headers.map(([k, v]) => `${k}: ${v}`),
    "connection: close",
  ];
  return encoder.encode(lines.join("\r\n") + "\r\n\r\n");
}

/**
 * Starts a fault proxy in front of `upstream`.
 *
 * @param options The upstream, the seed, the fault rate and bounds.
 * @returns The proxy; dispose of it to stop it.
 */
export function startFaultProxy(options: FaultProxyOptions): FaultProxy {
  const random = seededRandom(options.seed);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const counts: Record<Fault, number> = {
    none: 0,
    "503": 0,
    reset: 0,
    slow: 0,
    truncate_length: 0,
    truncate_chunked: 0,
  };
  let faults = 0;
  const requests: FaultProxy["requests"] = [];
  const open = new Set<Deno.Conn>();
  const pending = new Set<Promise<void>>();

  // The first faults take every kind once, in a seeded order, so a short run
  // still meets each of them; later ones are drawn at random
  const firsts = [...FAULTS];
  for (let i = firsts.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [firsts[i], firsts[j]] = [firsts[j], firsts[i]];
  }
  const choose = (method: string, path: string): Fault => {
    // Two draws per request whatever the outcome, so one seed gives one sequence
    const hit = random();
    const drawn = FAULTS[Math.floor(random() * FAULTS.length)];
    if (options.faultable !== undefined && !options.faultable(method, path)) return "none";
    if (faults >= options.maxFaults || hit >= options.rate) return "none";
    return firsts[faults++] ?? drawn;
  };

  const serve = async (conn: Deno.Conn): Promise<void> => {
    try {
      const request = await readRequest(conn);
      if (request === undefined) return;
      requests.push({ path: request.path, firstByte: request.body[0] });
      const headers = new Headers(request.headers);
      for (const name of ["host", "connection", "content-length"]) headers.delete(name);
      const upstream = await fetch(options.upstream + request.path, {
        method: request.method,
        headers,
        body: request.method === "GET" || request.method === "HEAD" ? undefined : request.body,
      });
      // The server has answered in full: what it records is stored before any fault.
      const body = new Uint8Array(await upstream.arrayBuffer());
      const fault = choose(request.method, request.path.split("?")[0]);
      counts[fault]++;
      const passed: [string, string][] = PASSED_HEADERS
        .filter((name) => upstream.headers.has(name))
        .map((name) => [name, upstream.headers.get(name)!]);
      const hasBody = upstream.status !== 204 && upstream.status !== 304;
      switch (fault) {
        case "none":
        case "slow": {
          if (fault === "slow") await new Promise((done) => setTimeout(done, options.slowMs));
          const length: [string, string][] = hasBody
            ? [["content-length", String(body.length)]]
            : [];
          await writeAll(conn, concatBytes(head(upstream.status, [...passed, ...length]), body));
          return;
        }
        case "503":
          await writeAll(
            conn,
            concatBytes(
              head(503, [["content-type", "text/html"], ["content-length", "21"]]),
              encoder.encode("<h1>503 injected</h1>"),
            ),
          );
          return;
        case "reset":
          return;
        case "truncate_length": {
          // A 204 cannot carry a body, so its truncated form is a 200 that promises one
          const status = hasBody ? upstream.status : 200;
          const sent = body.subarray(0, Math.floor(body.length / 2));
          await writeAll(
            conn,
            concatBytes(
              head(status, [...passed, ["content-length", String(body.length + 16)]]),
              sent,
            ),
          );
          return;
        }
        case "truncate_chunked": {
          const status = hasBody ? upstream.status : 200;
          const cut = body.subarray(0, Math.floor(body.length / 2));
          const chunk = concatBytes(
            encoder.encode(`${(body.length + 8).toString(16)}\r\n`),
            cut,
          );
          await writeAll(
            conn,
            concatBytes(head(status, [...passed, ["transfer-encoding", "chunked"]]), chunk),
          );
          return;
        }
      }
    } catch {
      // A client that gave up (the slow fault) closes its end first: nothing to do
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed
      }
    }
  };

  const accepting = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      const served = serve(conn);
      pending.add(served);
      served.finally(() => pending.delete(served));
    }
  })().catch(() => {});

  return {
    base: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    counts,
    requests,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // Already closed
        }
      }
      await Promise.allSettled([...pending]);
    },
  };
}
