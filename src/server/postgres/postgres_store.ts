/**
 * The PostgreSQL store of the reference server, on the `postgres` client
 * (porsager/postgres): several server processes can share one database. The
 * store migrates its schema itself when it opens, and refuses a schema a
 * newer release migrated ({@linkcode SchemaVersionError}).
 *
 * @module
 */

import postgres from "postgres";
import { InvalidArgumentError } from "../../core/errors.ts";
import type { ServerStore } from "../store.ts";
import { PostgresConnection } from "./_connection.ts";
import type { PostgresPool } from "./pool.ts";
import { postgresEmitter } from "./_emitter.ts";
import { postgresHonch } from "./_honch.ts";
import { freeUnansweredClaims } from "./_idempotency.ts";
import { newOwner, OWNER_APPLICATION_PREFIX } from "./_claim_owner.ts";
import { migrate } from "./_migrations.ts";
import { postgresMigas } from "./_migas.ts";
import { postgresMkStats } from "./_mkstats.ts";
import { postgresShared } from "./_shared.ts";
import { postgresSizes } from "./_sizes.ts";
import { postgresSpot } from "./_spot.ts";

/**
 * How a {@linkcode PostgresStore} reaches its database: a URL, or a pool of
 * the caller's, and the schema its tables live in. Checked once, when the
 * store is made.
 *
 * @example Two stores of one database, apart
 * ```ts
 * import type { PostgresStoreOptions } from "@edgewire/sdk/server/postgres";
 *
 * const url = "postgres://edgewire@127.0.0.1/edgewire";
 * const staging: PostgresStoreOptions = { url, schema: "staging", max: 4 };
 * const production: PostgresStoreOptions = { url, schema: "production" };
 * console.log(staging.schema, production.max ?? 10); // "staging" 10
 * ```
 */
export interface PostgresStoreOptions {
  /**
   * The database's URL, `postgres://user:password@host:port/database`
   * (`postgresql://` too, with the client's query parameters such as
   * `sslmode`); the store opens a pool and ends it on `close()`. Give
   * either `url` or `sql`.
   */
  url?: string;
  /**
   * A pool made with the `postgres` package, shared with the caller, who
   * ends it: the store's `close()` leaves it open. The store reserves one of
   * its connections until `close()`, so it needs at least two. Give either
   * `url` or `sql`.
   */
  sql?: PostgresPool;
  /**
   * The most connections of the pool opened from `url` for queries, 1 to
   * 1000; the store opens one more, reserved for its whole life to hold its
   * owner's lock (see {@linkcode PostgresStore}). Not allowed with `sql`,
   * whose pool has its own.
   *
   * @default 10
   */
  max?: number;
  /**
   * The PostgreSQL schema holding the store's tables, created when missing:
   * lowercase letters, digits and `_`, not starting with a digit, at most 63
   * characters. Stores in different schemas of one database share nothing.
   *
   * @default "edgewire"
   */
  schema?: string;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

function refuse(argument: string, rule: string, current: string): never {
  throw new InvalidArgumentError(
    argument,
    `Cannot open PostgresStore as '${argument}' must be ${rule}: current ${current}`,
  );
}

/** Checks the options once and opens or adopts the pool. */
function connect(options: PostgresStoreOptions): { db: PostgresConnection; schema: string } {
  if (typeof options !== "object" || options === null) {
    refuse("options", "an object with 'url' or 'sql'", `type is ${typeof options}`);
  }
  const { url, sql, max, schema = "edgewire" } = options;
  const owner = newOwner();
  if ((url === undefined) === (sql === undefined)) {
    refuse(
      "url",
      "given, or else 'sql', but not both",
      url === undefined ? "neither is" : "both are",
    );
  }
  if (url !== undefined && (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url))) {
    // The URL itself is never shown: it may hold a password.
    refuse(
      "url",
      "a postgres:// or postgresql:// URL",
      typeof url === "string" ? "value does not start with either" : `type is ${typeof url}`,
    );
  }
  if (sql !== undefined && typeof sql !== "function") {
    refuse("sql", "a pool from the postgres package", `type is ${typeof sql}`);
  }
  if (max !== undefined) {
    if (sql !== undefined) refuse("max", "left out with 'sql'", "value is set");
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      refuse("max", "an integer from 1 to 1000", `value is ${String(max)}`);
    }
  }
  if (typeof schema !== "string" || !SCHEMA.test(schema)) {
    refuse(
      "schema",
      "lowercase letters, digits and '_', not starting with a digit, at most 63 characters",
      typeof schema === "string" ? `value is '${schema}'` : `type is ${typeof schema}`,
    );
  }
  const pool = sql ?? postgres(url!, {
    // One more for the connection the store reserves to hold its owner's lock.
    max: (max ?? 10) + 1,
    onnotice: () => {},
    // Named after the owner: see OWNER_APPLICATION_PREFIX.
    connection: { application_name: `${OWNER_APPLICATION_PREFIX}${owner}` },
  });
  return { db: new PostgresConnection(pool, sql === undefined, schema, owner), schema };
}

/**
 * The methods of a {@linkcode PostgresStore}: every {@linkcode ServerStore}
 * method, and `storeSizes()`. The class takes them from its per-service
 * parts, put together (and type-checked) in its constructor.
 */
export interface PostgresStore extends ServerStore {}

/**
 * A {@linkcode ServerStore} in one PostgreSQL schema: one set of tables per
 * service, every multi-row change in one transaction, the idempotent answer
 * of a request committed with what the request records. Text keeps a NUL as
 * it came (escaped, see the README); times come from the server, never the
 * database's clock. Several server processes may share the schema: each
 * store holds an advisory lock named after its own random owner id on one
 * reserved connection, records that id in its idempotency claims, and, when
 * it opens, frees only the unanswered claims of owners whose lock is free
 * (their process died), never those of a live process. A store whose
 * reserved connection is cut while it runs loses that protection for its
 * claims in flight until it is reopened.
 *
 * @example Serve from PostgreSQL
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 * import { PostgresStore } from "@edgewire/sdk/server/postgres";
 *
 * const store = await PostgresStore.open({ url: "postgres://edgewire@127.0.0.1/edgewire" });
 * const server = createServer({ store });
 * console.log((await server.fetch(new Request("http://localhost/healthz"))).status); // 200
 * await server.close(); // closes the store too
 * ```
 */
export class PostgresStore {
  /**
   * Opens a store and waits until its schema is migrated.
   *
   * @param options The database's URL or a pool, the pool's size and the schema.
   * @returns The open store.
   * @throws {InvalidArgumentError} When an option is invalid, naming it.
   * @throws {SchemaVersionError} When the schema is at a newer version than this code knows.
   * @throws {Error} When the database cannot be reached or migrated.
   *
   * @example Open and close a store
   * ```ts
   * import { PostgresStore } from "@edgewire/sdk/server/postgres";
   *
   * const store = await PostgresStore.open({ url: "postgres://edgewire@127.0.0.1/edgewire" });
   * console.log(await store.ensureMeta("greeting", "hello")); // "hello"
   * await store.close();
   * ```
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.#db.ready();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  readonly #db: PostgresConnection;

  /**
   * Starts opening a store: it migrates its schema in the background, and
   * every call waits for that (and fails with its error, such as a
   * {@linkcode SchemaVersionError}). {@linkcode PostgresStore.open} waits
   * for it instead.
   *
   * @param options The database's URL or a pool, the pool's size and the schema.
   * @throws {InvalidArgumentError} When an option is invalid, naming it.
   */
  constructor(options: PostgresStoreOptions) {
    const { db, schema } = connect(options);
    this.#db = db;
    // The owner's lock first: this store's claims are never taken for a dead process's.
    db.opening(
      db.hold().then(() => migrate(db.sql, schema, (query) => freeUnansweredClaims(db.s, query)))
        .then(() => {}),
    );
    const store: ServerStore = {
      ...postgresShared(db),
      ...postgresMkStats(db),
      ...postgresHonch(db),
      ...postgresMigas(db),
      ...postgresEmitter(db),
      ...postgresSpot(db),
      ...postgresSizes(db, schema),
    };
    Object.assign(this, store);
  }
}
