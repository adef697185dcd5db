/**
 * The reference server's store on Cloudflare D1, for a Worker: the same
 * tables as the SQLite store, reached through a D1 binding. D1 has no
 * interactive transaction, so every write that must be atomic (a ping and
 * its idempotent answer, a Honch message's marker and its events, a claim on
 * an `Idempotency-Key`) is one `batch()` whose statements carry their own
 * conditions.
 *
 * @module
 */

import { InvalidArgumentError } from "../../core/errors.ts";
import type { ServerStore } from "../store.ts";
import type { D1Database } from "./d1_database.ts";
import { D1Connection } from "./_connection.ts";
import { d1Emitter } from "./_emitter.ts";
import { d1Honch } from "./_honch.ts";
import { d1Migas } from "./_migas.ts";
import { d1MkStats } from "./_mkstats.ts";
import { d1Shared } from "./_shared.ts";
import { d1Spot } from "./_spot.ts";

/**
 * The methods of a {@linkcode D1Store}: every {@linkcode ServerStore}
 * method. The class takes them from its per-service parts, put together
 * (and type-checked) in its constructor.
 */
export interface D1Store extends ServerStore {}

/**
 * A {@linkcode ServerStore} in a Cloudflare D1 database. Every method works,
 * the Emitter's and Spot's included; what does not run on a Worker is the
 * Emitter broker and the Spot relay themselves, which hold WebSocket
 * sessions a stateless Worker cannot keep between requests.
 *
 * The schema is created, or upgraded, before the first statement: once per
 * store, in one transaction, recorded in `edgewire_migrations`, so isolates
 * starting together apply it once. {@linkcode D1Store.open} does it at once.
 * `close()` only stops this store; the binding stays the Worker's.
 *
 * D1 keeps a row, and so a Honch message's blob or one event's properties,
 * under 2 MB: keep the Honch `maxMessageBytes` and `maxExpandedEventBytes`
 * at their 1 MiB defaults or below. Statements stay under D1's 100 bound
 * values each (a message's events go 20 to an INSERT).
 *
 * @example Serve mkStats, Honch and migas from a Worker
 * ```ts
 * import { createServer, type EdgewireServer } from "@edgewire/sdk/server";
 * import { type D1Database, D1Store } from "@edgewire/sdk/server/d1";
 *
 * interface Env {
 *   DB: D1Database;
 *   ADMIN_KEY: string;
 * }
 * let server: EdgewireServer | undefined;
 * export default {
 *   fetch(request: Request, env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }) {
 *     server ??= createServer({ store: new D1Store(env.DB), adminKey: env.ADMIN_KEY });
 *     return server.fetch(request, env, ctx);
 *   },
 * };
 * ```
 */
export class D1Store {
  readonly #db: D1Connection;

  /**
   * Wraps a D1 binding; the schema is made ready by the first call.
   *
   * @param binding The Worker's D1 binding, such as `env.DB`.
   * @throws {InvalidArgumentError} When `binding` has no `prepare` and `batch` methods.
   */
  constructor(binding: D1Database) {
    const candidate = binding as Partial<D1Database> | null | undefined;
    if (typeof candidate?.prepare !== "function" || typeof candidate?.batch !== "function") {
      throw new InvalidArgumentError(
        "binding",
        `Cannot create D1Store as 'binding' must be a D1 binding with prepare() and batch(): ` +
          `current value is ${candidate === null ? "null" : typeof candidate}`,
      );
    }
    this.#db = new D1Connection(binding);
    const store: ServerStore = {
      ...d1Shared(this.#db),
      ...d1MkStats(this.#db),
      ...d1Honch(this.#db),
      ...d1Migas(this.#db),
      ...d1Emitter(this.#db),
      ...d1Spot(this.#db),
    };
    Object.assign(this, store);
  }

  /**
   * Opens a store and creates or upgrades its schema now, so a problem shows
   * here rather than at the first request.
   *
   * @param binding The Worker's D1 binding, such as `env.DB`.
   * @returns The store, its schema ready.
   * @throws {InvalidArgumentError} When `binding` is not a D1 binding.
   * @throws {D1StoreError} With code `d1_schema_newer` when a newer release wrote the schema.
   * @throws {Error} Whatever D1 reports when it cannot run the migration.
   *
   * @example Open a store on a binding
   * ```ts
   * import { type D1Database, D1Store } from "@edgewire/sdk/server/d1";
   *
   * async function openStore(db: D1Database): Promise<D1Store> {
   *   return await D1Store.open(db);
   * }
   * console.log(typeof openStore); // "function"
   * ```
   */
  static async open(binding: D1Database): Promise<D1Store> {
    const store = new D1Store(binding);
    await store.ready();
    return store;
  }

  /**
   * Creates or upgrades the schema when this store has not yet; every other
   * method waits for it. A failure is retried by the next call.
   *
   * @returns Once the schema is this release's.
   * @throws {D1StoreError} With code `d1_store_closed` after `close()`, or `d1_schema_newer`.
   * @throws {Error} Whatever D1 reports when it cannot run the migration.
   *
   * @example Check the schema at a Worker's start
   * ```ts
   * import { type D1Database, D1Store } from "@edgewire/sdk/server/d1";
   *
   * async function check(db: D1Database): Promise<void> {
   *   await new D1Store(db).ready();
   * }
   * console.log(typeof check); // "function"
   * ```
   */
  ready(): Promise<void> {
    return this.#db.ready();
  }
}
