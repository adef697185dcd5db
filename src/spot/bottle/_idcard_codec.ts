/**
 * The CBOR of IDCards, SubKeys and Memberships (draft sections 6.4 to 6.6):
 * integer-keyed maps, written as the Go implementation writes them (times as
 * plain Unix seconds, empty lists and maps as null) and read leniently where
 * the draft allows more (times as tag 0 text, tag 1 numbers, or untagged).
 * Unknown keys are ignored, as Go ignores them. Internal.
 *
 * @module
 */

import type { TagDecoder } from "cborg";
import { decodeCbor, encodeCbor } from "./_cbor.ts";
import { BottleFormatError, IDCardError } from "./errors.ts";

/** A key of a card with what it may be used for. */
export interface SubKey {
  /** The PKIX public key. */
  key: Uint8Array;
  /** When it was added. */
  issued: Date;
  /** When it stops being valid, if ever. */
  expires?: Date;
  /** What it may do: "sign", "decrypt", and others such as "ephemeral". */
  purposes: string[];
}

/** A card's membership of a group, signed by the group. */
export interface Membership {
  /** The member's primary key; null inside a card, where it is the card's `self`. */
  subject: Uint8Array | null;
  /** The group's primary key. */
  key: Uint8Array;
  /** "valid" or "suspended". */
  status: string;
  /** When the membership was issued. */
  issued: Date;
  /** What the group says about the member; null when the group wrote none (Go's nil map). */
  info: Record<string, string> | null;
  /** The key that signed the membership. */
  signKey: Uint8Array | null;
  /** The signature over the membership's canonical CBOR with no signature. */
  signature: Uint8Array | null;
}

/** An IDCard's fields. */
export interface IDCardFields {
  self: Uint8Array;
  issued: Date;
  subKeys: SubKey[];
  revoke: SubKey[];
  groups: Membership[];
  meta: Record<string, string>;
}

const TIME_TAGS: TagDecoder[] = [];
TIME_TAGS[0] = (value: unknown) => {
  if (typeof value !== "string") throw new Error("tag 0 does not hold text");
  return new Date(value);
};
TIME_TAGS[1] = (value: unknown) => {
  if (typeof value !== "number") throw new Error("tag 1 does not hold a number");
  return new Date(value * 1000);
};

function invalid(message: string): IDCardError {
  return new IDCardError("invalid_structure", message);
}

function asMap(value: unknown, what: string): Map<unknown, unknown> {
  if (!(value instanceof Map)) throw invalid(`Cannot decode ${what} as it is not a CBOR map`);
  return value;
}

function bytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(`Cannot decode ${what} as it is not bytes`);
  return value;
}

function optionalBytes(value: unknown, what: string): Uint8Array | null {
  return value === undefined || value === null ? null : bytes(value, what);
}

function time(value: unknown, what: string): Date {
  let date: Date | undefined;
  if (value instanceof Date) date = value;
  else if (typeof value === "number") date = new Date(value * 1000);
  else if (typeof value === "string") date = new Date(value);
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw invalid(`Cannot decode ${what} as it is not a time`);
  }
  return date;
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`Cannot decode ${what} as it is not an array`);
  return value;
}

function textMap(value: unknown, what: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (value === undefined || value === null) return out;
  for (const [key, item] of asMap(value, what)) {
    if (typeof key !== "string" || typeof item !== "string") {
      throw invalid(`Cannot decode ${what} as it is not a map of text to text`);
    }
    out[key] = item;
  }
  return out;
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function readSubKey(value: unknown, what: string): SubKey {
  const map = asMap(value, what);
  const purposes = list(map.get(4), `${what} purposes`);
  if (!purposes.every((purpose) => typeof purpose === "string")) {
    throw invalid(`Cannot decode ${what} purposes as they are not all text`);
  }
  const expires = map.get(3);
  return {
    key: bytes(map.get(1), `${what} key`),
    issued: time(map.get(2), `${what} issue time`),
    ...(expires === undefined || expires === null ? {} : {
      expires: time(expires, `${what} expiry time`),
    }),
    purposes: purposes as string[],
  };
}

function writeSubKey(subKey: SubKey): Map<number, unknown> {
  const map = new Map<number, unknown>([[1, subKey.key], [2, seconds(subKey.issued)]]);
  if (subKey.expires !== undefined) map.set(3, seconds(subKey.expires));
  map.set(4, subKey.purposes.length === 0 ? null : [...subKey.purposes]);
  return map;
}

/**
 * Reads a Membership from its decoded CBOR map.
 *
 * @param value The decoded map.
 * @param what How to name it in errors.
 * @returns The membership.
 * @throws {IDCardError} When the map is not a Membership.
 * @example
 * ```ts
 * import { readMembership } from "./_idcard_codec.ts";
 *
 * const map = new Map<number, unknown>([[2, new Uint8Array([1])], [3, "valid"], [4, 0]]);
 * console.log(readMembership(map, "membership").status); // "valid"
 * ```
 */
export function readMembership(value: unknown, what: string): Membership {
  const map = asMap(value, what);
  const status = map.get(3);
  if (typeof status !== "string") throw invalid(`Cannot decode ${what} status as it is not text`);
  return {
    subject: optionalBytes(map.get(1), `${what} subject`),
    key: bytes(map.get(2), `${what} group key`),
    status,
    issued: time(map.get(4), `${what} issue time`),
    info: map.get(5) === undefined || map.get(5) === null
      ? null
      : textMap(map.get(5), `${what} info`),
    signKey: optionalBytes(map.get(6), `${what} signing key`),
    signature: optionalBytes(map.get(7), `${what} signature`),
  };
}

/**
 * Writes a Membership as Go does: every key present, absent byte fields as null.
 *
 * @param membership The membership.
 * @param signature The signature to write, `null` for the bytes that get signed.
 * @returns The CBOR map, as a `Map` for the encoder.
 * @throws Never.
 * @example
 * ```ts
 * import { readMembership, writeMembership } from "./_idcard_codec.ts";
 *
 * const map = new Map<number, unknown>([[2, new Uint8Array([1])], [3, "valid"], [4, 0]]);
 * console.log(writeMembership(readMembership(map, "membership"), null).get(7)); // null
 * ```
 */
export function writeMembership(
  membership: Membership,
  signature: Uint8Array | null = membership.signature,
): Map<number, unknown> {
  return new Map<number, unknown>([
    [1, membership.subject],
    [2, membership.key],
    [3, membership.status],
    [4, seconds(membership.issued)],
    [5, membership.info === null ? null : { ...membership.info }],
    [6, membership.signKey],
    [7, signature],
  ]);
}

/**
 * Decodes CBOR bytes with the time tags allowed, turning CBOR errors into IDCard errors.
 *
 * @param data The bytes.
 * @param what How to name them in errors.
 * @returns The decoded value.
 * @throws {IDCardError} When the bytes are not valid CBOR.
 * @example
 * ```ts
 * import { decodeCardCbor } from "./_idcard_codec.ts";
 *
 * console.log(decodeCardCbor(new Uint8Array([0xc1, 0x00]), "time")); // 1970-01-01T00:00:00.000Z
 * ```
 */
export function decodeCardCbor(data: Uint8Array, what: string): unknown {
  try {
    return decodeCbor(data, what, { tags: TIME_TAGS });
  } catch (error) {
    if (error instanceof BottleFormatError) {
      throw new IDCardError("invalid_structure", error.message, { cause: error });
    }
    throw error;
  }
}

/**
 * Reads an IDCard from its CBOR.
 *
 * @param data The CBOR bytes of the card (not the signed bottle).
 * @returns The card's fields.
 * @throws {IDCardError} When the bytes are not an IDCard.
 * @example
 * ```ts
 * import { decodeIDCardFields, encodeIDCardFields } from "./_idcard_codec.ts";
 *
 * const bytes = encodeIDCardFields({
 *   self: new Uint8Array([1]),
 *   issued: new Date(0),
 *   subKeys: [],
 *   revoke: [],
 *   groups: [],
 *   meta: { name: "Alice" },
 * });
 * console.log(decodeIDCardFields(bytes).meta.name); // "Alice"
 * ```
 */
export function decodeIDCardFields(data: Uint8Array): IDCardFields {
  const map = asMap(decodeCardCbor(data, "IDCard"), "IDCard");
  const self = bytes(map.get(1), "IDCard primary key");
  return {
    self,
    issued: time(map.get(2), "IDCard issue time"),
    subKeys: list(map.get(3), "IDCard subkeys").map((value, index) =>
      readSubKey(value, `IDCard subkey ${index}`)
    ),
    revoke: list(map.get(4), "IDCard revoked keys").map((value, index) =>
      readSubKey(value, `IDCard revoked key ${index}`)
    ),
    groups: list(map.get(5), "IDCard groups").map((value, index) =>
      readMembership(value, `IDCard group ${index}`)
    ),
    meta: textMap(map.get(6), "IDCard meta"),
  };
}

/**
 * Writes an IDCard's CBOR as Go does: keys 1 to 6 in order, times as Unix
 * seconds, empty lists and an empty meta as null.
 *
 * @param card The card's fields.
 * @returns The CBOR bytes.
 * @throws Never.
 * @example
 * ```ts
 * import { encodeIDCardFields } from "./_idcard_codec.ts";
 *
 * const card = {
 *   self: new Uint8Array([1]),
 *   issued: new Date(0),
 *   subKeys: [],
 *   revoke: [],
 *   groups: [],
 *   meta: {},
 * };
 * console.log(encodeIDCardFields(card)[0].toString(16)); // "a6": a map of 6 entries
 * ```
 */
export function encodeIDCardFields(card: IDCardFields): Uint8Array {
  const orNull = <T>(items: T[], write: (item: T) => unknown) =>
    items.length === 0 ? null : items.map(write);
  return encodeCbor(
    new Map<number, unknown>([
      [1, card.self],
      [2, seconds(card.issued)],
      [3, orNull(card.subKeys, writeSubKey)],
      [4, orNull(card.revoke, writeSubKey)],
      [5, orNull(card.groups, (group) => writeMembership(group))],
      [6, Object.keys(card.meta).length === 0 ? null : { ...card.meta }],
    ]),
  );
}
