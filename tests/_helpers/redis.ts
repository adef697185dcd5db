/**
 * A real Redis for the backplane tests: the one `EDGEWIRE_REDIS_URL` names,
 * else a `redis-server` started on a free port of 127.0.0.1 without
 * persistence, answered PING before it is handed out, and stopped at the
 * end. A test needing it is ignored when neither exists, unless
 * EDGEWIRE_REQUIRE_RUNTIMES=1 (the rule of `runtimes.ts`, reused).
 *
 * @module
 */

import { freePort, ignoredUnlessRequired, locateRuntime, startChild } from "./runtimes.ts";

/** Where `redis-server` is looked for. */
export const REDIS_SERVER = locateRuntime({
  title: "redis-server",
  candidates: ["redis-server", "/usr/bin/redis-server", "/usr/sbin/redis-server"],
});

const EXTERNAL = Deno.env.get("EDGEWIRE_REDIS_URL");

/** Whether a test needing Redis is ignored: no URL given and no `redis-server` installed. */
export const REDIS_IGNORED: boolean = EXTERNAL === undefined &&
  ignoredUnlessRequired(REDIS_SERVER);

/** A Redis to test against. */
export interface TestRedis extends AsyncDisposable {
  /** Its URL, `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its host. */
  readonly hostname: string;
  /** Its port. */
  readonly port: number;
  /** A prefix no other test uses, for channel and counter names. */
  readonly prefix: string;
}

/**
 * Asks a Redis for PING until it answers PONG.
 *
 * @param hostname Its host.
 * @param port Its port.
 * @param timeoutMs How long to keep asking.
 * @returns Once it answered.
 * @throws {Error} When it never did.
 */
export async function waitForPing(
  hostname: string,
  port: number,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Deno.connect({ hostname, port });
      try {
        await connection.write(new TextEncoder().encode("PING\r\n"));
        const buffer = new Uint8Array(16);
        const read = await connection.read(buffer);
        if (new TextDecoder().decode(buffer.subarray(0, read ?? 0)).startsWith("+PONG")) return;
      } finally {
        connection.close();
      }
    } catch {
      // Not listening yet
    }
    if (Date.now() > end) throw new Error(`Redis on ${hostname}:${port} never answered PING`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The Redis of `EDGEWIRE_REDIS_URL`, or a new `redis-server` (one per test
 * file: start it in the file's one test and dispose of it at its end).
 *
 * @returns The Redis, answering PING.
 * @throws {AssertionError} When `redis-server` is missing or does not start.
 */
export async function startRedis(): Promise<TestRedis> {
  const prefix = `test:${crypto.randomUUID().slice(0, 8)}:`;
  if (EXTERNAL !== undefined) {
    const url = new URL(EXTERNAL);
    const port = Number(url.port || 6379);
    await waitForPing(url.hostname, port);
    return {
      url: EXTERNAL,
      hostname: url.hostname,
      port,
      prefix,
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
  }
  const port = freePort();
  const started = await startChild(
    REDIS_SERVER.binary ?? "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { ready: /Ready to accept connections/, timeoutMs: 15_000 },
  );
  await waitForPing("127.0.0.1", port);
  return {
    url: `redis://127.0.0.1:${port}`,
    hostname: "127.0.0.1",
    port,
    prefix,
    async [Symbol.asyncDispose]() {
      try {
        started.child.kill("SIGTERM");
      } catch {
        // Ended already
      }
      await started.ended;
    },
  };
}
