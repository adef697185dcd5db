/**
 * Parses the body of one whole MQTT packet, its fixed header already read:
 * every field bounds-checked against the remaining length, every string held
 * to MQTT's UTF-8 rules, every reserved bit and return code checked. Every
 * failure is an `MqttProtocolError`; nothing else can escape. Payloads and
 * passwords are views of `bytes`, never copies. Internal: the decoder's.
 *
 * @module
 */

import { MqttProtocolError, type MqttProtocolProblem } from "./errors.ts";
import {
  type MqttConnectPacket,
  type MqttPacket,
  type MqttPacketType,
  type MqttQos,
  type MqttSubackCode,
  type MqttSubscription,
  PACKET_TYPES,
} from "./packets.ts";
import { readMqttString } from "./_strings.ts";

/**
 * Checks the first byte of a fixed header: a defined type with the flags
 * MQTT 3.1.1 requires of it (PUBLISH: a QoS of 0 to 2, no DUP at QoS 0).
 *
 * @param first The first byte of the packet.
 * @returns The packet's type.
 * @throws {MqttProtocolError} `reserved_packet_type`, `invalid_flags` or `invalid_qos`.
 *
 * @example
 * ```ts
 * import { packetType } from "./_parse.ts";
 *
 * console.log(packetType(0x82)); // "subscribe"
 * ```
 */
export function packetType(first: number): MqttPacketType {
  const type = PACKET_TYPES[first >> 4];
  if (type === undefined) {
    fail("reserved_packet_type", `Cannot decode a packet of reserved type ${first >> 4}`);
  }
  const flags = first & 0x0f;
  if (type === "publish") {
    const qos = (flags >> 1) & 3;
    if (qos === 3) fail("invalid_qos", "Cannot decode PUBLISH as its QoS is 3");
    if (qos === 0 && (flags & 0x08) !== 0) {
      fail("invalid_flags", "Cannot decode PUBLISH as it sets DUP at QoS 0");
    }
  } else {
    const required = type === "pubrel" || type === "subscribe" || type === "unsubscribe" ? 2 : 0;
    if (flags !== required) {
      fail(
        "invalid_flags",
        `Cannot decode ${
          label(type)
        } as its header flags are ${flags} where MQTT requires ${required}`,
      );
    }
  }
  return type;
}

/**
 * Parses a packet's body.
 *
 * @param first The first byte of the fixed header, already checked by {@linkcode packetType}.
 * @param bytes The buffer holding the body.
 * @param start Where the body starts.
 * @param end Where the body ends (exclusive).
 * @returns The packet; its payload and password are views of `bytes`.
 * @throws {MqttProtocolError} When the body breaks a rule of MQTT 3.1.1.
 *
 * @example
 * ```ts
 * import { parseBody } from "./_parse.ts";
 *
 * console.log(parseBody(0x40, new Uint8Array([0, 7]), 0, 2)); // { type: "puback", packetId: 7 }
 * ```
 */
export function parseBody(
  first: number,
  bytes: Uint8Array,
  start: number,
  end: number,
): MqttPacket {
  const type = PACKET_TYPES[first >> 4] as MqttPacketType;
  const length = end - start;
  switch (type) {
    case "publish": {
      const qos = ((first >> 1) & 3) as MqttQos;
      const cursor = new Cursor(bytes, start, end, type);
      const topic = cursor.string("topic name");
      if (topic === "") fail("invalid_topic", "Cannot decode PUBLISH as its topic name is empty");
      const packetId = qos > 0 ? cursor.packetId() : undefined;
      const payload = bytes.subarray(cursor.at, end);
      const dup = (first & 0x08) !== 0;
      const retain = (first & 0x01) !== 0;
      return packetId === undefined
        ? { type, topic, payload, qos, retain, dup }
        : { type, topic, payload, qos, retain, dup, packetId };
    }
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
    case "unsuback": {
      exactLength(type, length, 2);
      return { type, packetId: new Cursor(bytes, start, end, type).packetId() };
    }
    case "pingreq":
    case "pingresp":
    case "disconnect":
      exactLength(type, length, 0);
      return { type };
    case "connack": {
      exactLength(type, length, 2);
      const flags = bytes[start];
      const returnCode = bytes[start + 1];
      if (flags > 1 || returnCode > 5) {
        fail(
          "invalid_return_code",
          `Cannot decode CONNACK with flags ${flags} and return code ${returnCode}: flags must be 0 or 1 and the code 0 to 5`,
        );
      }
      return { type, sessionPresent: flags === 1, returnCode: returnCode as 0 };
    }
    case "subscribe": {
      const cursor = new Cursor(bytes, start, end, type);
      const packetId = cursor.packetId();
      const subscriptions: MqttSubscription[] = [];
      while (cursor.at < end) {
        const topic = cursor.string("topic filter");
        if (topic === "") {
          fail("invalid_topic", "Cannot decode SUBSCRIBE as a topic filter is empty");
        }
        const qos = cursor.byte();
        if (qos > 2) {
          fail("invalid_qos", `Cannot decode SUBSCRIBE as a filter asks for QoS byte ${qos}`);
        }
        subscriptions.push({ topic, qos: qos as MqttQos });
      }
      if (subscriptions.length === 0) fail("no_topics", "Cannot decode SUBSCRIBE without filters");
      return { type, packetId, subscriptions };
    }
    case "suback": {
      const cursor = new Cursor(bytes, start, end, type);
      const packetId = cursor.packetId();
      const granted: MqttSubackCode[] = [];
      while (cursor.at < end) {
        const code = cursor.byte();
        if (code > 2 && code !== 0x80) {
          fail("invalid_return_code", `Cannot decode SUBACK with return code ${code}`);
        }
        granted.push(code as MqttSubackCode);
      }
      if (granted.length === 0) fail("no_topics", "Cannot decode SUBACK without return codes");
      return { type, packetId, granted };
    }
    case "unsubscribe": {
      const cursor = new Cursor(bytes, start, end, type);
      const packetId = cursor.packetId();
      const topics: string[] = [];
      while (cursor.at < end) {
        const topic = cursor.string("topic filter");
        if (topic === "") {
          fail("invalid_topic", "Cannot decode UNSUBSCRIBE as a topic filter is empty");
        }
        topics.push(topic);
      }
      if (topics.length === 0) fail("no_topics", "Cannot decode UNSUBSCRIBE without filters");
      return { type, packetId, topics };
    }
    case "connect":
      return parseConnect(bytes, start, end);
  }
}

function parseConnect(bytes: Uint8Array, start: number, end: number): MqttConnectPacket {
  const cursor = new Cursor(bytes, start, end, "connect");
  const protocol = cursor.string("protocol name");
  const level = cursor.byte();
  if (!((protocol === "MQTT" && level === 4) || (protocol === "MQIsdp" && level === 3))) {
    fail(
      "unsupported_protocol",
      `Cannot accept CONNECT for protocol ${
        JSON.stringify(protocol.slice(0, 16))
      } level ${level}: only MQTT 3.1.1 and 3.1 are spoken`,
    );
  }
  const flags = cursor.byte();
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if ((flags & 0x01) !== 0) {
    fail("invalid_connect_flags", "Cannot decode CONNECT as it sets the reserved flag");
  }
  if (willFlag ? willQos === 3 : willQos !== 0 || willRetain) {
    fail(
      "invalid_connect_flags",
      `Cannot decode CONNECT as its will flags are ${(flags >> 2) & 0x0f}`,
    );
  }
  if ((flags & 0xc0) === 0x40) {
    fail(
      "invalid_connect_flags",
      "Cannot decode CONNECT as it sets a password without a user name",
    );
  }
  const keepAlive = cursor.u16();
  const packet: MqttConnectPacket = {
    type: "connect",
    protocolVersion: level as 3 | 4,
    clientId: cursor.string("client identifier"),
    cleanSession: (flags & 0x02) !== 0,
    keepAlive,
  };
  if (willFlag) {
    const topic = cursor.string("will topic");
    if (topic === "") fail("invalid_topic", "Cannot decode CONNECT as its will topic is empty");
    packet.will = { topic, payload: cursor.binary(), qos: willQos as MqttQos, retain: willRetain };
  }
  if ((flags & 0x80) !== 0) packet.username = cursor.string("user name");
  if ((flags & 0x40) !== 0) packet.password = cursor.binary();
  if (cursor.at !== end) {
    fail("invalid_length", `Cannot decode CONNECT as ${end - cursor.at} bytes follow its payload`);
  }
  return packet;
}

/** Reads fields in order, failing with `invalid_length` when one runs past the body. */
class Cursor {
  at: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
    readonly type: MqttPacketType,
  ) {
    this.at = start;
  }

  need(count: number, what: string): void {
    if (this.at + count > this.end) {
      fail(
        "invalid_length",
        `Cannot decode ${label(this.type)} as its ${what} runs past the packet's end`,
      );
    }
  }

  byte(): number {
    this.need(1, "body");
    return this.bytes[this.at++];
  }

  u16(): number {
    this.need(2, "body");
    const value = (this.bytes[this.at] << 8) | this.bytes[this.at + 1];
    this.at += 2;
    return value;
  }

  packetId(): number {
    this.need(2, "packet identifier");
    const id = this.u16();
    if (id === 0) {
      fail("invalid_packet_id", `Cannot decode ${label(this.type)} with packet identifier 0`);
    }
    return id;
  }

  string(what: string): string {
    this.need(2, what);
    const length = this.u16();
    this.need(length, what);
    const text = readMqttString(this.bytes, this.at, length);
    if (text === undefined) {
      fail(
        "invalid_string",
        `Cannot decode ${label(this.type)} as its ${what} is not well-formed UTF-8 without U+0000`,
      );
    }
    this.at += length;
    return text;
  }

  binary(): Uint8Array {
    this.need(2, "binary field");
    const length = this.u16();
    this.need(length, "binary field");
    const view = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return view;
  }
}

function exactLength(type: MqttPacketType, length: number, expected: number): void {
  if (length !== expected) {
    fail(
      "invalid_length",
      `Cannot decode ${label(type)} with a ${length}-byte body: it must have ${expected}`,
    );
  }
}

function label(type: MqttPacketType): string {
  return type.toUpperCase();
}

function fail(code: MqttProtocolProblem, message: string): never {
  throw new MqttProtocolError(code, message);
}
