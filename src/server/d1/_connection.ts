/**
 * One D1 binding shared by the per-service parts of {@linkcode D1Store}:
 * the schema created or upgraded once, before the first statement; the
 * closed check every call goes through; and helpers that bind, run and read
 * back rows. D1 has no transaction a read can join, so every write that must
 * be atomic is one `batch()`, and its conditions live in the SQL.
 *
 * @module
 */

import type { D1Database, D1PreparedStatement, D1Result, D1Value } from "./d1_database.ts";
import { D1StoreError } from "./d1_store_error.ts";
import {
  LATEST_VERSION,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  RECORD_MIGRATION,
  SCHEMA_VERSION,
} from "./_schema.ts";

/** A row as D1 returns it. */
export type Row = Record<string, unknown>;

/**
 * Bytes read back from D1, which returns a BLOB as an array of byte values
 * (or, from some bindings, an `ArrayBuffer` or a view).
 *
 * @param value A BLOB column's value.
 * @returns A fresh `Uint8Array`.
 */
export function bytesOf(value: unknown): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  }
  return Uint8Array.from(value as ArrayLike<number>);
}

/**
 * The rows of one result of a `batch()`.
 *
 * @param result The statement's result.
 * @returns Its rows, empty when it has none.
 */
export function rowsOf(result: D1Result | undefined): Row[] {
  return result?.results ?? [];
}

/**
 * How many rows one result of a `batch()` changed. D1 counts the rows its
 * triggers changed too, so a statement on a table with triggers
 * (`idempotency_keys`) reads its own rows back with `RETURNING` instead.
 *
 * @param result The statement's result.
 * @returns The count, 0 when D1 reports none.
 */
export function changesOf(result: D1Result | undefined): number {
  return Number(result?.meta.changes ?? 0);
}

/** The D1 binding, with the schema made ready once and a closed check. */
export class D1Connection {
  readonly #db: D1Database;
  #closed = false;
  #ready: Promise<void> | undefined;

  /**
   * Wraps a binding; nothing runs until the first call.
   *
   * @param db The D1 binding.
   */
  constructor(db: D1Database) {
    this.#db = db;
  }

  /**
   * Creates or upgrades the schema, once; a failure is retried by the next call.
   *
   * @returns Once the schema is this release's.
   * @throws {D1StoreError} When closed, or when a newer release wrote the schema.
   */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    this.#ready ??= this.#migrate().catch((error) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /**
   * Prepares and binds one statement, for {@linkcode batch}.
   *
   * @param sql The statement.
   * @param values Its values, in order.
   * @returns The bound statement.
   */
  statement(sql: string, values: readonly D1Value[] = []): D1PreparedStatement {
    const prepared = this.#db.prepare(sql);
    return values.length === 0 ? prepared : prepared.bind(...values);
  }

  /**
   * Runs a query.
   *
   * @param sql The query.
   * @param values Its values.
   * @returns Its rows.
   */
  async all(sql: string, values: readonly D1Value[] = []): Promise<Row[]> {
    await this.ready();
    return rowsOf(await this.statement(sql, values).all());
  }

  /**
   * Runs a query for its first row.
   *
   * @param sql The query.
   * @param values Its values.
   * @returns The row, or `undefined`.
   */
  async first(sql: string, values: readonly D1Value[] = []): Promise<Row | undefined> {
    await this.ready();
    return (await this.statement(sql, values).first()) ?? undefined;
  }

  /**
   * Runs a write.
   *
   * @param sql The statement.
   * @param values Its values.
   * @returns How many rows it changed.
   */
  async run(sql: string, values: readonly D1Value[] = []): Promise<number> {
    await this.ready();
    return changesOf(await this.statement(sql, values).run());
  }

  /**
   * Runs statements in order as one transaction: all apply, or none.
   *
   * @param statements Statements from {@linkcode statement}.
   * @returns One result per statement.
   */
  async batch(statements: D1PreparedStatement[]): Promise<D1Result[]> {
    await this.ready();
    return await this.#db.batch(statements);
  }

  /** Marks the connection closed; the binding itself belongs to the Worker. */
  close(): void {
    this.#closed = true;
  }

  async #version(): Promise<number> {
    const [, version] = await this.#db.batch([
      this.statement(MIGRATIONS_TABLE),
      this.statement(SCHEMA_VERSION),
    ]);
    return Number(rowsOf(version)[0]?.version ?? 0);
  }

  async #migrate(): Promise<void> {
    const current = await this.#version();
    if (current > LATEST_VERSION) {
      throw new D1StoreError(
        `Cannot open D1Store as the database's schema version is ${current}, newer than this ` +
          `release's ${LATEST_VERSION}: upgrade @edgewire/sdk`,
        "d1_schema_newer",
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      try {
        await this.#db.batch([
          this.statement(MIGRATIONS_TABLE),
          this.statement(RECORD_MIGRATION, [migration.version]),
          ...migration.statements.map((sql) => this.statement(sql)),
        ]);
      } catch (error) {
        // Another isolate applied it meanwhile: its number is recorded, this batch was undone.
        if (await this.#version() >= migration.version) continue;
        throw error;
      }
    }
  }
}

function closedError(): D1StoreError {
  return new D1StoreError("Cannot use D1Store as it is closed: open a new one", "d1_store_closed");
}
