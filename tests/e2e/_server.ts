/**
 * Starts the reference server on 127.0.0.1, port 0, for end-to-end tests,
 * with a clock the test controls shared by server and client. With
 * `EDGEWIRE_E2E_DATABASE_URL` set (as `postgres_e2e_test.ts` does when it runs
 * these tests again), each server keeps its state in a schema of its own on
 * that PostgreSQL database instead of a `MemoryStore`.
 *
 * @module
 */

import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";
import { PostgresStore } from "../../src/server/postgres/mod.ts";

export const ADMIN_KEY = "admin-key-for-tests-only";

export interface Running extends AsyncDisposable {
  server: EdgewireServer;
  base: string;
  clock: { now: number };
  stats(pluginId: string): Promise<Record<string, unknown>>;
}

/** The PostgreSQL database the servers use instead of memory, when set. */
export const E2E_DATABASE_VARIABLE = "EDGEWIRE_E2E_DATABASE_URL";
const databaseUrl = Deno.env.get(E2E_DATABASE_VARIABLE);
let schemas = 0;

export function startServer(options: ServerOptions = {}): Running {
  const clock = { now: Date.parse("2026-11-22T12:00:00Z") };
  const store = options.store ??
    (databaseUrl === undefined
      ? undefined
      : new PostgresStore({ url: databaseUrl, schema: `e2e_${++schemas}`, max: 4 }));
  const server = createServer({
    difficulty: 2,
    adminKey: ADMIN_KEY,
    now: () => clock.now,
    ...options,
    store,
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const base = `http://127.0.0.1:${http.addr.port}`;
  return {
    server,
    base,
    clock,
    async stats(pluginId) {
      const response = await fetch(`${base}/api/v1/stats/${pluginId}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      if (response.status !== 200) throw new Error(`stats answered ${response.status}`);
      return await response.json();
    },
    async [Symbol.asyncDispose]() {
      await http.shutdown();
      await server.close();
    },
  };
}

/** A fetch that records each request's path and lets a test replace answers. */
export function recordingFetch(
  override?: (path: string, request: Request) => Response | undefined,
): { fetch: typeof fetch; paths: string[] } {
  const paths: string[] = [];
  const recorder: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    paths.push(path);
    const replaced = override?.(path, request.clone());
    if (replaced) {
      await request.body?.cancel();
      return replaced;
    }
    return await fetch(request);
  };
  return { fetch: recorder, paths };
}
