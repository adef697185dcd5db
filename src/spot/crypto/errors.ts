/**
 * The error the Spot crypto layer raises: {@linkcode SpotKeyError} for a key
 * that does not parse, has a type the operation cannot use, or that the
 * runtime refuses. Messages name the operation and the reason, never key
 * bytes.
 *
 * @module
 */

import { EdgewireError, type EdgewireErrorOptions } from "../../core/errors.ts";

/**
 * A key could not be parsed, imported or used for the operation asked.
 *
 * @example
 * ```ts
 * import { SpotKeyError } from "./errors.ts";
 *
 * const error = new SpotKeyError("import PKIX public key", "Cannot import the PKIX public key as it is empty: pass SubjectPublicKeyInfo DER");
 * console.log(error.operation, error.code); // "import PKIX public key" "spot_key"
 * ```
 */
export class SpotKeyError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "SpotKeyError";

  /** What was being done with the key, such as `"import PKCS#8 private key"` or `"sign"`. */
  readonly operation: string;

  /**
   * Creates the error.
   *
   * @param operation What was being done with the key.
   * @param message What went wrong and what to do, without key bytes.
   * @param options The underlying error as `cause`.
   */
  constructor(
    operation: string,
    message: string,
    options: Pick<EdgewireErrorOptions, "cause"> = {},
  ) {
    super(message, { code: "spot_key", ...options });
    this.operation = operation;
  }
}
