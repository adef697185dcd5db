/**
 * The Spot handshake codec: requests and responses encode to the bytes Go's
 * spotproto writes with fxamacker/cbor (assembled here by hand from the CBOR
 * rules: struct order, `rdy` only when true, `null` for a nil slice),
 * decoding takes what pyspotlib and other encoders send (missing keys, any
 * order, unknown keys, indefinite lengths), the signed bytes are the request
 * exactly as received, and broken CBOR or wrong field types are typed errors.
 *
 * @module
 */

import assert from "node:assert/strict";
import { hex } from "@scure/base";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  decodePacket,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
  encodePacket,
  type HandshakeRequest,
  handshakeSignedBytes,
  SpotProtocolError,
  type SpotProtocolProblem,
} from "../../src/spot/proto/mod.ts";

const NONCE = Uint8Array.from({ length: 32 }, (_, index) => index);
const NONCE_HEX = hex.encode(NONCE);
// CBOR text keys: "rdy", "srv", "cid", "rnd", "grp", "id", "key", "sig"
const RDY = "63726479", SRV = "63737276", CID = "63636964", RND = "63726e64", GRP = "63677270";
const ID = "626964", KEY = "636b6579", SIG = "63736967";

const REQUEST: HandshakeRequest = {
  ready: false,
  serverCode: "4p84",
  clientId: "conn-1",
  nonce: NONCE,
  groups: null,
};
const REQUEST_HEX = `a4${SRV}6434703834${CID}66636f6e6e2d31${RND}5820${NONCE_HEX}${GRP}f6`;

function throwsCode(run: () => unknown, code: SpotProtocolProblem, pattern?: RegExp): void {
  assert.throws(run, (error) => {
    assert.ok(error instanceof SpotProtocolError, `${error} is a SpotProtocolError`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("a handshake request encodes as Go writes it: struct order, no rdy when false, null grp", () => {
  assert.equal(hex.encode(encodeHandshakeRequest(REQUEST)), REQUEST_HEX);
});

Deno.test("a ready request with groups and no nonce encodes rdy first, grp as bytes, rnd as null", () => {
  const bytes = encodeHandshakeRequest({
    ready: true,
    serverCode: "",
    clientId: "c",
    nonce: null,
    groups: [new Uint8Array([0xaa]), new Uint8Array([0xbb, 0xcc])],
  });
  assert.equal(hex.encode(bytes), `a5${RDY}f5${SRV}60${CID}6163${RND}f6${GRP}8241aa42bbcc`);
  assert.deepEqual(decodeHandshakeRequest(bytes), {
    ready: true,
    serverCode: "",
    clientId: "c",
    nonce: null,
    groups: [new Uint8Array([0xaa]), new Uint8Array([0xbb, 0xcc])],
    raw: bytes,
  });
});

Deno.test("an empty nonce and an empty group list stay empty, not null, both ways", () => {
  const bytes = encodeHandshakeRequest({ ...REQUEST, nonce: new Uint8Array(), groups: [] });
  assert.equal(hex.encode(bytes).endsWith(`${RND}40${GRP}80`), true);
  const decoded = decodeHandshakeRequest(bytes);
  assert.deepEqual([decoded.nonce, decoded.groups], [new Uint8Array(), []]);
});

Deno.test("a handshake response encodes id, key and sig always, null for an absent one", () => {
  const bytes = encodeHandshakeResponse({
    id: new Uint8Array([1, 2]),
    key: new Uint8Array([3]),
    sig: null,
  });
  assert.equal(hex.encode(bytes), `a3${ID}420102${KEY}4103${SIG}f6`);
});

Deno.test("a request packet decodes on the client with its raw bytes, the ones to sign", () => {
  const packet = encodePacket({ type: "handshake_request", request: REQUEST });
  assert.equal(hex.encode(packet), `01${REQUEST_HEX}`);
  const decoded = decodePacket(packet, "client");
  assert.equal(decoded.type, "handshake_request");
  if (decoded.type !== "handshake_request") return;
  assert.deepEqual(decoded.request, { ...REQUEST, raw: packet.subarray(1) });
  assert.deepEqual(handshakeSignedBytes(packet), decoded.request.raw);
  assert.equal(hex.encode(decoded.request.raw), REQUEST_HEX);
});

Deno.test("the raw bytes are the request as received, even when another encoder wrote it", () => {
  // Keys in another order, an unknown key and an integer key: Go ignores both, so do we
  const bytes = hex.decode(`a6${RND}4101${CID}6178${GRP}f6${SRV}6173` + "637a7a7a01" + "056161");
  const packet = new Uint8Array([0x01, ...bytes]);
  const decoded = decodePacket(packet, "client");
  assert.ok(decoded.type === "handshake_request");
  assert.deepEqual(decoded.request.raw, bytes);
  assert.equal(decoded.request.serverCode, "s");
  assert.equal(decoded.request.clientId, "x");
  assert.notEqual(hex.encode(encodeHandshakeRequest(decoded.request)), hex.encode(bytes));
});

Deno.test("a relay reads a handshake packet as a response, including pyspotlib's without empty fields", () => {
  const pyspotlib = hex.decode(`a2${KEY}4103${SIG}4104`);
  const decoded = decodePacket(new Uint8Array([0x01, ...pyspotlib]), "relay");
  assert.deepEqual(decoded, {
    type: "handshake_response",
    response: { id: null, key: new Uint8Array([3]), sig: new Uint8Array([4]) },
  });
  assert.deepEqual(decodeHandshakeResponse(hex.decode(`a3${ID}f6${KEY}f6${SIG}f6`)), {
    id: null,
    key: null,
    sig: null,
  });
});

Deno.test("missing or null request fields decode as Go's zero values", () => {
  assert.deepEqual(decodeHandshakeRequest(hex.decode(`a1${RDY}f6`)), {
    ready: false,
    serverCode: "",
    clientId: "",
    nonce: null,
    groups: null,
    raw: hex.decode(`a1${RDY}f6`),
  });
});

Deno.test("indefinite-length maps and arrays, which Go accepts, decode too; strings do not", () => {
  const bytes = hex.decode(`bf${SRV}6161${GRP}9f4101ff${RDY}f5ff`);
  const request = decodeHandshakeRequest(bytes);
  assert.equal(request.serverCode, "a");
  assert.deepEqual(request.groups, [new Uint8Array([1])]);
  assert.equal(request.ready, true);
  // cborg has no indefinite-length strings; no Spot peer is known to write them
  throwsCode(() => decodeHandshakeRequest(hex.decode(`a1${SRV}7f6161ff`)), "invalid_cbor");
});

Deno.test("a field of the wrong type is refused with invalid_handshake naming the key", () => {
  const cases: [string, RegExp][] = [
    [`a1${SRV}4161`, /'srv' must be a text string or null: current value is a byte string of 1/],
    [`a1${RND}6161`, /'rnd' must be a byte string/],
    [`a1${RDY}01`, /'rdy' must be a boolean/],
    [`a1${GRP}816161`, /'grp' must be an array of byte strings/],
    [`a1${GRP}4100`, /'grp' must be an array of byte strings/],
  ];
  for (const [bytes, pattern] of cases) {
    throwsCode(() => decodeHandshakeRequest(hex.decode(bytes)), "invalid_handshake", pattern);
  }
  throwsCode(
    () => decodeHandshakeResponse(hex.decode(`a1${SIG}6161`)),
    "invalid_handshake",
    /'sig'/,
  );
  throwsCode(
    () => decodeHandshakeRequest(hex.decode("80")),
    "invalid_handshake",
    /an array, not a map/,
  );
  throwsCode(
    () => decodeHandshakeResponse(hex.decode("f6")),
    "invalid_handshake",
    /null, not a map/,
  );
});

Deno.test("broken CBOR is refused with invalid_cbor: every truncation, trailing bytes, duplicates, depth", () => {
  const whole = hex.decode(REQUEST_HEX);
  for (let length = 0; length < whole.length; length++) {
    throwsCode(() => decodeHandshakeRequest(whole.subarray(0, length)), "invalid_cbor");
  }
  throwsCode(() => decodeHandshakeRequest(new Uint8Array([...whole, 0x00])), "invalid_cbor");
  throwsCode(() => decodeHandshakeRequest(hex.decode(`a2${SRV}6161${SRV}6162`)), "invalid_cbor");
  throwsCode(() => decodeHandshakeResponse(hex.decode("bb7fffffffffffffff")), "invalid_cbor");
  throwsCode(() => decodeHandshakeResponse(hex.decode("5bffffffffffffffff00")), "invalid_cbor");
  // Nesting deep enough to overflow the decoder's stack, within the 1 MiB packet limit
  const deep = new Uint8Array(500_000).fill(0x81);
  throwsCode(() => decodePacket(new Uint8Array([0x01, ...deep]), "relay"), "invalid_cbor");
});

Deno.test("only a handshake packet has signed bytes", () => {
  throwsCode(() => handshakeSignedBytes(new Uint8Array()), "empty_packet");
  throwsCode(() => handshakeSignedBytes(new Uint8Array([0x02, 0x01])), "unknown_packet_type");
});

Deno.test("the encoders refuse fields of the wrong type with InvalidArgumentError", () => {
  const bad: [() => unknown, string][] = [
    [() => encodeHandshakeRequest({ ...REQUEST, nonce: "abc" as never }), "nonce"],
    [() => encodeHandshakeRequest({ ...REQUEST, groups: ["a"] as never }), "groups"],
    [() => encodeHandshakeRequest({ ...REQUEST, ready: 1 as never }), "ready"],
    [() => encodeHandshakeRequest({ ...REQUEST, clientId: null as never }), "clientId"],
    [() => encodeHandshakeResponse({ id: null, key: [1] as never, sig: null }), "key"],
  ];
  for (const [run, argument] of bad) {
    assert.throws(
      run,
      (error) => error instanceof InvalidArgumentError && error.argument === argument,
    );
  }
});
