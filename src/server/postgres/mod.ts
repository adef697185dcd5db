/**
 * The PostgreSQL store for the Edgewire reference server, on the `postgres`
 * client: several server processes share one database, and the store
 * migrates its own schema when it opens. It is its own entry point so that
 * `@edgewire/sdk/server` never loads a database client.
 *
 * @example Keep the server's state in PostgreSQL
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 * import { PostgresStore } from "@edgewire/sdk/server/postgres";
 *
 * const store = await PostgresStore.open({ url: "postgres://edgewire@127.0.0.1/edgewire" });
 * const server = createServer({ store });
 * console.log((await server.fetch(new Request("http://localhost/healthz"))).status); // 200
 * await server.close();
 * ```
 *
 * @module
 */

export { PostgresStore, type PostgresStoreOptions } from "./postgres_store.ts";
export { SchemaVersionError } from "./schema_version_error.ts";
export type { PostgresPool, PostgresQueryable, PostgresReserved } from "./pool.ts";
