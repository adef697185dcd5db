/**
 * The Spot instant message (packet type 2) without its first byte: a 16-byte
 * message id, the flags as an unsigned varint, the recipient and the sender
 * each as a varint length and at most 256 bytes of UTF-8, and the body as
 * every byte left. The flag values are those of spotproto's `message.go`
 * (response 1, error 2, not-bottle 4); the older `protocol.md` table that
 * gave 1 to not-bottle is outdated.
 *
 * @module
 */

import { hasLoneSurrogate, utf8ByteLength } from "../../core/utf8.ts";
import { invalidArgument } from "../../core/validate.ts";
import { uvarintLength } from "../../core/bytes.ts";
import { ByteReader, decodeUtf8, encodeUtf8, writeUvarint } from "./_bytes.ts";
import { SpotProtocolError } from "./errors.ts";

/** The flag of an answer, which must never be answered in turn. */
export const MESSAGE_FLAG_RESPONSE = 0x01;
/** The flag of an answer whose body is an error text. */
export const MESSAGE_FLAG_ERROR = 0x02;
/** The flag of a body that is not a bottle (neither signed nor encrypted). */
export const MESSAGE_FLAG_NOT_BOTTLE = 0x04;

/** The length of a message id: a UUID's 16 bytes. */
export const MESSAGE_ID_BYTES = 16;
/** The most bytes a recipient or a sender may take, as spotproto's reader allows. */
export const MAX_ADDRESS_BYTES = 256;

/** One instant message, as it travels in a type-2 packet. */
export interface InstantMessage {
  /** The message id: 16 bytes (spotlib uses a random UUID); an answer keeps the query's. */
  id: Uint8Array;
  /** The flags: {@linkcode MESSAGE_FLAG_RESPONSE}, `_ERROR`, `_NOT_BOTTLE`; other bits are kept. */
  flags: number;
  /** Where the message goes, such as `k.<hash>/ping` or `@/time`. */
  recipient: string;
  /** Where answers go, such as `/<message uuid>`; the relay rewrites it to the verified key. */
  sender: string;
  /** The body: a CBOR bottle unless the not-bottle flag is set. */
  body: Uint8Array;
}

const ACTION = "encode Spot message";

/**
 * How many bytes {@linkcode encodeInstantMessage} writes for a message,
 * checking what the protocol can carry.
 *
 * @param message The message.
 * @returns The byte length, first byte of the packet not included.
 * @throws {InvalidArgumentError} When the id is not 16 bytes, the flags are not a safe
 * non-negative integer, or an address is above 256 bytes or holds a lone surrogate.
 *
 * @example
 * ```ts
 * import { instantMessageLength } from "./message.ts";
 *
 * const id = new Uint8Array(16);
 * console.log(instantMessageLength({ id, flags: 0, recipient: "@/time", sender: "/a", body: new Uint8Array() })); // 27
 * ```
 */
export function instantMessageLength(message: InstantMessage): number {
  const { id, flags, recipient, sender, body } = message;
  if (!(id instanceof Uint8Array) || id.length !== MESSAGE_ID_BYTES) {
    throw invalidArgument(ACTION, "id", "16 bytes", id);
  }
  if (!Number.isSafeInteger(flags) || flags < 0) {
    throw invalidArgument(ACTION, "flags", "a non-negative safe integer", flags);
  }
  if (!(body instanceof Uint8Array)) throw invalidArgument(ACTION, "body", "a Uint8Array", body);
  const recipientBytes = addressLength("recipient", recipient);
  const senderBytes = addressLength("sender", sender);
  return MESSAGE_ID_BYTES + uvarintLength(flags) + uvarintLength(recipientBytes) +
    recipientBytes + uvarintLength(senderBytes) + senderBytes + body.length;
}

function addressLength(field: "recipient" | "sender", value: unknown): number {
  const rule = `a string of at most ${MAX_ADDRESS_BYTES} UTF-8 bytes`;
  if (typeof value !== "string" || hasLoneSurrogate(value)) {
    throw invalidArgument(ACTION, field, rule, value);
  }
  const length = utf8ByteLength(value);
  if (length > MAX_ADDRESS_BYTES) throw invalidArgument(ACTION, field, rule, value);
  return length;
}

/**
 * Writes a message into `target` at `offset`, as spotproto's
 * `Message.Bytes()`; {@linkcode instantMessageLength} says how much room it needs.
 *
 * @param message The message, already checked by {@linkcode instantMessageLength}.
 * @param target The bytes to write into.
 * @param offset Where to start.
 * @returns The offset after the message.
 * @throws {RangeError} When `target` is too short.
 *
 * @example
 * ```ts
 * import { instantMessageLength, writeInstantMessage } from "./message.ts";
 *
 * const message = { id: new Uint8Array(16), flags: 1, recipient: "/a", sender: "/noreply", body: new Uint8Array([1]) };
 * const bytes = new Uint8Array(instantMessageLength(message));
 * console.log(writeInstantMessage(message, bytes, 0) === bytes.length); // true
 * ```
 */
export function writeInstantMessage(
  message: InstantMessage,
  target: Uint8Array,
  offset: number,
): number {
  target.set(message.id, offset);
  offset = writeUvarint(target, offset + MESSAGE_ID_BYTES, message.flags);
  for (const address of [message.recipient, message.sender]) {
    const bytes = encodeUtf8(address);
    offset = writeUvarint(target, offset, bytes.length);
    target.set(bytes, offset);
    offset += bytes.length;
  }
  target.set(message.body, offset);
  return offset + message.body.length;
}

/**
 * Encodes a message without the packet's first byte, byte for byte as
 * spotproto's `Message.Bytes()`.
 *
 * @param message The message.
 * @returns Its bytes.
 * @throws {InvalidArgumentError} When the protocol cannot carry the message (see
 * {@linkcode instantMessageLength}).
 *
 * @example
 * ```ts
 * import { decodeInstantMessage, encodeInstantMessage } from "./message.ts";
 *
 * const bytes = encodeInstantMessage({
 *   id: crypto.getRandomValues(new Uint8Array(16)),
 *   flags: 0,
 *   recipient: "@/time",
 *   sender: "/query-1",
 *   body: new Uint8Array(),
 * });
 * console.log(decodeInstantMessage(bytes).recipient); // "@/time"
 * ```
 */
export function encodeInstantMessage(message: InstantMessage): Uint8Array {
  const bytes = new Uint8Array(instantMessageLength(message));
  writeInstantMessage(message, bytes, 0);
  return bytes;
}

/**
 * Decodes a message without the packet's first byte. The id and the body
 * are views into `bytes`, not copies.
 *
 * @param bytes The bytes after the packet's first byte.
 * @returns The message.
 * @throws {SpotProtocolError} With code `truncated` when a field runs past the end,
 * `overlong_varint` or `value_out_of_range` for a bad varint, `address_too_long` for
 * an address above 256 bytes, `invalid_utf8` for an address that is not UTF-8.
 *
 * @example
 * ```ts
 * import { decodeInstantMessage, MESSAGE_FLAG_RESPONSE } from "./message.ts";
 *
 * const bytes = new Uint8Array([...new Uint8Array(16), 1, 2, 0x2f, 0x61, 0, 0x68, 0x69]);
 * const message = decodeInstantMessage(bytes);
 * console.log(message.recipient, (message.flags & MESSAGE_FLAG_RESPONSE) !== 0); // "/a" true
 * ```
 */
export function decodeInstantMessage(bytes: Uint8Array): InstantMessage {
  const reader = new ByteReader(bytes, "Spot message");
  const id = reader.take(MESSAGE_ID_BYTES, "message id");
  const flags = reader.uvarint("flags");
  const recipient = readAddress(reader, "recipient");
  const sender = readAddress(reader, "sender");
  return { id, flags, recipient, sender, body: reader.rest() };
}

function readAddress(reader: ByteReader, field: "recipient" | "sender"): string {
  const length = reader.uvarint(`${field} length`);
  if (length > MAX_ADDRESS_BYTES) {
    throw new SpotProtocolError(
      "address_too_long",
      `Cannot decode Spot message as its ${field} is ${length} bytes, above the ${MAX_ADDRESS_BYTES} the protocol allows: drop the packet`,
    );
  }
  return decodeUtf8(reader.take(length, field), `Spot message ${field}`);
}
