/**
 * The MQTT codec, case by case: every packet type round-trips, known bytes
 * decode as the spec says (MQTT 3.1 and 3.1.1 CONNECT, the remaining-length
 * boundaries), every rule of the fixed header and the bodies is enforced with
 * its own error code, and the encoder refuses what the protocol cannot carry
 * without showing a topic's text.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  decodePacket,
  encodedLength,
  encodeInto,
  encodePacket,
  MqttDecoder,
  type MqttPacket,
  MqttProtocolError,
  type MqttProtocolProblem,
} from "../../src/emitter/mqtt/mod.ts";

const text = (value: string) => new TextEncoder().encode(value);

/** One packet of each type, with the fields that make it interesting. */
const SAMPLES: MqttPacket[] = [
  {
    type: "connect",
    protocolVersion: 4,
    clientId: "edgewire-1",
    cleanSession: true,
    keepAlive: 30,
    will: { topic: "KEY/status/", payload: text("gone"), qos: 1, retain: true },
    username: "ana",
    password: text("secret"),
  },
  { type: "connect", protocolVersion: 3, clientId: "", cleanSession: false, keepAlive: 0 },
  { type: "connack", sessionPresent: true, returnCode: 0 },
  { type: "connack", sessionPresent: false, returnCode: 5 },
  { type: "publish", topic: "KEY/a/", payload: text("hi"), qos: 0, retain: true, dup: false },
  {
    type: "publish",
    topic: "KEY/é/👋/",
    payload: new Uint8Array(0),
    qos: 1,
    retain: false,
    dup: true,
    packetId: 65535,
  },
  {
    type: "publish",
    topic: "x",
    payload: new Uint8Array(200_000),
    qos: 2,
    retain: false,
    dup: false,
    packetId: 1,
  },
  { type: "puback", packetId: 1 },
  { type: "pubrec", packetId: 2 },
  { type: "pubrel", packetId: 3 },
  { type: "pubcomp", packetId: 4 },
  {
    type: "subscribe",
    packetId: 9,
    subscriptions: [{ topic: "KEY/a/+/", qos: 0 }, { topic: "KEY/#/", qos: 1 }],
  },
  { type: "suback", packetId: 9, granted: [0, 1, 2, 0x80] },
  { type: "unsubscribe", packetId: 10, topics: ["KEY/a/", "KEY/b/"] },
  { type: "unsuback", packetId: 10 },
  { type: "pingreq" },
  { type: "pingresp" },
  { type: "disconnect" },
];

Deno.test("every packet type survives an encode and a decode unchanged", () => {
  for (const packet of SAMPLES) {
    const bytes = encodePacket(packet);
    assert.equal(bytes.length, encodedLength(packet), packet.type);
    assert.deepEqual(decodePacket(bytes, { maxPacketSize: 1 << 20 }), packet);
  }
});

Deno.test("a CONNECT for MQTT 3.1 carries the protocol name MQIsdp and level 3", () => {
  const bytes = encodePacket({
    type: "connect",
    protocolVersion: 3,
    clientId: "c",
    cleanSession: true,
    keepAlive: 60,
  });
  assert.deepEqual([...bytes], [0x10, 15, 0, 6, ...text("MQIsdp"), 3, 0x02, 0, 60, 0, 1, 0x63]);
});

Deno.test("a publish encodes to the bytes the spec lays out", () => {
  const bytes = encodePacket({
    type: "publish",
    topic: "a/b",
    payload: text("xy"),
    qos: 1,
    retain: true,
    dup: true,
    packetId: 0x0102,
  });
  assert.deepEqual([...bytes], [0x3b, 9, 0, 3, 0x61, 0x2f, 0x62, 1, 2, 0x78, 0x79]);
});

Deno.test("the remaining length takes one to four bytes at the spec's boundaries", () => {
  const cases: [number, number[]][] = [
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [16_383, [0xff, 0x7f]],
    [16_384, [0x80, 0x80, 0x01]],
    [2_097_151, [0xff, 0xff, 0x7f]],
    [2_097_152, [0x80, 0x80, 0x80, 0x01]],
  ];
  for (const [body, varint] of cases) {
    // A QoS 0 publish with topic "t" has 3 bytes of body before its payload
    const payload = new Uint8Array(body - 3);
    const bytes = encodePacket({
      type: "publish",
      topic: "t",
      payload,
      qos: 0,
      retain: false,
      dup: false,
    });
    assert.deepEqual([...bytes.subarray(1, 1 + varint.length)], varint, `length ${body}`);
    const decoded = decodePacket(bytes, { maxPacketSize: 268_435_455 });
    assert.equal(decoded.type === "publish" && decoded.payload.length, payload.length);
  }
  assert.deepEqual([...encodePacket({ type: "pingreq" })], [0xc0, 0x00]);
  // A length written with more bytes than needed is still a valid length
  assert.deepEqual(decodePacket(new Uint8Array([0xc0, 0x80, 0x00])), { type: "pingreq" });
});

/** Asserts that decoding `bytes` fails with `code`. */
function refuses(bytes: number[], code: MqttProtocolProblem, maxPacketSize?: number): void {
  assert.throws(
    () => decodePacket(new Uint8Array(bytes), { maxPacketSize }),
    (error: unknown) => error instanceof MqttProtocolError && error.code === code,
    `expected ${code} for ${bytes.join(",")}`,
  );
}

Deno.test("the fixed header's type and flags are held to the spec", () => {
  refuses([0x00, 0x00], "reserved_packet_type");
  refuses([0xf0, 0x00], "reserved_packet_type");
  refuses([0xc1, 0x00], "invalid_flags"); // PINGREQ with a flag
  refuses([0x60, 0x02, 0, 1], "invalid_flags"); // PUBREL needs 0b0010
  refuses([0x80, 0x05, 0, 1, 0, 1, 0x61], "invalid_flags"); // SUBSCRIBE needs 0b0010
  refuses([0xa0, 0x05, 0, 1, 0, 1, 0x61], "invalid_flags"); // UNSUBSCRIBE needs 0b0010
  refuses([0x36, 0x03, 0, 1, 0x61], "invalid_qos"); // PUBLISH QoS 3
  refuses([0x38, 0x03, 0, 1, 0x61], "invalid_flags"); // DUP at QoS 0
  refuses([0xc0, 0x80, 0x80, 0x80, 0x80, 0x01], "malformed_remaining_length");
});

Deno.test("bodies are held to their exact lengths and fields", () => {
  refuses([0xc0, 0x01, 0x00], "invalid_length"); // PINGREQ with a body
  refuses([0x40, 0x03, 0, 1, 0], "invalid_length"); // PUBACK too long
  refuses([0x40, 0x01, 0], "invalid_length"); // PUBACK too short
  refuses([0x40, 0x02, 0, 0], "invalid_packet_id");
  refuses([0x32, 0x05, 0, 1, 0x61, 0, 0], "invalid_packet_id");
  refuses([0x30, 0x02, 0, 5], "invalid_length"); // topic runs past the end
  refuses([0x30, 0x02, 0, 0], "invalid_topic");
  refuses([0x20, 0x02, 2, 0], "invalid_return_code"); // CONNACK reserved flag bit
  refuses([0x20, 0x02, 0, 6], "invalid_return_code");
  refuses([0x82, 0x02, 0, 1], "no_topics");
  refuses([0x82, 0x06, 0, 1, 0, 1, 0x61, 3], "invalid_qos");
  refuses([0x82, 0x06, 0, 1, 0, 1, 0x61, 0x80], "invalid_qos"); // reserved bits beside the QoS
  refuses([0x82, 0x05, 0, 1, 0, 1, 0x61], "invalid_length"); // filter without its QoS byte
  refuses([0x90, 0x02, 0, 1], "no_topics");
  refuses([0x90, 0x03, 0, 1, 3], "invalid_return_code");
  refuses([0xa2, 0x02, 0, 1], "no_topics");
  refuses([0xa2, 0x04, 0, 1, 0, 0], "invalid_topic");
});

Deno.test("strings must be well-formed UTF-8 without U+0000", () => {
  const publish = (topic: number[]) => [0x30, 2 + topic.length, 0, topic.length, ...topic];
  assert.deepEqual(decodePacket(new Uint8Array(publish([0xf0, 0x9f, 0x91, 0x8b]))), {
    type: "publish",
    topic: "👋",
    payload: new Uint8Array(0),
    qos: 0,
    retain: false,
    dup: false,
  });
  refuses(publish([0x61, 0x00]), "invalid_string"); // U+0000
  refuses(publish([0xc0, 0x80]), "invalid_string"); // overlong U+0000
  refuses(publish([0xe0, 0x80, 0xaf]), "invalid_string"); // overlong '/'
  refuses(publish([0xed, 0xa0, 0x80]), "invalid_string"); // a surrogate, U+D800
  refuses(publish([0xf4, 0x90, 0x80, 0x80]), "invalid_string"); // above U+10FFFF
  refuses(publish([0xc3]), "invalid_string"); // truncated sequence
  refuses(publish([0x80]), "invalid_string"); // lone continuation byte
});

/** A CONNECT body from its parts, for the flag rules. */
function connectBytes(
  name: string,
  level: number,
  flags: number,
  rest: number[] = [0, 0],
): number[] {
  const body = [0, name.length, ...text(name), level, flags, 0, 30, ...rest];
  return [0x10, body.length, ...body];
}

Deno.test("CONNECT accepts MQTT level 4 and MQIsdp level 3 and nothing else", () => {
  assert.equal(decodePacket(new Uint8Array(connectBytes("MQTT", 4, 2))).type, "connect");
  assert.equal(decodePacket(new Uint8Array(connectBytes("MQIsdp", 3, 2))).type, "connect");
  refuses(connectBytes("MQTT", 5, 2), "unsupported_protocol");
  refuses(connectBytes("MQTT", 3, 2), "unsupported_protocol");
  refuses(connectBytes("HTTP", 4, 2), "unsupported_protocol");
});

Deno.test("CONNECT flags are held to the spec", () => {
  refuses(connectBytes("MQTT", 4, 0x01), "invalid_connect_flags"); // reserved bit
  refuses(connectBytes("MQTT", 4, 0x08), "invalid_connect_flags"); // will QoS without will
  refuses(connectBytes("MQTT", 4, 0x20), "invalid_connect_flags"); // will retain without will
  refuses(connectBytes("MQTT", 4, 0x1c, [0, 0, 0, 1, 0x61, 0, 0]), "invalid_connect_flags"); // will QoS 3
  refuses(connectBytes("MQTT", 4, 0x40, [0, 0, 0, 0]), "invalid_connect_flags"); // password alone
  refuses(connectBytes("MQTT", 4, 0x80), "invalid_length"); // user name missing
  refuses(connectBytes("MQTT", 4, 0x02, [0, 0, 9]), "invalid_length"); // trailing byte
});

Deno.test("the decoder refuses a body over its limit from the header alone", () => {
  const decoder = new MqttDecoder({ maxPacketSize: 100 });
  const packets = decoder.push(
    encodePacket({
      type: "publish",
      topic: "t",
      payload: new Uint8Array(97),
      qos: 0,
      retain: false,
      dup: false,
    }),
  );
  assert.equal(packets.length, 1);
  assert.throws(
    () => decoder.push(new Uint8Array([0x30, 101])),
    (error: unknown) => error instanceof MqttProtocolError && error.code === "packet_too_large",
  );
  assert.equal(decoder.buffered, 0);
  // The default is the real Emitter broker's 64 KiB
  assert.throws(
    () => new MqttDecoder().push(new Uint8Array([0x30, 0x81, 0x80, 0x04])),
    (error: unknown) => error instanceof MqttProtocolError && error.code === "packet_too_large",
  );
  const atLimit = new MqttDecoder().push(new Uint8Array([0x30, 0x80, 0x80, 0x04, 0, 1, 0x61]));
  assert.deepEqual(atLimit, []);
});

Deno.test("a failed decoder keeps the packets before the fault and refuses all later input", () => {
  const decoder = new MqttDecoder();
  const packets: MqttPacket[] = [];
  const good = encodePacket({ type: "puback", packetId: 5 });
  assert.throws(
    () => decoder.push(new Uint8Array([...good, 0x40, 0x02, 0, 0, ...good]), packets),
    MqttProtocolError,
  );
  assert.deepEqual(packets, [{ type: "puback", packetId: 5 }]);
  assert.equal(decoder.failure?.code, "invalid_packet_id");
  assert.throws(
    () => decoder.push(good),
    (error: unknown) => error instanceof MqttProtocolError && error.code === "decoder_failed",
  );
});

Deno.test("a packet split byte by byte decodes as one, its payload a copy owned by the decoder", () => {
  const packet: MqttPacket = {
    type: "publish",
    topic: "KEY/a/",
    payload: text("hello"),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 3,
  };
  const bytes = encodePacket(packet);
  const decoder = new MqttDecoder();
  const out: MqttPacket[] = [];
  for (let i = 0; i < bytes.length; i++) {
    decoder.push(bytes.subarray(i, i + 1), out);
    assert.equal(out.length, i === bytes.length - 1 ? 1 : 0);
    assert.equal(decoder.idle, i === bytes.length - 1);
  }
  assert.deepEqual(out[0], packet);
  // Whole in one chunk, the payload is a view of that chunk
  const whole = decodePacket(bytes);
  assert.equal(whole.type === "publish" && whole.payload.buffer, bytes.buffer);
});

Deno.test("decodePacket refuses bytes that are not exactly one packet", () => {
  refuses([0xc0], "invalid_length");
  refuses([0xc0, 0x00, 0xc0, 0x00], "invalid_length");
  refuses([], "invalid_length");
});

/** Asserts that encoding `packet` fails on `argument`, without the topic text in the message. */
function encodeRefuses(packet: unknown, argument: string): void {
  assert.throws(
    () => encodePacket(packet as MqttPacket),
    (error: unknown) =>
      error instanceof InvalidArgumentError && error.argument === argument &&
      !error.message.includes("SECRETKEY"),
    argument,
  );
}

Deno.test("the encoder refuses what MQTT cannot carry, never showing the topic", () => {
  const publish = {
    type: "publish",
    topic: "SECRETKEY/a/",
    payload: new Uint8Array(),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 1,
  };
  encodeRefuses({ ...publish, topic: "SECRETKEY/\u0000/" }, "topic");
  encodeRefuses({ ...publish, topic: "SECRETKEY/\ud800/" }, "topic");
  encodeRefuses({ ...publish, topic: "" }, "topic");
  encodeRefuses({ ...publish, topic: "SECRETKEY".repeat(8000) }, "topic");
  encodeRefuses({ ...publish, packetId: 0 }, "packetId");
  encodeRefuses({ ...publish, packetId: 65536 }, "packetId");
  encodeRefuses({ ...publish, packetId: undefined }, "packetId");
  encodeRefuses({ ...publish, qos: 3 }, "qos");
  encodeRefuses({ ...publish, qos: 0, dup: true }, "dup");
  encodeRefuses({
    type: "connect",
    protocolVersion: 5,
    clientId: "",
    cleanSession: true,
    keepAlive: 0,
  }, "protocolVersion");
  encodeRefuses({
    type: "connect",
    protocolVersion: 4,
    clientId: "",
    cleanSession: true,
    keepAlive: 65536,
  }, "keepAlive");
  encodeRefuses({
    type: "connect",
    protocolVersion: 4,
    clientId: "",
    cleanSession: true,
    keepAlive: 0,
    password: new Uint8Array(1),
  }, "username");
  encodeRefuses({
    type: "connect",
    protocolVersion: 4,
    clientId: "",
    cleanSession: true,
    keepAlive: 0,
    will: { topic: "t", payload: new Uint8Array(65536), qos: 0, retain: false },
  }, "will.payload");
  encodeRefuses({ type: "subscribe", packetId: 1, subscriptions: [] }, "subscriptions");
  encodeRefuses({ type: "suback", packetId: 1, granted: [3] }, "granted");
  encodeRefuses({ type: "unsubscribe", packetId: 1, topics: [""] }, "topics");
  encodeRefuses({ type: "connack", sessionPresent: false, returnCode: 6 }, "returnCode");
  encodeRefuses({ type: "auth" }, "type");
});

Deno.test("encodeInto writes beside other packets and refuses a buffer without room", () => {
  const buffer = new Uint8Array(6);
  const end = encodeInto(
    { type: "pingreq" },
    buffer,
    encodeInto({ type: "puback", packetId: 258 }, buffer, 0),
  );
  assert.deepEqual([...buffer.subarray(0, end)], [0x40, 2, 1, 2, 0xc0, 0]);
  assert.throws(() => encodeInto({ type: "puback", packetId: 1 }, buffer, 3), InvalidArgumentError);
});

Deno.test("the decoder's limit option is validated", () => {
  assert.throws(() => new MqttDecoder({ maxPacketSize: 0 }), InvalidArgumentError);
  assert.throws(() => new MqttDecoder({ maxPacketSize: 2 ** 28 }), InvalidArgumentError);
});
