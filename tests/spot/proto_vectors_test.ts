/**
 * The Spot codec against `tests/fixtures/vectors/spot_protocol.json` (facts
 * and examples read from KarpelesLab/spotproto and spotlib): every byte
 * vector decodes to its fields and encodes back byte for byte, and every
 * table (packet types, flags, limits, handshake keys, address examples,
 * system endpoints, discovery) matches what the codec does.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hex } from "@scure/base";
import { decode } from "cborg";
import {
  decodeInstantMessage,
  decodePacket,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  encodeInstantMessage,
  encodePacket,
  formatAddress,
  MAX_ADDRESS_BYTES,
  MAX_DISCOVERY_HOSTS,
  MAX_PACKET_BYTES,
  MESSAGE_FLAG_ERROR,
  MESSAGE_FLAG_NOT_BOTTLE,
  MESSAGE_FLAG_RESPONSE,
  PACKET_HANDSHAKE,
  PACKET_INSTANT_MESSAGE,
  PACKET_PING,
  parseAddress,
  parseDiscoveryAnswer,
  parseTimeAnswer,
  routingSegment,
  SpotProtocolError,
  TIME_ANSWER_BYTES,
} from "../../src/spot/proto/mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const VECTORS: Json = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/spot_protocol.json", import.meta.url)),
);
const DERIVED: Json = VECTORS.derived_examples;

Deno.test("the vector file names its sources: spotproto and spotlib with their commits", () => {
  const repositories = [...VECTORS.source.spotproto, ...VECTORS.source.spotlib].map((
    entry: Json,
  ) => `${entry.repository}@${entry.commit}`);
  assert.ok(
    repositories.includes("KarpelesLab/spotproto@ff73d5205a688703ebf9de6b9465aebe144a7865"),
  );
  assert.ok(repositories.includes("KarpelesLab/spotlib@09c70676c02a0494f6244d22fbd2254f1e9da0f0"));
});

Deno.test("derived_examples.ping_packet decodes to its payload and encodes back byte for byte", () => {
  const { payload_hex, packet_hex } = DERIVED.ping_packet;
  const packet = decodePacket(hex.decode(packet_hex), "relay");
  assert.equal(packet.type, "ping");
  assert.equal(hex.encode(packet.payload), payload_hex);
  assert.equal(
    hex.encode(encodePacket({ type: "ping", payload: hex.decode(payload_hex) })),
    packet_hex,
  );
});

for (const [index, vector] of (DERIVED.instant_messages as Json[]).entries()) {
  const name = `derived_examples.instant_messages[${index}] (${vector.description})`;
  const fields = vector.fields;

  Deno.test(`${name} decodes to its fields, as a message and as a packet`, () => {
    const expected = {
      id: hex.decode(fields.message_id_hex),
      flags: fields.flags,
      recipient: fields.recipient,
      sender: fields.sender,
      body: hex.decode(fields.body_hex),
    };
    assert.deepEqual(decodeInstantMessage(hex.decode(vector.message_hex)), expected);
    for (const side of ["client", "relay"] as const) {
      const packet = decodePacket(hex.decode(vector.packet_hex), side);
      assert.deepEqual(packet, { type: "message", message: expected });
    }
  });

  Deno.test(`${name} encodes back byte for byte`, () => {
    const message = {
      id: hex.decode(fields.message_id_hex),
      flags: fields.flags,
      recipient: fields.recipient,
      sender: fields.sender,
      body: hex.decode(fields.body_hex),
    };
    assert.equal(hex.encode(encodeInstantMessage(message)), vector.message_hex);
    assert.equal(hex.encode(encodePacket({ type: "message", message })), vector.packet_hex);
  });
}

Deno.test("packet.types: ping 0, handshake 1, instant message 2, version 0 in the high bits", () => {
  const ids = Object.fromEntries(
    (VECTORS.packet.types as Json[]).map((type: Json) => [type.name, type.id]),
  );
  assert.deepEqual(ids, {
    PingPong: PACKET_PING,
    Handshake: PACKET_HANDSHAKE,
    InstantMsg: PACKET_INSTANT_MESSAGE,
  });
  assert.equal(VECTORS.packet.first_byte.version, 0);
  assert.equal(encodePacket({ type: "ping", payload: new Uint8Array() })[0], PACKET_PING);
});

Deno.test("packet rules: an empty buffer, a version other than 0, an unknown type are refused", () => {
  const cases: [string, Uint8Array, string][] = [
    [VECTORS.packet.empty_buffer_error, new Uint8Array(), "empty_packet"],
    [VECTORS.packet.first_byte.parse_rule, new Uint8Array([0x10]), "unsupported_version"],
    [VECTORS.packet.unknown_type_error, new Uint8Array([0x03]), "unknown_packet_type"],
  ];
  for (const [rule, bytes, code] of cases) {
    assert.throws(
      () => decodePacket(bytes, "client"),
      (error) => error instanceof SpotProtocolError && error.code === code,
      rule,
    );
  }
});

Deno.test("instant_message.flags: response 1, error 2, not-bottle 4 (message.go, not the old table)", () => {
  const flags = Object.fromEntries(
    (VECTORS.instant_message.flags as Json[]).map((flag: Json) => [flag.name, flag.value]),
  );
  assert.deepEqual(flags, {
    MsgFlagResponse: MESSAGE_FLAG_RESPONSE,
    MsgFlagError: MESSAGE_FLAG_ERROR,
    MsgFlagNotBottle: MESSAGE_FLAG_NOT_BOTTLE,
  });
});

Deno.test("instant_message.limits: an address of 256 bytes passes and one of 257 is refused", () => {
  assert.equal(VECTORS.instant_message.limits.address_max_len, MAX_ADDRESS_BYTES);
  const message = {
    id: new Uint8Array(16),
    flags: 0,
    recipient: "/" + "a".repeat(MAX_ADDRESS_BYTES - 1),
    sender: "/noreply",
    body: new Uint8Array(),
  };
  const bytes = encodeInstantMessage(message);
  assert.equal(decodeInstantMessage(bytes).recipient.length, MAX_ADDRESS_BYTES);
  // Raise the declared length by one: the reader stops at the limit, as spotproto's readName
  bytes[17] = 0x81;
  bytes[18] = 0x02;
  assert.throws(
    () => decodeInstantMessage(bytes),
    (error) =>
      error instanceof SpotProtocolError && error.code === "address_too_long" &&
      /257 bytes/.test(error.message),
    VECTORS.instant_message.limits.address_too_long_error,
  );
});

Deno.test("handshake: our CBOR carries exactly the keys the vector file lists, both ways", () => {
  const request = encodeHandshakeRequest({
    ready: true,
    serverCode: "s",
    clientId: "c",
    nonce: new Uint8Array(4),
    groups: [new Uint8Array(1)],
  });
  const requestKeys = [...(decode(request, { useMaps: true }) as Map<string, unknown>).keys()];
  assert.deepEqual(requestKeys, Object.keys(VECTORS.handshake.request_S_to_C.cbor_map_keys));
  const response = encodeHandshakeResponse({ id: null, key: new Uint8Array(1), sig: null });
  const responseKeys = [...(decode(response, { useMaps: true }) as Map<string, unknown>).keys()];
  assert.deepEqual(responseKeys, Object.keys(VECTORS.handshake.response_C_to_S.cbor_map_keys));
});

for (const example of VECTORS.addressing.examples as string[]) {
  Deno.test(`addressing.examples ${example} parses and formats back unchanged`, () => {
    const address = parseAddress(example);
    assert.equal(address.kind, { k: "key", c: "connection", g: "group" }[example[0]]);
    assert.equal(address.endpoint, example.slice(example.indexOf("/") + 1));
    assert.equal(formatAddress(address), example);
  });
}

Deno.test("spotlib.query_conventions: an answer to /<id> is routed by <id>", () => {
  const conventions = VECTORS.spotlib.query_conventions;
  assert.match(conventions.sender_of_query, /^\/<uuid/);
  const id = "00112233-4455-6677-8899-aabbccddeeff";
  const target = "k.j0NDRmSPa5bfid2pAcUXaxCm2Dlh3TwayItZstwyeqQ";
  assert.equal(routingSegment(`/${id}`), id);
  assert.equal(routingSegment(`${target}/${id}`), id);
  assert.equal(parseAddress(conventions.sender_of_reply).kind, "local");
});

Deno.test("spotlib.server_system_endpoints @/time: 12 bytes, u64 seconds then u32 nanoseconds", () => {
  const time = (VECTORS.spotlib.server_system_endpoints as Json[]).find((endpoint: Json) =>
    endpoint.target === "@/time"
  );
  assert.match(time.response, new RegExp(`at least ${TIME_ANSWER_BYTES} bytes`));
  const body = hex.decode("000000006553f100075bcd15" + "ff");
  assert.deepEqual(parseTimeAnswer(body), {
    seconds: 1_700_000_000,
    nanoseconds: 123_456_789,
    epochMilliseconds: 1_700_000_000_123,
  });
});

Deno.test("spotlib.transport.host_discovery: at most 10 hosts, min_conn 0 means all of them", () => {
  const discovery = VECTORS.spotlib.transport.host_discovery;
  assert.equal(discovery.max_hosts_used, MAX_DISCOVERY_HOSTS);
  const hosts = Array.from({ length: 12 }, (_, index) => `h${index}.example`);
  const answer = parseDiscoveryAnswer({ data: { hosts, min_conn: 0 } });
  assert.deepEqual(answer.hosts, hosts.slice(0, MAX_DISCOVERY_HOSTS));
  assert.equal(answer.minConn, MAX_DISCOVERY_HOSTS);
});

Deno.test("spotlib.transport: a packet of 1 MiB is read and one byte more is refused", () => {
  const limit = new Uint8Array(MAX_PACKET_BYTES);
  assert.equal(decodePacket(limit, "client").type, "ping");
  assert.throws(
    () => decodePacket(new Uint8Array(MAX_PACKET_BYTES + 1), "client"),
    (error) => error instanceof SpotProtocolError && error.code === "packet_too_large",
  );
});
