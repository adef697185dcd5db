/**
 * Spot packets: one binary WebSocket message is one packet, with no length
 * field. The first byte holds the version in its high four bits (always 0)
 * and the type in its low four: 0 ping or pong (the payload echoed raw), 1
 * handshake (a request from the relay, a response from the client: the side
 * reading decides which), 2 instant message. A packet above 1 MiB, the read
 * limit of the real clients, is refused in both directions.
 *
 * @module
 */

import { invalidArgument } from "../../core/validate.ts";
import { SpotProtocolError } from "./errors.ts";
import {
  type DecodedHandshakeRequest,
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  type HandshakeRequest,
  type HandshakeResponse,
} from "./handshake.ts";
import {
  decodeInstantMessage,
  type InstantMessage,
  instantMessageLength,
  writeInstantMessage,
} from "./message.ts";

/** The read limit of the real clients (spotlib's `SetReadLimit(1024 * 1024)`), in bytes. */
export const MAX_PACKET_BYTES = 1024 * 1024;
/** The one protocol version, the first byte's high four bits. */
export const PACKET_VERSION = 0;
/** The packet type of a ping and of its pong. */
export const PACKET_PING = 0x0;
/** The packet type of the handshake, both ways. */
export const PACKET_HANDSHAKE = 0x1;
/** The packet type of an instant message. */
export const PACKET_INSTANT_MESSAGE = 0x2;

/** Which end reads a packet: a handshake is a request for a client, a response for a relay. */
export type SpotSide = "client" | "relay";

/** A ping, or the pong that echoes its payload. */
export interface SpotPingPacket {
  /** The packet type. */
  type: "ping";
  /** The payload, echoed unchanged in the pong. */
  payload: Uint8Array;
}

/** The relay's handshake request, as a relay writes it. */
export interface SpotHandshakeRequestPacket {
  /** The packet type. */
  type: "handshake_request";
  /** The request. */
  request: HandshakeRequest;
}

/** The relay's handshake request, as a client reads it. */
export interface SpotDecodedHandshakeRequestPacket {
  /** The packet type. */
  type: "handshake_request";
  /** The request, with the raw CBOR the client signs. */
  request: DecodedHandshakeRequest;
}

/** The client's handshake response, as a relay reads it. */
export interface SpotHandshakeResponsePacket {
  /** The packet type. */
  type: "handshake_response";
  /** The response. */
  response: HandshakeResponse;
}

/** An instant message. */
export interface SpotMessagePacket {
  /** The packet type. */
  type: "message";
  /** The message. */
  message: InstantMessage;
}

/** Any Spot packet. */
export type SpotPacket =
  | SpotPingPacket
  | SpotHandshakeRequestPacket
  | SpotHandshakeResponsePacket
  | SpotMessagePacket;

/** A decoded packet: a handshake request carries the raw bytes its signature covers. */
export type DecodedSpotPacket =
  | SpotPingPacket
  | SpotDecodedHandshakeRequestPacket
  | SpotHandshakeResponsePacket
  | SpotMessagePacket;

/**
 * Splits a packet's first byte into its version and its type.
 *
 * @param byte The first byte.
 * @returns The version (high four bits) and the type (low four bits).
 *
 * @example
 * ```ts
 * import { splitFirstByte } from "./packet.ts";
 *
 * console.log(splitFirstByte(0x12)); // { version: 1, type: 2 }
 * ```
 */
export function splitFirstByte(byte: number): { version: number; type: number } {
  return { version: (byte >> 4) & 0xf, type: byte & 0xf };
}

/**
 * Decodes one packet. Payloads, message ids and bodies are views into
 * `bytes`; copy them to keep them past the buffer's reuse.
 *
 * @param bytes The whole WebSocket message.
 * @param side Which end reads it: `"client"` reads handshake requests, `"relay"` responses.
 * @returns The packet.
 * @throws {SpotProtocolError} With code `empty_packet`, `packet_too_large`,
 * `unsupported_version` or `unknown_packet_type` for the framing, and the codes of
 * {@linkcode decodeInstantMessage}, {@linkcode decodeHandshakeRequest} and
 * {@linkcode decodeHandshakeResponse} for the body.
 *
 * @example
 * ```ts
 * import { decodePacket } from "./packet.ts";
 *
 * const packet = decodePacket(new Uint8Array([0x00, 0x70, 0x69, 0x6e, 0x67]), "client");
 * if (packet.type === "ping") console.log(new TextDecoder().decode(packet.payload)); // "ping"
 * ```
 */
export function decodePacket(bytes: Uint8Array, side: SpotSide): DecodedSpotPacket {
  if (bytes.length === 0) {
    throw new SpotProtocolError(
      "empty_packet",
      "Cannot decode Spot packet as it is empty: drop it",
    );
  }
  if (bytes.length > MAX_PACKET_BYTES) {
    throw new SpotProtocolError(
      "packet_too_large",
      `Cannot decode Spot packet of ${bytes.length} bytes as the limit is ${MAX_PACKET_BYTES}: close the connection`,
    );
  }
  const { version, type } = splitFirstByte(bytes[0]);
  if (version !== PACKET_VERSION) {
    throw new SpotProtocolError(
      "unsupported_version",
      `Cannot decode Spot packet of version ${version} (type ${type}) as only version 0 exists: drop it`,
    );
  }
  const body = bytes.subarray(1);
  switch (type) {
    case PACKET_PING:
      return { type: "ping", payload: body };
    case PACKET_HANDSHAKE:
      return side === "client"
        ? { type: "handshake_request", request: decodeHandshakeRequest(body) }
        : { type: "handshake_response", response: decodeHandshakeResponse(body) };
    case PACKET_INSTANT_MESSAGE:
      return { type: "message", message: decodeInstantMessage(body) };
    default:
      throw new SpotProtocolError(
        "unknown_packet_type",
        `Cannot decode Spot packet of type ${type} as only types 0, 1 and 2 exist: drop it`,
      );
  }
}

/**
 * Encodes one packet, byte for byte as Go's spotproto writes it.
 *
 * @param packet The packet.
 * @returns The whole WebSocket message.
 * @throws {InvalidArgumentError} When the protocol cannot carry the packet: a field of
 * the wrong type, a message id that is not 16 bytes, an address above 256 bytes, or
 * a packet above {@linkcode MAX_PACKET_BYTES}.
 *
 * @example
 * ```ts
 * import { decodePacket, encodePacket } from "./packet.ts";
 *
 * const bytes = encodePacket({
 *   type: "message",
 *   message: { id: new Uint8Array(16), flags: 0, recipient: "@/time", sender: "/q", body: new Uint8Array() },
 * });
 * console.log(bytes[0], decodePacket(bytes, "relay").type); // 2 "message"
 * ```
 */
export function encodePacket(packet: SpotPacket): Uint8Array {
  switch (packet.type) {
    case "ping":
      if (!(packet.payload instanceof Uint8Array)) {
        throw invalidArgument("encode Spot ping", "payload", "a Uint8Array", packet.payload);
      }
      return withFirstByte(PACKET_PING, packet.payload);
    case "handshake_request":
      return withFirstByte(PACKET_HANDSHAKE, encodeHandshakeRequest(packet.request));
    case "handshake_response":
      return withFirstByte(PACKET_HANDSHAKE, encodeHandshakeResponse(packet.response));
    case "message": {
      const length = 1 + instantMessageLength(packet.message);
      checkSize(length);
      const bytes = new Uint8Array(length);
      bytes[0] = PACKET_INSTANT_MESSAGE;
      writeInstantMessage(packet.message, bytes, 1);
      return bytes;
    }
    default:
      throw invalidArgument(
        "encode Spot packet",
        "type",
        '"ping", "handshake_request", "handshake_response" or "message"',
        (packet as { type: unknown }).type,
        { reveal: true },
      );
  }
}

/**
 * The bytes a client signs to answer a handshake request packet: the packet
 * minus its first byte, exactly.
 *
 * @param packet A handshake request packet as sent or received.
 * @returns A view of its CBOR bytes.
 * @throws {SpotProtocolError} With code `empty_packet` or `unknown_packet_type` when
 * `packet` is not a version-0 handshake packet.
 *
 * @example
 * ```ts
 * import { encodePacket, handshakeSignedBytes } from "./packet.ts";
 *
 * const packet = encodePacket({
 *   type: "handshake_request",
 *   request: { ready: false, serverCode: "s", clientId: "c", nonce: new Uint8Array(8), groups: null },
 * });
 * console.log(handshakeSignedBytes(packet).length === packet.length - 1); // true
 * ```
 */
export function handshakeSignedBytes(packet: Uint8Array): Uint8Array {
  if (packet.length === 0) {
    throw new SpotProtocolError(
      "empty_packet",
      "Cannot sign an empty Spot packet: pass the handshake",
    );
  }
  if (packet[0] !== PACKET_HANDSHAKE) {
    throw new SpotProtocolError(
      "unknown_packet_type",
      `Cannot sign Spot packet with first byte ${packet[0]} as only a handshake (1) is signed`,
    );
  }
  return packet.subarray(1);
}

function withFirstByte(type: number, body: Uint8Array): Uint8Array {
  checkSize(body.length + 1);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = type;
  bytes.set(body, 1);
  return bytes;
}

function checkSize(length: number): void {
  if (length > MAX_PACKET_BYTES) {
    throw invalidArgument(
      "encode Spot packet",
      "packet",
      `at most ${MAX_PACKET_BYTES} bytes once encoded`,
      length,
    );
  }
}
