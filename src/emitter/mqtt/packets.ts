/**
 * The MQTT 3.1.1 control packets the Emitter client and broker exchange, as
 * plain objects told apart by `type`: what the encoder takes and the decoder
 * gives. MQTT 3.1 (`MQIsdp`, level 3) has the same packets; only CONNECT names
 * the version. Payloads and passwords are `Uint8Array`s, strings are UTF-8
 * text on the wire.
 *
 * @module
 */

/** A quality of service level: at most once, at least once, exactly once. */
export type MqttQos = 0 | 1 | 2;

/**
 * The protocol level a CONNECT names: `4` is MQTT 3.1.1 (protocol name
 * `MQTT`), `3` is MQTT 3.1 (protocol name `MQIsdp`).
 */
export type MqttProtocolVersion = 3 | 4;

/** The message a broker publishes for a client that goes away without DISCONNECT. */
export interface MqttWill {
  /** The topic the will is published to. */
  topic: string;
  /** The will's payload, 0 to 65535 bytes. */
  payload: Uint8Array;
  /** The QoS of the will's publish. */
  qos: MqttQos;
  /** Whether the will is retained. */
  retain: boolean;
}

/** CONNECT: the first packet a client sends. */
export interface MqttConnectPacket {
  /** The packet type. */
  type: "connect";
  /** `4` for MQTT 3.1.1, `3` for MQTT 3.1; the protocol name follows from it. */
  protocolVersion: MqttProtocolVersion;
  /** The client identifier; empty asks the broker to assign one. */
  clientId: string;
  /** Whether the broker should discard any previous session. */
  cleanSession: boolean;
  /** The keepalive interval in seconds, 0 to 65535; 0 turns keepalive off. */
  keepAlive: number;
  /** The will message, when the client sets one. */
  will?: MqttWill;
  /** The user name, when the client sends one (Emitter uses it for presence). */
  username?: string;
  /** The password, when the client sends one; it needs a user name. */
  password?: Uint8Array;
}

/**
 * A CONNACK return code: 0 accepted, 1 unacceptable protocol version,
 * 2 identifier rejected, 3 server unavailable, 4 bad user name or password,
 * 5 not authorized.
 */
export type MqttConnackCode = 0 | 1 | 2 | 3 | 4 | 5;

/** CONNACK: the broker's answer to CONNECT. */
export interface MqttConnackPacket {
  /** The packet type. */
  type: "connack";
  /** Whether the broker kept a session from before; always `false` when the code is not 0. */
  sessionPresent: boolean;
  /** The return code, 0 when the connection is accepted. */
  returnCode: MqttConnackCode;
}

/** PUBLISH: a message on a topic, in either direction. */
export interface MqttPublishPacket {
  /** The packet type. */
  type: "publish";
  /** The topic name; for Emitter `KEY/channel/` with options after a `?`. */
  topic: string;
  /**
   * The message. A decoded payload is a view of the bytes pushed into the
   * decoder (or of a buffer the decoder allocated for this packet alone when
   * it arrived in pieces), never copied: copy it before reusing those bytes.
   */
  payload: Uint8Array;
  /** The quality of service. QoS 2 decodes; an Emitter peer refuses it. */
  qos: MqttQos;
  /** Whether the broker should retain the message. */
  retain: boolean;
  /** Whether this is a redelivery of a QoS 1 or 2 message; always `false` at QoS 0. */
  dup: boolean;
  /** The packet identifier, 1 to 65535, present exactly when `qos` is above 0. */
  packetId?: number;
}

/** The four packets that carry only a packet identifier. */
export interface MqttAckPacket {
  /** The packet type: PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK. */
  type: "puback" | "pubrec" | "pubrel" | "pubcomp" | "unsuback";
  /** The identifier of the packet acknowledged, 1 to 65535. */
  packetId: number;
}

/** One topic filter of a SUBSCRIBE and the QoS asked for it. */
export interface MqttSubscription {
  /** The topic filter, wildcards `+` and `#` allowed. */
  topic: string;
  /** The highest QoS the subscriber wants to receive at. */
  qos: MqttQos;
}

/** SUBSCRIBE: one or more topic filters. */
export interface MqttSubscribePacket {
  /** The packet type. */
  type: "subscribe";
  /** The packet identifier, 1 to 65535, echoed by SUBACK. */
  packetId: number;
  /** The filters, at least one. */
  subscriptions: MqttSubscription[];
}

/** A SUBACK return code: the QoS granted, or `0x80` for a refused filter. */
export type MqttSubackCode = 0 | 1 | 2 | 0x80;

/** SUBACK: the broker's answer to SUBSCRIBE, one code per filter in order. */
export interface MqttSubackPacket {
  /** The packet type. */
  type: "suback";
  /** The identifier of the SUBSCRIBE answered. */
  packetId: number;
  /** One code per filter, at least one. */
  granted: MqttSubackCode[];
}

/** UNSUBSCRIBE: one or more topic filters to drop. */
export interface MqttUnsubscribePacket {
  /** The packet type. */
  type: "unsubscribe";
  /** The packet identifier, 1 to 65535, echoed by UNSUBACK. */
  packetId: number;
  /** The filters, at least one. */
  topics: string[];
}

/** PINGREQ, PINGRESP and DISCONNECT: packets with no body. */
export interface MqttEmptyPacket {
  /** The packet type. */
  type: "pingreq" | "pingresp" | "disconnect";
}

/**
 * Any MQTT 3.1.1 control packet.
 *
 * @example Narrow on `type`
 * ```ts
 * import type { MqttPacket } from "./packets.ts";
 *
 * function describe(packet: MqttPacket): string {
 *   return packet.type === "publish" ? `${packet.payload.length} bytes` : packet.type;
 * }
 * console.log(describe({ type: "pingreq" })); // "pingreq"
 * ```
 */
export type MqttPacket =
  | MqttConnectPacket
  | MqttConnackPacket
  | MqttPublishPacket
  | MqttAckPacket
  | MqttSubscribePacket
  | MqttSubackPacket
  | MqttUnsubscribePacket
  | MqttEmptyPacket;

/** The name of any packet type, as in {@linkcode MqttPacket}'s `type`. */
export type MqttPacketType = MqttPacket["type"];

/**
 * The packet types by their 4-bit code in the fixed header; 0 and 15 are
 * reserved and have none.
 *
 * @example
 * ```ts
 * import { PACKET_TYPES } from "./packets.ts";
 *
 * console.log(PACKET_TYPES[0x30 >> 4]); // "publish"
 * ```
 */
export const PACKET_TYPES: readonly (MqttPacketType | undefined)[] = Object.freeze([
  undefined,
  "connect",
  "connack",
  "publish",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "subscribe",
  "suback",
  "unsubscribe",
  "unsuback",
  "pingreq",
  "pingresp",
  "disconnect",
  undefined,
]);

/**
 * The largest remaining length MQTT can express (four varint bytes):
 * 268,435,455 bytes.
 *
 * @example
 * ```ts
 * import { MAX_REMAINING_LENGTH } from "./packets.ts";
 *
 * console.log(MAX_REMAINING_LENGTH === 2 ** 28 - 1); // true
 * ```
 */
export const MAX_REMAINING_LENGTH = 268_435_455;

/**
 * The default largest packet body (remaining length) the decoder accepts,
 * 64 KiB: the real Emitter broker's message size limit.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PACKET_SIZE } from "./packets.ts";
 *
 * console.log(DEFAULT_MAX_PACKET_SIZE); // 65536
 * ```
 */
export const DEFAULT_MAX_PACKET_SIZE = 65_536;
