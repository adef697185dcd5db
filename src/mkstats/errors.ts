/**
 * Errors particular to mkStats: an answer the protocol does not allow, and a
 * handshake refused because the server asked the client to back off.
 *
 * @module
 */

import { EdgewireError, type EdgewireErrorOptions } from "../core/errors.ts";

/**
 * The mkStats server answered something the protocol does not allow, such
 * as a handshake with neither an install token nor a challenge.
 *
 * @example
 * ```ts
 * import { MkStatsProtocolError } from "@edgewire/sdk/mkstats";
 *
 * const error = new MkStatsProtocolError("The handshake answer has no install token");
 * console.log(error.code); // "protocol"
 * ```
 */
export class MkStatsProtocolError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "MkStatsProtocolError";

  /**
   * Creates a protocol error.
   *
   * @param message What was wrong with the answer.
   * @param options The cause.
   */
  constructor(message: string, options: EdgewireErrorOptions = {}) {
    super(message, { code: "protocol", ...options });
  }
}

/**
 * The client is backing off after a `429` and will not contact the server
 * until `retryAfterMs` has passed. Only `handshake()` throws it: the other
 * network methods answer `{}` while backing off, as the original does.
 *
 * @example
 * ```ts
 * import { MkStatsBackoffError } from "@edgewire/sdk/mkstats";
 *
 * const error = new MkStatsBackoffError("Cannot handshake while backing off", 30000);
 * console.log(error.retryAfterMs); // 30000
 * ```
 */
export class MkStatsBackoffError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "MkStatsBackoffError";

  /** How long until the client contacts the server again, in milliseconds. */
  readonly retryAfterMs: number;

  /**
   * Creates a backoff error.
   *
   * @param message What was refused.
   * @param retryAfterMs How long until the backoff ends, in milliseconds.
   */
  constructor(message: string, retryAfterMs: number) {
    super(message, { code: "backoff" });
    this.retryAfterMs = retryAfterMs;
  }
}
