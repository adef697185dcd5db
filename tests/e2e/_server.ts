/**
 * Starts the reference server on 127.0.0.1, port 0, for end-to-end tests,
 * with a clock the test controls shared by server and client.
 *
 * @module
 */

import { createServer, type EdgewireServer, type ServerOptions } from "../../src/server/mod.ts";

export const ADMIN_KEY = "admin-key-for-tests-only";

export interface Running extends AsyncDisposable {
  server: EdgewireServer;
  base: string;
  clock: { now: number };
  stats(pluginId: string): Promise<Record<string, unknown>>;
}

export function startServer(options: ServerOptions = {}): Running {
  const clock = { now: Date.parse("2026-11-22T12:00:00Z") };
  const server = createServer({
    difficulty: 2,
    adminKey: ADMIN_KEY,
    now: () => clock.now,
    ...options,
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
