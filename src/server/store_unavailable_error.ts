/**
 * The error a store throws when its database cannot be used for now (its
 * connection was ended, it cannot connect), rather than because of the
 * request: the server answers it `503 store_unavailable` with
 * `Retry-After: 1`, which clients retry, and counts it under that reason
 * in `/metrics` and the log, apart from the `500 internal` of a bug.
 *
 * @module
 */

import { EdgewireError } from "../core/errors.ts";

/**
 * The store's database cannot be used for now; the request may be sent
 * again. `PostgresStore` throws it when PostgreSQL ends or refuses its
 * connection; a custom `ServerStore` may throw it too. Its
 * message never holds the database's URL or password; `cause` is the
 * driver's own error.
 *
 * @example
 * ```ts
 * import { StoreUnavailableError } from "@edgewire/sdk/server";
 *
 * const error = new StoreUnavailableError("PostgreSQL ended the connection: retry once it is back");
 * console.log(error.code); // "store_unavailable"
 * ```
 */
export class StoreUnavailableError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "StoreUnavailableError";

  /**
   * Creates the error.
   *
   * @param message What could not be used and what to do, without credentials.
   * @param cause The driver's own error.
   */
  constructor(message: string, cause?: unknown) {
    super(message, { code: "store_unavailable", cause });
  }
}
