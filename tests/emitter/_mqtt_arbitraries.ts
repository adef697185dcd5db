/**
 * fast-check arbitraries for MQTT packets, shared by the codec's property
 * and compatibility tests: every packet type with valid fields, strings
 * across the whole of Unicode (never U+0000 or a lone surrogate), packet
 * identifiers 1..65535, payloads up to a few hundred bytes.
 *
 * @module
 */

import fc from "fast-check";
import type {
  MqttConnectPacket,
  MqttPacket,
  MqttQos,
  MqttSubackCode,
} from "../../src/emitter/mqtt/mod.ts";

/** Options that shape the packets generated. */
export interface PacketArbitraryOptions {
  /**
   * Keep to what npm `mqtt-packet` generates: a CONNECT with an empty client
   * identifier only with a clean session at level 4.
   */
  mqttPacketCompatible?: boolean;
}

/** A valid MQTT string: any code points but U+0000, up to `maxLength` of them. */
export function mqttString(minLength = 0, maxLength = 30): fc.Arbitrary<string> {
  return fc.string({ unit: "binary", minLength, maxLength }).map((text) =>
    text.replaceAll("\u0000", "\u0001")
  );
}

/** A topic as Emitter clients send them, or any non-empty MQTT string. */
export const topic: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(
    /^[A-Za-z0-9_-]{32}\/[a-z0-9]{1,8}(\/[a-z0-9+#]{1,8}){0,3}\/(\?ttl=[0-9]{1,4})?$/,
  ),
  mqttString(1, 40),
);

const qos: fc.Arbitrary<MqttQos> = fc.constantFrom(0, 1, 2);
const packetId = fc.integer({ min: 1, max: 65535 });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
/** A record with a plain prototype, so that it compares equal to a decoded packet. */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

/** A CONNECT at level 3 or 4, with or without will, user name and password. */
export function connect(options: PacketArbitraryOptions = {}): fc.Arbitrary<MqttConnectPacket> {
  return record({
    protocolVersion: fc.constantFrom(3 as const, 4 as const),
    clientId: mqttString(0, 23),
    cleanSession: fc.boolean(),
    keepAlive: fc.integer({ min: 0, max: 65535 }),
    will: fc.option(record({ topic, payload: bytes(50), qos, retain: fc.boolean() }), {
      nil: undefined,
    }),
    username: fc.option(mqttString(0, 20), { nil: undefined }),
    password: fc.option(bytes(20), { nil: undefined }),
  }).map(({ will, username, password, ...rest }) => {
    const packet: MqttConnectPacket = { type: "connect", ...rest };
    if (options.mqttPacketCompatible && packet.clientId === "") {
      packet.protocolVersion = 4;
      packet.cleanSession = true;
    }
    if (will !== undefined) packet.will = will;
    if (username !== undefined) {
      packet.username = username;
      if (password !== undefined) packet.password = password;
    }
    return packet;
  });
}

/** Any packet of MQTT 3.1.1. */
export function packet(options: PacketArbitraryOptions = {}): fc.Arbitrary<MqttPacket> {
  return fc.oneof(
    connect(options),
    record({
      sessionPresent: fc.boolean(),
      returnCode: fc.constantFrom(
        0 as const,
        1 as const,
        2 as const,
        3 as const,
        4 as const,
        5 as const,
      ),
    }).map((fields): MqttPacket => ({
      type: "connack",
      ...fields,
      sessionPresent: fields.returnCode === 0 && fields.sessionPresent,
    })),
    record({
      topic,
      payload: bytes(300),
      qos,
      retain: fc.boolean(),
      dup: fc.boolean(),
      packetId,
    })
      .map(({ packetId, ...fields }): MqttPacket =>
        fields.qos === 0
          ? { type: "publish", ...fields, dup: false }
          : { type: "publish", ...fields, packetId }
      ),
    record({
      type: fc.constantFrom(
        "puback" as const,
        "pubrec" as const,
        "pubrel" as const,
        "pubcomp" as const,
        "unsuback" as const,
      ),
      packetId,
    }),
    record({
      packetId,
      subscriptions: fc.array(record({ topic, qos }), { minLength: 1, maxLength: 5 }),
    }).map((fields): MqttPacket => ({ type: "subscribe", ...fields })),
    record({
      packetId,
      granted: fc.array(fc.constantFrom<MqttSubackCode>(0, 1, 2, 0x80), {
        minLength: 1,
        maxLength: 5,
      }),
    }).map((fields): MqttPacket => ({ type: "suback", ...fields })),
    record({ packetId, topics: fc.array(topic, { minLength: 1, maxLength: 5 }) })
      .map((fields): MqttPacket => ({ type: "unsubscribe", ...fields })),
    fc.constantFrom<MqttPacket>({ type: "pingreq" }, { type: "pingresp" }, { type: "disconnect" }),
  );
}
