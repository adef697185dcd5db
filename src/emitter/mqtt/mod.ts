/**
 * The MQTT 3.1.1 codec of the Emitter client and broker: packet types, the
 * encoder, the streaming decoder and its one error. MQTT 3.1 (`MQIsdp`) is
 * accepted too, as the real Emitter broker accepts it. Internal: of it the
 * package's `emitter` entry point exports only `MqttProtocolError` and its
 * `MqttProtocolProblem` codes.
 *
 * @example Round-trip a publish
 * ```ts
 * import { decodePacket, encodePacket } from "./mod.ts";
 *
 * const bytes = encodePacket({
 *   type: "publish",
 *   topic: "KEY/chat/",
 *   payload: new Uint8Array([1, 2, 3]),
 *   qos: 1,
 *   retain: false,
 *   dup: false,
 *   packetId: 10,
 * });
 * console.log(decodePacket(bytes).type); // "publish"
 * ```
 *
 * @module
 */

export * from "./packets.ts";
export * from "./errors.ts";
export * from "./encoder.ts";
export * from "./decoder.ts";
