/**
 * The Spot handshake (packet type 1) without its first byte: the relay's
 * request, a CBOR map `{rdy, srv, cid, rnd, grp}`, and the client's
 * response, `{id, key, sig}`. Encoding follows what Go's spotproto writes
 * with fxamacker/cbor: keys in struct order, `rdy` only when true, every
 * other key always present with `null` for an absent value. Decoding accepts
 * what the real peers send: keys in any order, missing keys or `null` for
 * an absent value (pyspotlib leaves empty fields out), other keys ignored,
 * indefinite-length maps and arrays. Unlike Go it refuses duplicate keys,
 * tags and indefinite-length strings (cborg has none; no peer writes them).
 * The client signs the request's CBOR exactly as received, so the decoder
 * keeps those bytes.
 *
 * @module
 */

import { decode, encode } from "cborg";
import { invalidArgument } from "../../core/validate.ts";
import { SpotProtocolError } from "./errors.ts";

/** The relay's handshake request (server to client). */
export interface HandshakeRequest {
  /** `rdy`: the handshake is over and the client is online. */
  ready: boolean;
  /** `srv`: the relay's short server code. */
  serverCode: string;
  /** `cid`: the connection's client id (the `c.<srv>.<cid>` address). */
  clientId: string;
  /** `rnd`: the random challenge, or `null` when absent. */
  nonce: Uint8Array | null;
  /** `grp`: the groups to add to the client's ID card before answering, or `null`. */
  groups: Uint8Array[] | null;
}

/** The client's handshake response (client to server). */
export interface HandshakeResponse {
  /** `id`: the client's signed ID card, or `null` when absent. */
  id: Uint8Array | null;
  /** `key`: the signing public key as PKIX (SubjectPublicKeyInfo) DER, or `null`. */
  key: Uint8Array | null;
  /** `sig`: the signature over the request's CBOR bytes, or `null`. */
  sig: Uint8Array | null;
}

/** A decoded handshake request with the bytes the client signs. */
export interface DecodedHandshakeRequest extends HandshakeRequest {
  /** The request's CBOR exactly as received (the packet minus its first byte): what is signed. */
  raw: Uint8Array;
}

// cborg sorts map keys unless told not to; Go writes them in struct order
const ENCODE_OPTIONS = { mapSorter: undefined };
const DECODE_OPTIONS = {
  useMaps: true,
  rejectDuplicateMapKeys: true,
  coerceUndefinedToNull: true,
};

/**
 * Encodes a handshake request as Go's spotproto does.
 *
 * @param request The request.
 * @returns Its CBOR bytes, which the client signs.
 * @throws {InvalidArgumentError} When a field is not of its type.
 *
 * @example
 * ```ts
 * import { decodeHandshakeRequest, encodeHandshakeRequest } from "./handshake.ts";
 *
 * const bytes = encodeHandshakeRequest({
 *   ready: false,
 *   serverCode: "edge",
 *   clientId: "conn-1",
 *   nonce: new Uint8Array(32),
 *   groups: null,
 * });
 * console.log(decodeHandshakeRequest(bytes).clientId); // "conn-1"
 * ```
 */
export function encodeHandshakeRequest(request: HandshakeRequest): Uint8Array {
  const action = "encode Spot handshake request";
  if (typeof request.ready !== "boolean") {
    throw invalidArgument(action, "ready", "a boolean", request.ready);
  }
  for (const field of ["serverCode", "clientId"] as const) {
    if (typeof request[field] !== "string") {
      throw invalidArgument(action, field, "a string", request[field]);
    }
  }
  checkBytes(action, "nonce", request.nonce);
  const groups = request.groups;
  if (groups !== null && (!Array.isArray(groups) || !groups.every(isBytes))) {
    throw invalidArgument(action, "groups", "an array of Uint8Array or null", groups);
  }
  const map = new Map<string, unknown>();
  if (request.ready) map.set("rdy", true);
  map.set("srv", request.serverCode);
  map.set("cid", request.clientId);
  map.set("rnd", request.nonce);
  map.set("grp", groups);
  return encode(map, ENCODE_OPTIONS);
}

/**
 * Encodes a handshake response as Go's spotproto does: `id`, `key` and
 * `sig` always, `null` for an absent one.
 *
 * @param response The response.
 * @returns Its CBOR bytes.
 * @throws {InvalidArgumentError} When a field is neither bytes nor `null`.
 *
 * @example
 * ```ts
 * import { encodeHandshakeResponse } from "./handshake.ts";
 *
 * const bytes = encodeHandshakeResponse({ id: null, key: new Uint8Array([1]), sig: new Uint8Array([2]) });
 * console.log(bytes[0].toString(16)); // "a3"
 * ```
 */
export function encodeHandshakeResponse(response: HandshakeResponse): Uint8Array {
  const action = "encode Spot handshake response";
  for (const field of ["id", "key", "sig"] as const) checkBytes(action, field, response[field]);
  return encode(
    new Map<string, unknown>([["id", response.id], ["key", response.key], ["sig", response.sig]]),
    ENCODE_OPTIONS,
  );
}

/**
 * Decodes the relay's handshake request. Its `raw` field is `bytes`
 * itself: the client signs exactly those.
 *
 * @param bytes The packet's bytes after its first byte.
 * @returns The request and its raw bytes.
 * @throws {SpotProtocolError} With code `invalid_cbor` when the bytes are not one
 * well-formed CBOR item, `invalid_handshake` when it is not a map or a known field
 * has the wrong type.
 *
 * @example
 * ```ts
 * import { decodeHandshakeRequest } from "./handshake.ts";
 *
 * // {"srv": "a", "cid": "b", "rnd": h'01', "grp": null}, as Go writes it
 * const bytes = Uint8Array.from([0xa4, 0x63, 0x73, 0x72, 0x76, 0x61, 0x61, 0x63, 0x63, 0x69, 0x64, 0x61, 0x62, 0x63, 0x72, 0x6e, 0x64, 0x41, 0x01, 0x63, 0x67, 0x72, 0x70, 0xf6]);
 * const request = decodeHandshakeRequest(bytes);
 * console.log(request.ready, request.serverCode, request.raw === bytes); // false "a" true
 * ```
 */
export function decodeHandshakeRequest(bytes: Uint8Array): DecodedHandshakeRequest {
  const map = decodeMap(bytes, "request");
  const what = "Spot handshake request";
  const ready = field(map, "rdy", what, (value) => typeof value === "boolean", "a boolean");
  const serverCode = field(map, "srv", what, isString, "a text string");
  const clientId = field(map, "cid", what, isString, "a text string");
  const nonce = field(map, "rnd", what, isBytes, "a byte string");
  const groups = field(map, "grp", what, isByteStringArray, "an array of byte strings");
  return {
    ready: ready ?? false,
    serverCode: serverCode ?? "",
    clientId: clientId ?? "",
    nonce,
    groups,
    raw: bytes,
  };
}

/**
 * Decodes the client's handshake response. Missing fields (pyspotlib
 * leaves empty ones out) and `null` both decode as `null`.
 *
 * @param bytes The packet's bytes after its first byte.
 * @returns The response; its byte strings are copies made by the CBOR decoder.
 * @throws {SpotProtocolError} With code `invalid_cbor` when the bytes are not one
 * well-formed CBOR item, `invalid_handshake` when it is not a map or a known field
 * is not a byte string.
 *
 * @example
 * ```ts
 * import { decodeHandshakeResponse, encodeHandshakeResponse } from "./handshake.ts";
 *
 * const bytes = encodeHandshakeResponse({ id: null, key: new Uint8Array([1]), sig: new Uint8Array([2]) });
 * console.log(decodeHandshakeResponse(bytes).sig); // Uint8Array(1) [ 2 ]
 * ```
 */
export function decodeHandshakeResponse(bytes: Uint8Array): HandshakeResponse {
  const map = decodeMap(bytes, "response");
  const what = "Spot handshake response";
  return {
    id: field(map, "id", what, isBytes, "a byte string"),
    key: field(map, "key", what, isBytes, "a byte string"),
    sig: field(map, "sig", what, isBytes, "a byte string"),
  };
}

function decodeMap(bytes: Uint8Array, kind: "request" | "response"): Map<unknown, unknown> {
  let value: unknown;
  try {
    value = decode(bytes, DECODE_OPTIONS);
  } catch (cause) {
    // cborg throws plain Errors, and a RangeError when nesting overflows the stack
    throw new SpotProtocolError(
      "invalid_cbor",
      `Cannot decode Spot handshake ${kind} as its ${bytes.length} bytes are not one well-formed CBOR item: drop the packet`,
      { cause },
    );
  }
  if (!(value instanceof Map)) {
    throw new SpotProtocolError(
      "invalid_handshake",
      `Cannot decode Spot handshake ${kind} as its CBOR is ${
        kindOf(value)
      }, not a map: drop the packet`,
    );
  }
  return value;
}

function field<T>(
  map: Map<unknown, unknown>,
  key: string,
  what: string,
  check: (value: unknown) => value is T,
  rule: string,
): T | null {
  const value = map.get(key);
  if (value === undefined || value === null) return null;
  if (check(value)) return value;
  throw new SpotProtocolError(
    "invalid_handshake",
    `Cannot decode ${what} as its '${key}' must be ${rule} or null: current value is ${
      kindOf(value)
    }`,
  );
}

function checkBytes(action: string, field: string, value: unknown): void {
  if (value !== null && !isBytes(value)) {
    throw invalidArgument(action, field, "a Uint8Array or null", value);
  }
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function isByteStringArray(value: unknown): value is Uint8Array[] {
  return Array.isArray(value) && value.every(isBytes);
}

function kindOf(value: unknown): string {
  if (value instanceof Uint8Array) return `a byte string of ${value.length} bytes`;
  if (value instanceof Map) return "a map";
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "string") return `a text string of ${value.length} characters`;
  return `a ${typeof value}`;
}
