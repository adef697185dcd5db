/**
 * The one error the MQTT codec raises for bytes that are not a valid MQTT
 * 3.1.1 (or 3.1) packet: {@linkcode MqttProtocolError}, whose `code` names
 * the rule broken so a client can close the connection and a broker can pick
 * its answer (an unsupported protocol gets CONNACK 1 before the close).
 *
 * @module
 */

import { EdgewireError } from "../../core/errors.ts";

/** Which rule of the protocol the bytes broke. */
export type MqttProtocolProblem =
  /** The remaining length runs past four bytes. */
  | "malformed_remaining_length"
  /** The declared remaining length is above the decoder's `maxPacketSize`. */
  | "packet_too_large"
  /** The packet type is 0 or 15, which MQTT reserves. */
  | "reserved_packet_type"
  /** The fixed header's flag bits are not the ones the type requires. */
  | "invalid_flags"
  /** The body is shorter than its fields need, or longer than they use. */
  | "invalid_length"
  /** A string is not well-formed UTF-8 or holds U+0000. */
  | "invalid_string"
  /** CONNECT names a protocol other than `MQTT` level 4 or `MQIsdp` level 3. */
  | "unsupported_protocol"
  /** CONNECT's flags break a rule: the reserved bit, or will or password without what they need. */
  | "invalid_connect_flags"
  /** A QoS of 3, or reserved bits set beside a QoS. */
  | "invalid_qos"
  /** A packet identifier of 0. */
  | "invalid_packet_id"
  /** A CONNACK or SUBACK return code MQTT does not define, or CONNACK's reserved bits set. */
  | "invalid_return_code"
  /** An empty topic name or topic filter. */
  | "invalid_topic"
  /** A SUBSCRIBE, SUBACK or UNSUBSCRIBE with no entries. */
  | "no_topics"
  /** Bytes pushed into a decoder that already refused a packet. */
  | "decoder_failed";

/**
 * Bytes that are not a valid MQTT packet. The decoder that raised it refuses
 * any further input: the connection it reads is beyond repair and should be
 * closed.
 *
 * @example Branch on the problem
 * ```ts
 * import { MqttProtocolError } from "./errors.ts";
 *
 * const error = new MqttProtocolError("invalid_qos", "Cannot decode PUBLISH as its QoS is 3: close the connection");
 * console.log(error.code, error instanceof Error); // "invalid_qos" true
 * ```
 */
export class MqttProtocolError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "MqttProtocolError";

  /** The rule the bytes broke. */
  override readonly code: MqttProtocolProblem;

  /**
   * Creates the error.
   *
   * @param code The rule the bytes broke.
   * @param message What was wrong, naming the packet and the value.
   */
  constructor(code: MqttProtocolProblem, message: string) {
    super(message, { code });
    this.code = code;
  }
}
