/**
 * Runs the reference server alone: `deno task serve`. Settings come from the
 * environment: EDGEWIRE_HOST (default 127.0.0.1), EDGEWIRE_PORT (8787),
 * EDGEWIRE_DB (edgewire.db, the embedded SQLite store; ":memory:" for none),
 * EDGEWIRE_ADMIN_KEY (enables GET /api/v1/stats/:plugin_id) and
 * EDGEWIRE_DIFFICULTY (4). Stops cleanly on Ctrl-C.
 *
 * @module
 */

import { createServer } from "../src/server/mod.ts";

const hostname = Deno.env.get("EDGEWIRE_HOST") ?? "127.0.0.1";
const port = Number(Deno.env.get("EDGEWIRE_PORT") ?? 8787);
const store = Deno.env.get("EDGEWIRE_DB") ?? "edgewire.db";
const difficulty = Number(Deno.env.get("EDGEWIRE_DIFFICULTY") ?? 4);
const server = createServer({ store, difficulty, adminKey: Deno.env.get("EDGEWIRE_ADMIN_KEY") });
const controller = new AbortController();
const http = Deno.serve({
  hostname,
  port,
  signal: controller.signal,
  onListen: ({ hostname, port }) =>
    console.log(`Edgewire reference server on http://${hostname}:${port} (store: ${store})`),
}, server.fetch);

Deno.addSignalListener("SIGINT", () => controller.abort());
await http.finished;
await server.close();
console.log("Stopped");
