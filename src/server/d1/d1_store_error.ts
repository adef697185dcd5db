/**
 * The error {@linkcode D1Store} raises of its own, as opposed to the errors
 * D1 itself reports (a constraint, a limit, an outage), which pass through
 * unchanged.
 *
 * @module
 */

import { EdgewireError } from "../../core/errors.ts";

/** Why a {@linkcode D1StoreError} was raised. */
export type D1StoreErrorCode = "d1_store_closed" | "d1_schema_newer";

/**
 * Raised by {@linkcode D1Store} when it is used after `close()`
 * (`d1_store_closed`), or when the database's schema was written by a newer
 * release than this one (`d1_schema_newer`), which it will not downgrade.
 *
 * @example Tell a newer schema apart
 * ```ts
 * import { D1StoreError } from "@edgewire/sdk/server/d1";
 *
 * const error = new D1StoreError("Cannot use D1Store as it is closed: open a new one", "d1_store_closed");
 * console.log(error instanceof D1StoreError && error.code); // "d1_store_closed"
 * ```
 */
export class D1StoreError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "D1StoreError";
  /** Why it was raised. */
  declare readonly code: D1StoreErrorCode;

  /**
   * Creates the error.
   *
   * @param message What failed and what to do about it.
   * @param code Why it was raised.
   */
  constructor(message: string, code: D1StoreErrorCode) {
    super(message, { code });
  }
}
