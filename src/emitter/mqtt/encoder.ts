/**
 * Encodes MQTT 3.1.1 (and 3.1) control packets: {@linkcode encodePacket}
 * gives an exactly-sized `Uint8Array` of its own, {@linkcode encodeInto} writes into a
 * buffer the caller owns (a broker fanning one message out encodes once),
 * and {@linkcode encodedLength} says how many bytes that takes. Each packet
 * is measured once (its strings' UTF-8 lengths kept in a reused scratch
 * array) and written once. Small packets are cut from a shared 16 KiB slab,
 * as Node's `Buffer` pool does, since allocating a backing store costs more
 * than encoding a typical publish; each packet's bytes are never written
 * again, but its `.buffer` is the slab: never transfer or detach it. A packet the
 * protocol cannot carry is refused with an `InvalidArgumentError` that never
 * shows a topic's text, since Emitter topics start with a channel key.
 *
 * @module
 */

import { integer, invalidArgument } from "../../core/validate.ts";
import { MAX_REMAINING_LENGTH, type MqttPacket, type MqttQos } from "./packets.ts";
import { mqttStringLength, writeMqttString } from "./_strings.ts";

/** The type nibble of each packet type, already shifted into the high bits. */
const TYPE_BITS = {
  connect: 0x10,
  connack: 0x20,
  publish: 0x30,
  puback: 0x40,
  pubrec: 0x50,
  pubrel: 0x62, // PUBREL, SUBSCRIBE and UNSUBSCRIBE carry the required flags 0b0010
  pubcomp: 0x70,
  subscribe: 0x82,
  suback: 0x90,
  unsubscribe: 0xa2,
  unsuback: 0xb0,
  pingreq: 0xc0,
  pingresp: 0xd0,
  disconnect: 0xe0,
} as const;

/** The slab small packets are cut from, and where its free part starts. */
const SLAB_SIZE = 16_384;
const SLAB_MAX_PACKET = 2_048;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabOffset = 0;

/** The UTF-8 lengths of the packet's strings, in the order the writer meets them. */
const lengths: number[] = [];

/**
 * Says how many bytes {@linkcode encodeInto} will write for `packet`.
 *
 * @param packet The packet to measure.
 * @returns Its encoded size in bytes, fixed header included.
 * @throws {InvalidArgumentError} When the protocol cannot carry the packet:
 * a packet identifier outside 1..65535, a string with U+0000 or a lone
 * surrogate or over 65535 bytes, a QoS other than 0, 1 or 2, an empty topic
 * or topic list, a password without a user name, a body over 268,435,455 bytes.
 *
 * @example
 * ```ts
 * import { encodedLength } from "./encoder.ts";
 *
 * console.log(encodedLength({ type: "pingreq" })); // 2
 * ```
 */
export function encodedLength(packet: MqttPacket): number {
  const body = measure(packet);
  return 1 + varintSize(body) + body;
}

/**
 * Encodes `packet` into a `Uint8Array` of exactly its size. Packets up to
 * 2 KiB are views of a shared slab (their bytes are theirs alone, but their
 * `.buffer` is shared: send or copy the view, never transfer its buffer);
 * larger ones get their own buffer.
 *
 * @param packet The packet to encode.
 * @returns The packet's bytes, which nothing else writes.
 * @throws {InvalidArgumentError} When the protocol cannot carry the packet (see
 * {@linkcode encodedLength}).
 *
 * @example Encode an Emitter publish
 * ```ts
 * import { encodePacket } from "./encoder.ts";
 *
 * const bytes = encodePacket({
 *   type: "publish",
 *   topic: "KEY/chat/",
 *   payload: new TextEncoder().encode("hello"),
 *   qos: 0,
 *   retain: false,
 *   dup: false,
 * });
 * console.log(bytes.length); // 18
 * ```
 */
export function encodePacket(packet: MqttPacket): Uint8Array {
  const body = measure(packet);
  const size = 1 + varintSize(body) + body;
  if (size > SLAB_MAX_PACKET) {
    const own = new Uint8Array(size);
    write(packet, body, own, 0);
    return own;
  }
  if (slabOffset + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabOffset = 0;
  }
  const out = new Uint8Array(slab, slabOffset, size);
  // Keep the next packet 8-byte aligned, as Node's pool does
  slabOffset = (slabOffset + size + 7) & ~7;
  write(packet, body, out, 0);
  return out;
}

/**
 * Encodes `packet` into `target` at `offset`, for a caller that reuses one
 * buffer. The bytes written stay the caller's: nothing keeps a reference.
 *
 * @param packet The packet to encode.
 * @param target The buffer to write into.
 * @param offset Where the packet starts in `target`.
 * @returns The offset just past the packet.
 * @throws {InvalidArgumentError} When the protocol cannot carry the packet (see
 * {@linkcode encodedLength}), or `target` has no room for it after `offset`.
 *
 * @example Encode twice into one buffer
 * ```ts
 * import { encodeInto } from "./encoder.ts";
 *
 * const buffer = new Uint8Array(64);
 * let end = encodeInto({ type: "puback", packetId: 7 }, buffer, 0);
 * end = encodeInto({ type: "pingreq" }, buffer, end);
 * console.log(buffer.subarray(0, end)); // Uint8Array(6) [ 64, 2, 0, 7, 192, 0 ]
 * ```
 */
export function encodeInto(packet: MqttPacket, target: Uint8Array, offset: number): number {
  const body = measure(packet);
  const size = 1 + varintSize(body) + body;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > target.length) {
    throw invalidArgument(
      `encode ${name(packet)}`,
      "target",
      `a buffer with ${size} bytes free after offset ${offset}`,
      target,
    );
  }
  return write(packet, body, target, offset);
}

/** Checks the packet and returns its body length, filling `lengths` with its strings'. */
function measure(packet: MqttPacket): number {
  lengths.length = 0;
  let body: number;
  switch (packet.type) {
    case "publish": {
      const qos = checkQos(packet, "qos", packet.qos);
      body = str(packet, "topic", packet.topic, false) + packet.payload.length;
      if (qos > 0) {
        checkId(packet, packet.packetId);
        body += 2;
      } else if (packet.dup) {
        throw invalidArgument("encode PUBLISH", "dup", "false at QoS 0", packet.dup);
      }
      break;
    }
    case "connect": {
      const version = packet.protocolVersion;
      if (version !== 3 && version !== 4) {
        throw invalidArgument("encode CONNECT", "protocolVersion", "3 or 4", version);
      }
      integer("encode CONNECT", "keepAlive", packet.keepAlive, undefined, { min: 0, max: 65535 });
      // Protocol name (6 or 8 bytes), level, flags, keepalive
      body = (version === 4 ? 6 : 8) + 4 + str(packet, "clientId", packet.clientId, true);
      if (packet.will !== undefined) {
        checkQos(packet, "will.qos", packet.will.qos);
        body += str(packet, "will.topic", packet.will.topic, false);
        body += bin(packet, "will.payload", packet.will.payload);
      }
      if (packet.username !== undefined) body += str(packet, "username", packet.username, true);
      if (packet.password !== undefined) {
        if (packet.username === undefined) {
          throw invalidArgument("encode CONNECT", "username", "set when a password is", undefined);
        }
        body += bin(packet, "password", packet.password);
      }
      break;
    }
    case "connack":
      if (!Number.isInteger(packet.returnCode) || packet.returnCode < 0 || packet.returnCode > 5) {
        throw invalidArgument(
          "encode CONNACK",
          "returnCode",
          "an integer from 0 to 5",
          packet.returnCode,
        );
      }
      body = 2;
      break;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
    case "unsuback":
      checkId(packet, packet.packetId);
      body = 2;
      break;
    case "subscribe":
      checkId(packet, packet.packetId);
      nonEmpty(packet, "subscriptions", packet.subscriptions.length);
      body = 2;
      for (const subscription of packet.subscriptions) {
        checkQos(packet, "subscriptions.qos", subscription.qos);
        body += str(packet, "subscriptions.topic", subscription.topic, false) + 1;
      }
      break;
    case "suback":
      checkId(packet, packet.packetId);
      nonEmpty(packet, "granted", packet.granted.length);
      for (const code of packet.granted) {
        if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80) {
          throw invalidArgument("encode SUBACK", "granted", "0, 1, 2 or 128 each", code);
        }
      }
      body = 2 + packet.granted.length;
      break;
    case "unsubscribe":
      checkId(packet, packet.packetId);
      nonEmpty(packet, "topics", packet.topics.length);
      body = 2;
      for (const topic of packet.topics) body += str(packet, "topics", topic, false);
      break;
    case "pingreq":
    case "pingresp":
    case "disconnect":
      body = 0;
      break;
    default:
      throw invalidArgument(
        "encode a packet",
        "type",
        "an MQTT packet type",
        (packet as MqttPacket).type,
        {
          reveal: true,
        },
      );
  }
  if (body > MAX_REMAINING_LENGTH) {
    throw invalidArgument(
      `encode ${name(packet)}`,
      "packet",
      `at most ${MAX_REMAINING_LENGTH} bytes long`,
      body,
    );
  }
  return body;
}

/** Writes the measured packet; `lengths` holds its strings' lengths in order. */
function write(packet: MqttPacket, body: number, out: Uint8Array, offset: number): number {
  let at = offset;
  let next = 0;
  let first: number = TYPE_BITS[packet.type];
  if (packet.type === "publish") {
    first |= (packet.dup ? 0x08 : 0) | (packet.qos << 1) | (packet.retain ? 0x01 : 0);
  }
  out[at++] = first;
  // Remaining length: 7 bits per byte, high bit set while more follow
  let rest = body;
  do {
    const digit = rest & 0x7f;
    rest >>>= 7;
    out[at++] = rest > 0 ? digit | 0x80 : digit;
  } while (rest > 0);
  switch (packet.type) {
    case "publish":
      at = writeMqttString(packet.topic, lengths[next++], out, at);
      if (packet.qos > 0) at = u16(out, at, packet.packetId as number);
      out.set(packet.payload, at);
      return at + packet.payload.length;
    case "connect": {
      at = packet.protocolVersion === 4
        ? writeMqttString("MQTT", 4, out, at)
        : writeMqttString("MQIsdp", 6, out, at);
      out[at++] = packet.protocolVersion;
      const will = packet.will;
      out[at++] = (packet.username !== undefined ? 0x80 : 0) |
        (packet.password !== undefined ? 0x40 : 0) |
        (will !== undefined ? 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0) : 0) |
        (packet.cleanSession ? 0x02 : 0);
      at = u16(out, at, packet.keepAlive);
      at = writeMqttString(packet.clientId, lengths[next++], out, at);
      if (will !== undefined) {
        at = writeMqttString(will.topic, lengths[next++], out, at);
        at = u16(out, at, will.payload.length);
        out.set(will.payload, at);
        at += will.payload.length;
      }
      if (packet.username !== undefined) {
        at = writeMqttString(packet.username, lengths[next++], out, at);
      }
      if (packet.password !== undefined) {
        at = u16(out, at, packet.password.length);
        out.set(packet.password, at);
        at += packet.password.length;
      }
      return at;
    }
    case "connack":
      out[at++] = packet.sessionPresent ? 1 : 0;
      out[at++] = packet.returnCode;
      return at;
    case "subscribe":
      at = u16(out, at, packet.packetId);
      for (const subscription of packet.subscriptions) {
        at = writeMqttString(subscription.topic, lengths[next++], out, at);
        out[at++] = subscription.qos;
      }
      return at;
    case "suback":
      at = u16(out, at, packet.packetId);
      for (const code of packet.granted) out[at++] = code;
      return at;
    case "unsubscribe":
      at = u16(out, at, packet.packetId);
      for (const topic of packet.topics) at = writeMqttString(topic, lengths[next++], out, at);
      return at;
    case "pingreq":
    case "pingresp":
    case "disconnect":
      return at;
    default:
      return u16(out, at, packet.packetId);
  }
}

function u16(out: Uint8Array, at: number, value: number): number {
  out[at] = value >> 8;
  out[at + 1] = value & 0xff;
  return at + 2;
}

function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

/** The packet's name as the spec writes it, for messages. */
function name(packet: MqttPacket): string {
  return String(packet.type).toUpperCase();
}

/** Measures a string field (2-byte prefix included) and records its length for the writer. */
function str(packet: MqttPacket, field: string, text: string, mayBeEmpty: boolean): number {
  const bytes = typeof text === "string" ? mqttStringLength(text) : -1;
  if (bytes < 0 || bytes > 65535 || (!mayBeEmpty && bytes === 0)) {
    const size = mayBeEmpty ? "at most" : "1 to";
    throw invalidArgument(
      `encode ${name(packet)}`,
      field,
      `a string of ${size} 65535 UTF-8 bytes without U+0000 or lone surrogates`,
      text,
    );
  }
  lengths.push(bytes);
  return 2 + bytes;
}

/** Measures a binary field with its 2-byte length prefix. */
function bin(packet: MqttPacket, field: string, bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array) || bytes.length > 65535) {
    throw invalidArgument(
      `encode ${name(packet)}`,
      field,
      "a Uint8Array of at most 65535 bytes",
      bytes,
    );
  }
  return 2 + bytes.length;
}

function checkId(packet: MqttPacket, id: number | undefined): void {
  integer(`encode ${name(packet)}`, "packetId", id, undefined, { min: 1, max: 65535 });
}

function checkQos(packet: MqttPacket, field: string, qos: MqttQos): MqttQos {
  if (qos !== 0 && qos !== 1 && qos !== 2) {
    throw invalidArgument(`encode ${name(packet)}`, field, "0, 1 or 2", qos);
  }
  return qos;
}

function nonEmpty(packet: MqttPacket, field: string, count: number): void {
  if (count === 0) {
    throw invalidArgument(`encode ${name(packet)}`, field, "a list of at least one", count);
  }
}
