/**
 * The statuses and messages the Emitter broker answers with, in its own words
 * (they are wire data: clients and SDKs compare them), and
 * {@linkcode EmitterError}, the typed error that carries one of them.
 *
 * @module
 */

import { EdgewireError } from "../../core/errors.ts";

/** One answer of the broker that is not a success: a status and its message. */
export interface EmitterStatus {
  /** The HTTP-like status, such as 400 or 401. */
  readonly status: number;
  /** The broker's message, lower case, exactly as it sends it. */
  readonly message: string;
}

function status(code: number, message: string): EmitterStatus {
  return Object.freeze({ status: code, message });
}

/**
 * Every status the broker answers requests and refusals with, named as in the
 * real broker (`ErrBadRequest` is `badRequest`, and so on).
 *
 * @example
 * ```ts
 * import { EMITTER_STATUS } from "./errors.ts";
 *
 * console.log(EMITTER_STATUS.unauthorized.status); // 401
 * ```
 */
export const EMITTER_STATUS: {
  readonly badRequest: EmitterStatus;
  readonly unauthorized: EmitterStatus;
  readonly paymentRequired: EmitterStatus;
  readonly forbidden: EmitterStatus;
  readonly notFound: EmitterStatus;
  readonly serverError: EmitterStatus;
  readonly notImplemented: EmitterStatus;
  readonly targetInvalid: EmitterStatus;
  readonly targetTooLong: EmitterStatus;
  readonly linkInvalid: EmitterStatus;
  readonly unauthorizedExt: EmitterStatus;
} = Object.freeze({
  badRequest: status(400, "the request was invalid or cannot be otherwise served"),
  unauthorized: status(
    401,
    "the security key provided is not authorized to perform this operation",
  ),
  paymentRequired: status(
    402,
    "the request can not be served, as the payment is required to proceed",
  ),
  forbidden: status(
    403,
    "the request is understood, but it has been refused or access is not allowed",
  ),
  notFound: status(404, "the resource requested does not exist"),
  serverError: status(
    500,
    "an unexpected condition was encountered and no more specific message is suitable",
  ),
  notImplemented: status(
    501,
    "the server either does not recognize the request method, or it lacks the ability to fulfill the request",
  ),
  targetInvalid: status(
    400,
    "channel should end with `/` for strict types or `/#/` for wildcards",
  ),
  targetTooLong: status(400, "channel can not have more than 23 parts"),
  linkInvalid: status(400, "the link must be an alphanumeric string of 1 or 2 characters"),
  unauthorizedExt: status(
    401,
    "the security key with extend permission can only be used for private links",
  ),
});

/**
 * An Emitter refusal as a typed error: the broker's status and message, for a
 * caller to branch on `status`.
 *
 * @example
 * ```ts
 * import { EMITTER_STATUS, EmitterError } from "./errors.ts";
 *
 * const error = new EmitterError(EMITTER_STATUS.notFound);
 * console.log(error.status, error.brokerMessage); // 404 "the resource requested does not exist"
 * ```
 */
export class EmitterError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "EmitterError";

  /** The broker's status, such as 401. */
  readonly status: number;

  /** The broker's own message, unchanged. */
  readonly brokerMessage: string;

  /**
   * Creates an error from a broker status.
   *
   * @param answer The status and message, from {@linkcode EMITTER_STATUS} or a broker answer.
   * @param options The cause of the error, when there is one.
   */
  constructor(answer: EmitterStatus, options: { cause?: unknown } = {}) {
    super(`Emitter refused the request with status ${answer.status}: ${answer.message}`, {
      cause: options.cause,
      code: `emitter_${answer.status}`,
    });
    this.status = answer.status;
    this.brokerMessage = answer.message;
  }
}
