/**
 * The Honch error classes, named as the original SDK names its error codes,
 * each extending {@linkcode HonchError} and so {@linkcode EdgewireError}.
 * The codec adds {@linkcode WireFormatError} for bytes that are not a valid
 * wire-v2 frame or message.
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

/**
 * An argument, option or event does not fit Honch's rules or limits. `field`
 * names what is at fault (an option, or a property path such as
 * `properties.items[2]`).
 *
 * @example
 * ```ts
 * import { InvalidArgumentError } from "@edgewire/sdk/honch";
 *
 * const error = new InvalidArgumentError("batchSize", "Cannot create HonchClient as 'batchSize' must be 1..50: current value is 80");
 * console.log(error.field); // "batchSize"
 * ```
 */
export class InvalidArgumentError extends HonchError {
  /** The option, argument or property path at fault. */
  readonly field: string;

  /**
   * Creates the error.
   *
   * @param field The option, argument or property path at fault.
   * @param message What is wrong and what to do.
   */
  constructor(field: string, message: string) {
    super(message, { code: "invalid_argument" });
    this.field = field;
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
