/**
 * The embedded SQLite store of the reference server, on `node:sqlite`
 * (built into Deno, Node 22.5+ and Bun). A file database runs in WAL mode so
 * readers never block the writer, and keeps everything across restarts;
 * `:memory:` keeps everything in the process.
 *
 * @module
 */

import { InvalidArgumentError } from "../../core/errors.ts";
import type { ServerStore } from "../store.ts";
import { SqliteConnection } from "./_connection.ts";
import { sqliteEmitter } from "./_emitter.ts";
import { sqliteHonch } from "./_honch.ts";
import { sqliteMigas } from "./_migas.ts";
import { sqliteMkStats } from "./_mkstats.ts";
import { sqliteShared } from "./_shared.ts";
import { sqliteSizes } from "./_sizes.ts";
import { sqliteSpot } from "./_spot.ts";

/**
 * The methods of a {@linkcode SqliteStore}: every {@linkcode ServerStore}
 * method. The class takes them from its per-service parts, put together
 * (and type-checked) in its constructor.
 */
export interface SqliteStore extends ServerStore {}

/**
 * A {@linkcode ServerStore} in one SQLite database: one set of tables per
 * service, statements prepared once, the schema created on open when
 * missing, every multi-row change in one transaction.
 *
 * @example Serve from a database file
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 * import { SqliteStore } from "@edgewire/sdk/server/sqlite";
 *
 * const path = await Deno.makeTempFile({ suffix: ".db" });
 * const server = createServer({ store: new SqliteStore(path) });
 * const health = await server.fetch(new Request("http://localhost/healthz"));
 * console.log(health.status); // 200
 * await server.close(); // closes the store too
 * ```
 */
export class SqliteStore {
  /**
   * Opens or creates a database and its schema.
   *
   * @param path A file path, or `":memory:"` for a database that lives as long as the store.
   * @throws {InvalidArgumentError} When `path` is not a non-empty string.
   * @throws {Error} When SQLite cannot open the file or create the schema.
   */
  constructor(path: string) {
    if (typeof path !== "string" || path.length === 0) {
      throw new InvalidArgumentError(
        "path",
        `Cannot open SqliteStore as 'path' must be a file path or ':memory:': current ${
          typeof path === "string" ? "value is empty" : `type is ${typeof path}`
        }`,
      );
    }
    const db = new SqliteConnection(path);
    let store: ServerStore;
    try {
      store = {
        ...sqliteShared(db),
        ...sqliteMkStats(db),
        ...sqliteHonch(db),
        ...sqliteMigas(db),
        ...sqliteEmitter(db),
        ...sqliteSpot(db),
        // Last: it counts tables the parts above create.
        ...sqliteSizes(db),
      };
    } catch (error) {
      void db.close();
      throw error;
    }
    Object.assign(this, store);
  }
}
