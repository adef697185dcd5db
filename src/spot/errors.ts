/**
 * The errors the Spot client raises for what the network cannot say with
 * the core errors: {@linkcode SpotRemoteError} for an answer carrying the
 * error flag, {@linkcode SpotMessageError} for a message or answer that
 * fails the client's checks (not encrypted, not signed by its sender), and
 * {@linkcode SpotClientStateError} for a call the client cannot take now.
 * Deadlines and aborts are the core's `TimeoutError` and `AbortedError`,
 * failed discovery is `HttpError`, `NetworkError` or `SpotProtocolError`.
 *
 * @module
 */

import { EdgewireError } from "../core/errors.ts";

/**
 * The peer or the relay answered a query with the error flag: the body is
 * its error text.
 *
 * @example
 * ```ts
 * import { SpotRemoteError } from "./errors.ts";
 *
 * const error = new SpotRemoteError("k.abc/echo", "no such endpoint");
 * console.log(error.code, error.remoteMessage); // "remote_error" "no such endpoint"
 * ```
 */
export class SpotRemoteError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "SpotRemoteError";

  /** The address the query went to. */
  readonly target: string;
  /** The error text the remote end answered (at most 200 characters of it are in the message). */
  readonly remoteMessage: string;

  /**
   * Creates the error.
   *
   * @param target The address the query went to.
   * @param remoteMessage The error text answered.
   */
  constructor(target: string, remoteMessage: string) {
    const shown = remoteMessage.length > 200 ? `${remoteMessage.slice(0, 200)}…` : remoteMessage;
    super(
      `Cannot complete Spot query to ${target} as it answered an error: ${JSON.stringify(shown)}`,
      { code: "remote_error" },
    );
    this.target = target;
    this.remoteMessage = remoteMessage;
  }
}

/** Why a message or an answer was refused. */
export type SpotMessageProblem =
  /** The bottle did not decode, verify or decrypt. */
  | "unreadable"
  /** A peer's message or answer that should be encrypted was not. */
  | "not_encrypted"
  /** The bottle is not signed by the sender's IDCard. */
  | "wrong_signer"
  /** The sender is not a `k.` address, so there is no IDCard to check against. */
  | "unknown_sender"
  /** An answer that is not the shape its query expects. */
  | "invalid_answer";

/**
 * A message or an answer failed the client's checks: it does not open, is
 * not encrypted, or is not signed by the key its sender claims.
 *
 * @example
 * ```ts
 * import { SpotMessageError } from "./errors.ts";
 *
 * const error = new SpotMessageError("not_encrypted", "Cannot accept the answer of k.abc/echo as it is not encrypted");
 * console.log(error.code); // "not_encrypted"
 * ```
 */
export class SpotMessageError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "SpotMessageError";

  /** Why the message was refused. */
  override readonly code: SpotMessageProblem;

  /**
   * Creates the error.
   *
   * @param code Why the message was refused.
   * @param message What was refused, naming the address, and why.
   * @param options The underlying error.
   */
  constructor(code: SpotMessageProblem, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, cause: options.cause });
    this.code = code;
  }
}

/** Why the client cannot take a call now. */
export type SpotClientState =
  /** `close()` was called. */
  | "closed"
  /** The identity (key and IDCard) is not loaded yet: await `ready()` first. */
  | "not_ready";

/**
 * The client cannot take the call: it is closed, or its identity is not
 * loaded yet. Queries in flight when the client closes fail with it.
 *
 * @example
 * ```ts
 * import { SpotClientStateError } from "./errors.ts";
 *
 * const error = new SpotClientStateError("closed", "Cannot query as the Spot client is closed: create a new one");
 * console.log(error.code); // "closed"
 * ```
 */
export class SpotClientStateError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "SpotClientStateError";

  /** The state that refused the call. */
  override readonly code: SpotClientState;

  /**
   * Creates the error.
   *
   * @param code The state that refused the call.
   * @param message What could not happen, and what to do.
   */
  constructor(code: SpotClientState, message: string) {
    super(message, { code });
    this.code = code;
  }
}
