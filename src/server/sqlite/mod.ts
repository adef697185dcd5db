/**
 * The embedded SQLite store for the Edgewire reference server, on
 * `node:sqlite` (Deno, Node 22.5+, Bun). It is its own entry point so that
 * `@edgewire/sdk/server` never loads a runtime module and runs on Workers
 * with the in-memory store or another one.
 *
 * @example Keep the server's state in a file
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 * import { SqliteStore } from "@edgewire/sdk/server/sqlite";
 *
 * const server = createServer({ store: new SqliteStore(":memory:") });
 * console.log((await server.fetch(new Request("http://localhost/healthz"))).status); // 200
 * await server.close();
 * ```
 *
 * @module
 */

export { SqliteStore } from "./sqlite_store.ts";
