/**
 * The Spot instant message and packet framing, rule by rule: the first
 * byte, flags as Go's uvarint (multi-byte, unknown bits kept), every
 * truncation, over-long and out-of-range varints, the 256-byte address
 * limit, malformed UTF-8, and the encoder's refusals.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hex } from "@scure/base";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  decodeInstantMessage,
  decodePacket,
  encodeInstantMessage,
  encodePacket,
  type InstantMessage,
  MAX_PACKET_BYTES,
  MESSAGE_FLAG_ERROR,
  MESSAGE_FLAG_NOT_BOTTLE,
  MESSAGE_FLAG_RESPONSE,
  splitFirstByte,
  SpotProtocolError,
  type SpotProtocolProblem,
} from "../../src/spot/proto/mod.ts";

const ID = Uint8Array.from({ length: 16 }, (_, index) => 0xf0 + index);
const ID_HEX = hex.encode(ID);

function message(overrides: Partial<InstantMessage> = {}): InstantMessage {
  return {
    id: ID,
    flags: MESSAGE_FLAG_RESPONSE | MESSAGE_FLAG_ERROR,
    recipient: "/q1",
    sender: "/noreply",
    body: new TextEncoder().encode("boom"),
    ...overrides,
  };
}

function throwsCode(run: () => unknown, code: SpotProtocolProblem, pattern?: RegExp): void {
  assert.throws(run, (error) => {
    assert.ok(error instanceof SpotProtocolError, `${error} is a SpotProtocolError`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("the first byte splits into version (high four bits) and type (low four bits)", () => {
  assert.deepEqual(splitFirstByte(0x02), { version: 0, type: 2 });
  assert.deepEqual(splitFirstByte(0xf1), { version: 15, type: 1 });
  throwsCode(
    () => decodePacket(new Uint8Array([0x12]), "client"),
    "unsupported_version",
    /version 1 \(type 2\)/,
  );
  for (let type = 3; type < 16; type++) {
    throwsCode(() => decodePacket(new Uint8Array([type]), "relay"), "unknown_packet_type");
  }
});

Deno.test("a ping's payload is echoed raw, empty or binary", () => {
  for (const payload of [new Uint8Array(), new Uint8Array([0, 1, 0xff]), new Uint8Array(1000)]) {
    const bytes = encodePacket({ type: "ping", payload });
    assert.equal(bytes[0], 0);
    const packet = decodePacket(bytes, "client");
    assert.deepEqual(packet, { type: "ping", payload });
  }
});

Deno.test("a message encodes field by field: id, uvarint flags, length-prefixed addresses, body", () => {
  const bytes = encodeInstantMessage(message());
  assert.equal(hex.encode(bytes), `${ID_HEX}03032f7131082f6e6f7265706c79626f6f6d`);
  assert.deepEqual(decodeInstantMessage(bytes), message());
});

Deno.test("flags above 127 take several varint bytes and unknown bits are kept", () => {
  for (
    const [flags, encoded] of [[128, "8001"], [300, "ac02"], [
      2 ** 53 - 1,
      "ffffffffffffff0f",
    ]] as const
  ) {
    const bytes = encodeInstantMessage(
      message({ flags, recipient: "", sender: "", body: new Uint8Array() }),
    );
    assert.equal(hex.encode(bytes), `${ID_HEX}${encoded}0000`);
    assert.equal(decodeInstantMessage(bytes).flags, flags);
  }
  const all = MESSAGE_FLAG_RESPONSE | MESSAGE_FLAG_ERROR | MESSAGE_FLAG_NOT_BOTTLE | 0x40;
  assert.equal(decodeInstantMessage(encodeInstantMessage(message({ flags: all }))).flags, all);
});

Deno.test("multi-byte UTF-8 addresses are counted in bytes", () => {
  const recipient = "k.é/👋";
  const bytes = encodeInstantMessage(message({ recipient }));
  assert.equal(bytes[17], new TextEncoder().encode(recipient).length);
  assert.equal(decodeInstantMessage(bytes).recipient, recipient);
});

Deno.test("every truncation of a message is refused with truncated, never a crash", () => {
  const whole = encodeInstantMessage(message({ body: new Uint8Array() }));
  for (let length = 0; length < whole.length; length++) {
    throwsCode(() => decodeInstantMessage(whole.subarray(0, length)), "truncated");
    throwsCode(
      () => decodePacket(new Uint8Array([2, ...whole.subarray(0, length)]), "client"),
      "truncated",
    );
  }
  throwsCode(
    () => decodeInstantMessage(whole.subarray(0, 10)),
    "truncated",
    /message id needs 16 bytes and only 10 are left/,
  );
  throwsCode(
    () => decodeInstantMessage(hex.decode(`${ID_HEX}8080`)),
    "truncated",
    /flags varint ends after 2 bytes/,
  );
  throwsCode(
    () => decodeInstantMessage(hex.decode(`${ID_HEX}0005616263`)),
    "truncated",
    /recipient needs 5 bytes/,
  );
});

Deno.test("over-long varints are refused: a zero last byte, more than 10 bytes, past 64 bits", () => {
  throwsCode(
    () => decodeInstantMessage(hex.decode(`${ID_HEX}80000000`)),
    "overlong_varint",
    /ends in a zero byte/,
  );
  throwsCode(
    () => decodeInstantMessage(hex.decode(`${ID_HEX}0081000000`)),
    "overlong_varint",
    /recipient length/,
  );
  throwsCode(
    () => decodeInstantMessage(hex.decode(`${ID_HEX}${"ff".repeat(11)}`)),
    "overlong_varint",
    /runs past 64 bits/,
  );
  // Ten bytes whose last is above 1: Go's binary.ReadUvarint overflow
  throwsCode(
    () => decodeInstantMessage(hex.decode(`${ID_HEX}${"ff".repeat(9)}020000`)),
    "overlong_varint",
    /runs past 64 bits/,
  );
});

Deno.test("varints that Go reads but a JavaScript number cannot hold are value_out_of_range", () => {
  // 2^53 as flags, and the largest uint64 (ten bytes ending in 0x01)
  throwsCode(
    () => decodeInstantMessage(hex.decode(`${ID_HEX}8080808080808010`)),
    "value_out_of_range",
  );
  throwsCode(
    () => decodeInstantMessage(hex.decode(`${ID_HEX}${"ff".repeat(9)}01`)),
    "value_out_of_range",
  );
  // A huge address length is refused by its limit before anything is allocated
  throwsCode(() => decodeInstantMessage(hex.decode(`${ID_HEX}00ffffffff0f`)), "address_too_long");
});

Deno.test("a recipient or sender above 256 bytes is refused, 256 bytes pass", () => {
  const ok = message({ sender: "/" + "s".repeat(255) });
  assert.equal(decodeInstantMessage(encodeInstantMessage(ok)).sender.length, 256);
  const long = hex.decode(`${ID_HEX}00${"00"}8102${"61".repeat(257)}`);
  throwsCode(() => decodeInstantMessage(long), "address_too_long", /sender is 257 bytes/);
});

Deno.test("an address that is not UTF-8 is refused with invalid_utf8, a BOM is kept", () => {
  throwsCode(
    () => decodeInstantMessage(hex.decode(`${ID_HEX}0002c3280000`)),
    "invalid_utf8",
    /recipient/,
  );
  throwsCode(() => decodeInstantMessage(hex.decode(`${ID_HEX}000001ff`)), "invalid_utf8", /sender/);
  const bom = encodeInstantMessage(message({ recipient: "\ufeff/x" }));
  assert.equal(decodeInstantMessage(bom).recipient, "\ufeff/x");
});

Deno.test("the encoder refuses what the protocol cannot carry with InvalidArgumentError", () => {
  const bad: [Partial<InstantMessage>, string][] = [
    [{ id: new Uint8Array(15) }, "id"],
    [{ flags: -1 }, "flags"],
    [{ flags: 1.5 }, "flags"],
    [{ flags: 2 ** 53 }, "flags"],
    [{ recipient: "/" + "a".repeat(256) }, "recipient"],
    [{ sender: "/\ud800" }, "sender"],
    [{ body: [1] as never }, "body"],
  ];
  for (const [overrides, argument] of bad) {
    assert.throws(
      () => encodeInstantMessage(message(overrides)),
      (error) => error instanceof InvalidArgumentError && error.argument === argument,
      argument,
    );
  }
  assert.throws(
    () => encodePacket({ type: "ping", payload: new Uint8Array(MAX_PACKET_BYTES) }),
    (error) => error instanceof InvalidArgumentError && /1048577/.test(error.message),
  );
  const fits = encodePacket({ type: "ping", payload: new Uint8Array(MAX_PACKET_BYTES - 1) });
  assert.equal(fits.length, MAX_PACKET_BYTES);
  assert.throws(
    () =>
      encodePacket({
        type: "message",
        message: message({ body: new Uint8Array(MAX_PACKET_BYTES) }),
      }),
    InvalidArgumentError,
  );
  assert.throws(() => encodePacket({ type: "pong" } as never), InvalidArgumentError);
});

Deno.test("decoded ids and bodies are views of the packet, without a copy", () => {
  const bytes = encodePacket({ type: "message", message: message() });
  const packet = decodePacket(bytes, "relay");
  assert.ok(packet.type === "message");
  assert.equal(packet.message.body.buffer, bytes.buffer);
  assert.equal(packet.message.id.buffer, bytes.buffer);
});
