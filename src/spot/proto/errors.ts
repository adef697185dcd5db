/**
 * The one error the Spot packet codec raises for bytes that break the
 * protocol: {@linkcode SpotProtocolError}, whose `code` names the rule that
 * was broken, so a client can drop the packet or close the connection and a
 * relay can pick its answer without parsing a message.
 *
 * @module
 */

import { EdgewireError } from "../../core/errors.ts";

/** Which rule of the Spot protocol the bytes broke. */
export type SpotProtocolProblem =
  /** A packet of zero bytes: there is no first byte to read. */
  | "empty_packet"
  /** A packet above the 1 MiB read limit of the real clients. */
  | "packet_too_large"
  /** The first byte's high four bits are not 0, the only version there is. */
  | "unsupported_version"
  /** The first byte's low four bits name no packet type (0 ping, 1 handshake, 2 message). */
  | "unknown_packet_type"
  /** The bytes end before a field they declare: a message id, a varint, an address. */
  | "truncated"
  /** A varint longer than it needs to be, or running past 64 bits. */
  | "overlong_varint"
  /** A varint above 2^53 - 1, the largest integer a JavaScript number holds exactly. */
  | "value_out_of_range"
  /** A recipient or sender above the 256 bytes the protocol allows. */
  | "address_too_long"
  /** Text that is not well-formed UTF-8. */
  | "invalid_utf8"
  /** A handshake that is not well-formed CBOR, or holds bytes after its one item. */
  | "invalid_cbor"
  /** A handshake map with a field of the wrong type. */
  | "invalid_handshake"
  /** An address that is none of the `k.`, `c.`, `g.`, `@/` and `/` forms. */
  | "invalid_address"
  /** An `@/time` answer shorter than 12 bytes, or seconds beyond 2^53 - 1. */
  | "invalid_time"
  /** A blob store body without the 0x00 that ends its key. */
  | "invalid_blob_body"
  /** An `@/group_list` answer whose length is not a multiple of 32. */
  | "invalid_group_list"
  /** A discovery answer without a list of hosts, or with a field of the wrong type. */
  | "invalid_discovery";

/**
 * Bytes (or a decoded answer) that are not valid Spot protocol. The packet
 * is beyond use: a client drops it, a relay answers with an error or closes
 * the connection.
 *
 * @example Branch on the problem
 * ```ts
 * import { SpotProtocolError } from "./errors.ts";
 *
 * const error = new SpotProtocolError("empty_packet", "Cannot decode Spot packet as it is empty: drop it");
 * console.log(error.code, error instanceof Error); // "empty_packet" true
 * ```
 */
export class SpotProtocolError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "SpotProtocolError";

  /** The rule the bytes broke. */
  override readonly code: SpotProtocolProblem;

  /**
   * Creates the error.
   *
   * @param code The rule the bytes broke.
   * @param message What was wrong, naming the field and the value, and what to do.
   * @param options The error that led to this one, such as the CBOR decoder's.
   */
  constructor(code: SpotProtocolProblem, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, cause: options.cause });
    this.code = code;
  }
}
