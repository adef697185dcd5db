/**
 * Spot addresses, `<target>/<endpoint>`: `k.<hash>` (a key: base64url
 * without padding of the SHA-256 of an ID card's primary public key, with an
 * optional server code, `k.<srv>.<hash>`), `c.<srv>.<client id>` (one
 * connection), `g.<group hash>` (a member of a group), `@` (the relay's own
 * endpoints, `@/time`) and an empty target (`/<id>`, the sender of a query
 * before the relay rewrites it to the verified key). Also the routing rule
 * of query answers: the first path segment after the first `/`.
 *
 * @module
 */

import { base64urlnopad } from "@scure/base";
import { hasLoneSurrogate, utf8ByteLength } from "../../core/utf8.ts";
import { invalidArgument } from "../../core/validate.ts";
import { SpotProtocolError } from "./errors.ts";
import { MAX_ADDRESS_BYTES } from "./message.ts";

/** The length of a key hash: SHA-256. */
export const KEY_HASH_BYTES = 32;

/** A parsed Spot address. */
export type SpotAddress =
  /** `k.<hash>/<endpoint>` or `k.<srv>.<hash>/<endpoint>`: the holder of a key. */
  | { kind: "key"; server: string | null; hash: Uint8Array; endpoint: string }
  /** `c.<srv>.<client id>/<endpoint>`: one connection to one relay. */
  | { kind: "connection"; server: string; clientId: string; endpoint: string }
  /** `g.<group hash>/<endpoint>`: a member of a group. */
  | { kind: "group"; hash: Uint8Array; endpoint: string }
  /** `@/<endpoint>`: the relay itself. */
  | { kind: "system"; endpoint: string }
  /** `/<endpoint>`: no target, as a client writes the sender of its queries. */
  | { kind: "local"; endpoint: string };

const SERVER_CODE = /^[A-Za-z0-9_-]+$/;

/**
 * Parses an address.
 *
 * @param text The address, such as `k.j0NDRmSPa5bfid2pAcUXaxCm2Dlh3TwayItZstwyeqQ/ping`.
 * @returns Its parts.
 * @throws {SpotProtocolError} With code `address_too_long` above 256 UTF-8 bytes, or
 * `invalid_address` when it is none of the forms (no `/`, an unknown type letter, a
 * hash that is not base64url, a key hash that is not 32 bytes, the old `:` separators).
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 *
 * const address = parseAddress("c.srv1.conn-42/eth");
 * if (address.kind === "connection") console.log(address.server, address.clientId); // "srv1" "conn-42"
 * ```
 */
export function parseAddress(text: string): SpotAddress {
  const length = utf8ByteLength(text);
  if (length > MAX_ADDRESS_BYTES) {
    throw new SpotProtocolError(
      "address_too_long",
      `Cannot parse Spot address of ${length} bytes as the limit is ${MAX_ADDRESS_BYTES}`,
    );
  }
  const slash = text.indexOf("/");
  if (slash === -1) throw badAddress(text, "it has no '/' before its endpoint");
  const head = text.slice(0, slash);
  const endpoint = text.slice(slash + 1);
  if (head === "") return { kind: "local", endpoint };
  if (head === "@") return { kind: "system", endpoint };
  const parts = head.split(".");
  switch (parts[0]) {
    case "k":
      if (parts.length === 2) {
        return { kind: "key", server: null, hash: keyHash(text, parts[1]), endpoint };
      }
      if (parts.length === 3) {
        return {
          kind: "key",
          server: serverCode(text, parts[1]),
          hash: keyHash(text, parts[2]),
          endpoint,
        };
      }
      throw badAddress(text, "a key address is k.<hash> or k.<server>.<hash>");
    case "c":
      if (parts.length < 3 || parts.slice(2).join(".") === "") {
        throw badAddress(text, "a connection address is c.<server>.<client id>");
      }
      return {
        kind: "connection",
        server: serverCode(text, parts[1]),
        clientId: parts.slice(2).join("."),
        endpoint,
      };
    case "g":
      if (parts.length !== 2) throw badAddress(text, "a group address is g.<group hash>");
      return { kind: "group", hash: hashBytes(text, parts[1]), endpoint };
    default:
      throw badAddress(
        text,
        "its target is not k., c., g., @ or empty (':' separators are gone since spotproto ff73d52)",
      );
  }
}

/**
 * Writes an address, the inverse of {@linkcode parseAddress}.
 *
 * @param address Its parts.
 * @returns The address text.
 * @throws {InvalidArgumentError} When a part cannot be written: a key hash that is not
 * 32 bytes, an empty group hash, a server code outside `[A-Za-z0-9_-]`, a client id with
 * a `/`, or a result above 256 UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./address.ts";
 *
 * console.log(formatAddress({ kind: "system", endpoint: "time" })); // "@/time"
 * ```
 */
export function formatAddress(address: SpotAddress): string {
  const action = "format Spot address";
  let head: string;
  switch (address.kind) {
    case "key":
      if (address.server !== null) checkServer(action, address.server);
      head = address.server === null
        ? keyTarget(address.hash)
        : `k.${address.server}.${keyTarget(address.hash).slice(2)}`;
      break;
    case "connection":
      checkServer(action, address.server);
      if (
        typeof address.clientId !== "string" || address.clientId === "" ||
        address.clientId.includes("/")
      ) {
        throw invalidArgument(
          action,
          "clientId",
          "a non-empty string without '/'",
          address.clientId,
        );
      }
      head = `c.${address.server}.${address.clientId}`;
      break;
    case "group":
      if (!(address.hash instanceof Uint8Array) || address.hash.length === 0) {
        throw invalidArgument(action, "hash", "non-empty bytes", address.hash);
      }
      head = `g.${base64urlnopad.encode(address.hash)}`;
      break;
    case "system":
      head = "@";
      break;
    case "local":
      head = "";
      break;
    default:
      throw invalidArgument(
        action,
        "kind",
        '"key", "connection", "group", "system" or "local"',
        (address as { kind: unknown }).kind,
        { reveal: true },
      );
  }
  const text = `${head}/${address.endpoint}`;
  if (
    typeof address.endpoint !== "string" || hasLoneSurrogate(text) ||
    utf8ByteLength(text) > MAX_ADDRESS_BYTES
  ) {
    throw invalidArgument(
      action,
      "endpoint",
      `text that keeps the address within ${MAX_ADDRESS_BYTES} UTF-8 bytes`,
      address.endpoint,
    );
  }
  return text;
}

/**
 * The target of a key: `k.` and the base64url (no padding) of its 32-byte
 * hash, as spotlib's `TargetId()`.
 *
 * @param hash The SHA-256 of the ID card's primary public key (PKIX DER).
 * @returns The target, without an endpoint.
 * @throws {InvalidArgumentError} When `hash` is not 32 bytes.
 *
 * @example
 * ```ts
 * import { keyTarget } from "./address.ts";
 *
 * console.log(keyTarget(new Uint8Array(32))); // "k.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
 * ```
 */
export function keyTarget(hash: Uint8Array): string {
  if (!(hash instanceof Uint8Array) || hash.length !== KEY_HASH_BYTES) {
    throw invalidArgument("format Spot key address", "hash", `${KEY_HASH_BYTES} bytes`, hash);
  }
  return `k.${base64urlnopad.encode(hash)}`;
}

/**
 * The segment a query answer is routed by, as spotlib reads it: what
 * follows the first `/` of the recipient, up to the next `/`. A query sent
 * from `/<id>` is answered to `k.<our hash>/<id>`, whose segment is `<id>`.
 *
 * @param recipient The recipient of an incoming message.
 * @returns The segment (possibly empty), or `null` when there is no `/`.
 *
 * @example
 * ```ts
 * import { routingSegment } from "./address.ts";
 *
 * console.log(routingSegment("k.abc/699ec197-d329/extra")); // "699ec197-d329"
 * console.log(routingSegment("k.abc")); // null
 * ```
 */
export function routingSegment(recipient: string): string | null {
  const slash = recipient.indexOf("/");
  if (slash === -1) return null;
  const next = recipient.indexOf("/", slash + 1);
  return next === -1 ? recipient.slice(slash + 1) : recipient.slice(slash + 1, next);
}

function keyHash(text: string, encoded: string): Uint8Array {
  const hash = hashBytes(text, encoded);
  if (hash.length !== KEY_HASH_BYTES) {
    throw badAddress(text, `its key hash is ${hash.length} bytes, not ${KEY_HASH_BYTES}`);
  }
  return hash;
}

function hashBytes(text: string, encoded: string): Uint8Array {
  try {
    const bytes = base64urlnopad.decode(encoded);
    if (bytes.length > 0) return bytes;
  } catch {
    // Reported below with the address
  }
  throw badAddress(text, "its hash is not base64url without padding");
}

function serverCode(text: string, code: string): string {
  if (!SERVER_CODE.test(code)) throw badAddress(text, "its server code is not [A-Za-z0-9_-]+");
  return code;
}

function checkServer(action: string, server: unknown): void {
  if (typeof server !== "string" || !SERVER_CODE.test(server)) {
    throw invalidArgument(action, "server", "letters, digits, '_' or '-'", server);
  }
}

function badAddress(text: string, why: string): SpotProtocolError {
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  return new SpotProtocolError("invalid_address", `Cannot parse Spot address ${shown} as ${why}`);
}
