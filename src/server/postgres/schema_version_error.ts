/**
 * The error {@linkcode PostgresStore} raises for a database whose schema a
 * newer release of this package migrated: opening it with older code could
 * misread or damage tables it does not know, so the store refuses it.
 *
 * @module
 */

import { EdgewireError } from "../../core/errors.ts";

/**
 * A database's schema version is newer than the code opening it knows.
 * Its `code` is `"schema_too_new"`.
 *
 * @example Tell an upgrade-needed database apart
 * ```ts
 * import { SchemaVersionError } from "@edgewire/sdk/server/postgres";
 *
 * const error = new SchemaVersionError("edgewire", 3, 1);
 * if (error instanceof SchemaVersionError) console.log(error.found, error.supported); // 3 1
 * ```
 */
export class SchemaVersionError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "SchemaVersionError";

  /** The PostgreSQL schema whose version was read. */
  readonly schema: string;
  /** The version the database is at. */
  readonly found: number;
  /** The newest version this code knows. */
  readonly supported: number;

  /**
   * Creates the error, its message naming both versions and what to do.
   *
   * @param schema The PostgreSQL schema.
   * @param found The version the database is at.
   * @param supported The newest version this code knows.
   * @throws {Error} Never.
   */
  constructor(schema: string, found: number, supported: number) {
    super(
      `Cannot open PostgresStore as schema '${schema}' is at version ${found}, newer than version ${supported} this code knows: upgrade @edgewire/sdk to the release that migrated it, or open another schema`,
      { code: "schema_too_new" },
    );
    this.schema = schema;
    this.found = found;
    this.supported = supported;
  }
}
