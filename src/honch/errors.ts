/**
 * The Honch error classes, named as the original SDK names its error codes,
 * each extending {@linkcode HonchError} and so {@linkcode EdgewireError}.
 * The codec adds {@linkcode WireFormatError} for bytes that are not a valid
 * wire-v2 frame or message. Invalid arguments and storage failures are the
 * core's `InvalidArgumentError` and `StorageError`, shared by every client.
 *
 * @module
 */

import { EdgewireError, type EdgewireErrorOptions } from "../core/errors.ts";

/**
 * The base of every Honch error.
 *
 * @example
 * ```ts
 * import { HonchError } from "@edgewire/sdk/honch";
 *
 * const error = new HonchError("Cannot flush while offline", { code: "offline" });
 * console.log(error instanceof HonchError, error.code); // true "offline"
 * ```
 */
export class HonchError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "HonchError";

  /**
   * Creates an error.
   *
   * @param message What went wrong and what to do.
   * @param options The cause and a machine-readable code.
   */
  constructor(message: string, options: EdgewireErrorOptions = {}) {
    super(message, options);
  }
}

/** What a {@linkcode WireFormatError} is about. */
export type WireFormatProblem =
  /** The bytes cannot be parsed: truncated, unknown tag, bad varint, trailing bytes. */
  | "malformed"
  /** The bytes parse but break a rule of the format: limits, missing context, reserved keys. */
  | "invalid"
  /** A frame's CRC does not match the reassembled message. */
  | "bad_crc"
  /** A continuation frame does not start where the previous one ended. */
  | "offset_gap"
  /** A frame repeats one already taken. */
  | "duplicate"
  /** A message or frame exceeds its size limit. */
  | "oversize";

/**
 * Bytes that are not a valid wire-v2 frame or message. `problem` tells a
 * malformed encoding (answered 400 by a collector) from a semantically
 * invalid one (422), and the framing failures apart.
 *
 * @example
 * ```ts
 * import { WireFormatError } from "@edgewire/sdk/honch";
 *
 * const error = new WireFormatError("malformed", "Cannot decode the message: it ends inside a varint at byte 3");
 * console.log(error.problem, error.code); // "malformed" "malformed"
 * ```
 */
export class WireFormatError extends HonchError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "WireFormatError";

  /** What kind of failure this is. */
  readonly problem: WireFormatProblem;

  /**
   * Creates the error.
   *
   * @param problem What kind of failure this is; also the `code`.
   * @param message Where the bytes went wrong.
   */
  constructor(problem: WireFormatProblem, message: string) {
    super(message, { code: problem });
    this.problem = problem;
  }
}

/**
 * An upload failed before any answer arrived: the network failed or the
 * transport timeout passed. The events stay queued and are retried.
 *
 * @example
 * ```ts
 * import { TransportError } from "@edgewire/sdk/honch";
 *
 * const error = new TransportError("Cannot upload events as the request timed out: they stay queued");
 * console.log(error.code); // "transport"
 * ```
 */
export class TransportError extends HonchError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "TransportError";

  /**
   * Creates the error.
   *
   * @param message What failed and what to do.
   * @param options The underlying error.
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "transport", cause: options.cause });
  }
}

/**
 * A flush was asked for while the device is offline (the connectivity
 * callback answered `false`, or `disconnected()` was the last report).
 *
 * @example
 * ```ts
 * import { OfflineError } from "@edgewire/sdk/honch";
 *
 * const error = new OfflineError("Cannot flush while offline: call connected() once the network is back");
 * console.log(error.code); // "offline"
 * ```
 */
export class OfflineError extends HonchError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "OfflineError";

  /**
   * Creates the error.
   *
   * @param message What failed and what to do.
   */
  constructor(message: string) {
    super(message, { code: "offline" });
  }
}

/**
 * Capture answered 429: too many uploads. The events stay queued and are
 * retried after `retryAfterMs` (or the backoff, whichever is longer).
 *
 * @example
 * ```ts
 * import { RateLimitedError } from "@edgewire/sdk/honch";
 *
 * const error = new RateLimitedError("Cannot upload events as capture answered 429: they stay queued", 30000);
 * console.log(error.retryAfterMs); // 30000
 * ```
 */
export class RateLimitedError extends HonchError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "RateLimitedError";

  /** How long capture asked the client to wait, from `Retry-After`, when it said. */
  readonly retryAfterMs: number | undefined;

  /**
   * Creates the error.
   *
   * @param message What failed and what to do.
   * @param retryAfterMs How long capture asked the client to wait, in milliseconds.
   */
  constructor(message: string, retryAfterMs?: number) {
    super(message, { code: "rate_limited" });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Capture answered with a status worth retrying other than 429 (5xx, 408,
 * 409). The events stay queued and are retried with backoff.
 *
 * @example
 * ```ts
 * import { ServerError } from "@edgewire/sdk/honch";
 *
 * const error = new ServerError("Cannot upload events as capture answered 503: they stay queued", 503);
 * console.log(error.status); // 503
 * ```
 */
export class ServerError extends HonchError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "ServerError";

  /** The HTTP status code. */
  readonly status: number;

  /**
   * Creates the error.
   *
   * @param message What failed and what to do.
   * @param status The HTTP status code.
   */
  constructor(message: string, status: number) {
    super(message, { code: "server" });
    this.status = status;
  }
}

/**
 * Capture refused events for good (401 or another 4xx that is not retried),
 * so they were dropped from the queue and counted.
 *
 * @example
 * ```ts
 * import { RejectedError } from "@edgewire/sdk/honch";
 *
 * const error = new RejectedError("Capture rejected 3 events with status 422: they were dropped", 422);
 * console.log(error.status); // 422
 * ```
 */
export class RejectedError extends HonchError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "RejectedError";

  /** The HTTP status code, when one was received. */
  readonly status: number | undefined;

  /**
   * Creates the error.
   *
   * @param message What was dropped and why.
   * @param status The HTTP status code, when one was received.
   */
  constructor(message: string, status?: number) {
    super(message, { code: "rejected" });
    this.status = status;
  }
}

/**
 * The client cannot do this any more: it was shut down.
 *
 * @example
 * ```ts
 * import { NotInitializedError } from "@edgewire/sdk/honch";
 *
 * const error = new NotInitializedError("Cannot track as the client was shut down: create a new HonchClient");
 * console.log(error.code); // "not_initialized"
 * ```
 */
export class NotInitializedError extends HonchError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "NotInitializedError";

  /**
   * Creates the error.
   *
   * @param message What failed and what to do.
   */
  constructor(message: string) {
    super(message, { code: "not_initialized" });
  }
}
