/**
 * Serves the reference server under Bun: `createServer(REFERENCE_OPTIONS)`
 * behind `Bun.serve` on 127.0.0.1, port 0, on a `node:sqlite` store
 * (`SqliteStore` from the server's SQLite entry, in memory), with Bun's
 * WebSocket handlers so MQTT over WebSocket reaches the Emitter broker. It
 * prints `{"port":<n>,"emitterSecret":"<master key>"}` once listening, and
 * stops (server, then store) when its standard input closes, so the harness
 * ends it cleanly.
 *
 * @module
 */

import { bunWebSocketHandlers, createServer } from "../../src/server/mod.ts";
import { SqliteStore } from "../../src/server/sqlite/mod.ts";
import { REFERENCE_OPTIONS } from "./_reference.ts";

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

interface BunGlobal {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request, server: unknown) => Response | Promise<Response>;
    idleTimeout?: number;
    websocket: ReturnType<typeof bunWebSocketHandlers>;
  }): BunServer;
  stdin: { stream(): ReadableStream<Uint8Array> };
}

const bun = (globalThis as { Bun?: BunGlobal }).Bun;
if (bun === undefined) throw new Error("Run this entry under Bun, bundled by the matrix test");

const server = createServer({ ...REFERENCE_OPTIONS, store: new SqliteStore(":memory:") });
const http = bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  // Bun closes an HTTP connection silent this many seconds (slow headers or
  // body included); its default of 10 s would cut slower answers short
  idleTimeout: 30,
  // Bun passes itself as the second argument: the upgrade goes through it
  fetch: server.fetch,
  websocket: bunWebSocketHandlers(),
});
console.log(JSON.stringify({ port: http.port, emitterSecret: server.emitter.secret }));

// Standard input closes when the harness is done (or gone): stop then
const reader = bun.stdin.stream().getReader();
while (!(await reader.read()).done) {
  // nothing is expected on standard input
}
await http.stop(true);
await server.close();
