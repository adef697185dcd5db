/**
 * The wire forms of a Bottle, without the class around them: the CBOR array
 * `[header, message, format, recipients, signatures]` as the Go
 * implementation writes it (empty lists as `null`, an empty header as `{}`),
 * and the JSON object of draft section 7. Decoding checks every field and
 * keeps the header's exact bytes so a decoded Bottle re-encodes byte for
 * byte. Internal.
 *
 * @module
 */

import { base64, base64urlnopad } from "@scure/base";
import { concatBytes } from "../../core/bytes.ts";
import { CborReader, encodeCbor } from "./_cbor.ts";
import { BottleFormatError } from "./errors.ts";

/** The formats of draft section 3.1. */
export type BottleFormat = 0 | 1 | 2 | 3;

/** A key a Bottle's content key was encrypted for (draft 3.3). */
export interface MessageRecipient {
  /** Always 0: the recipient is a PKIX public key. */
  readonly type: number;
  /** The recipient's PKIX (SubjectPublicKeyInfo DER) public key. */
  readonly recipient: Uint8Array;
  /** The content key encrypted for that recipient. */
  readonly data: Uint8Array;
}

/** A signature over a Bottle's message bytes (draft 3.4). */
export interface MessageSignature {
  /** Always 0: the signer is a PKIX public key. */
  readonly type: number;
  /** The signer's PKIX (SubjectPublicKeyInfo DER) public key. */
  readonly signer: Uint8Array;
  /** The signature value. */
  readonly data: Uint8Array;
}

/** A Bottle's fields as read from the wire. */
export interface BottleParts {
  header: Record<string, unknown>;
  /** The header's bytes as received, when it came from CBOR. */
  headerRaw: Uint8Array | undefined;
  message: Uint8Array;
  format: BottleFormat;
  recipients: MessageRecipient[];
  signatures: MessageSignature[];
}

/** The largest format number the draft defines. */
const LAST_FORMAT = 3;

/** A header holding nothing, in the CBOR Go writes for it. */
const EMPTY_MAP = new Uint8Array([0xa0]);

function structure(message: string): BottleFormatError {
  return new BottleFormatError("invalid_structure", message);
}

function toHeader(value: unknown, where: string): Record<string, unknown> {
  const header: Record<string, unknown> = Object.create(null);
  // Go writes a nil header map as null
  if (value === null) return header;
  if (!(value instanceof Map)) {
    throw structure(`Cannot decode ${where} as its header is not a map`);
  }
  for (const [key, item] of value) {
    if (typeof key !== "string") {
      throw structure(`Cannot decode ${where} as a header key is a ${typeof key}, not a string`);
    }
    header[key] = item;
  }
  return header;
}

function toFormat(value: unknown, where: string): BottleFormat {
  if (typeof value !== "number" && typeof value !== "bigint") {
    throw structure(`Cannot decode ${where} as its format is not an integer`);
  }
  if (value < 0 || value > LAST_FORMAT) {
    throw new BottleFormatError(
      "unknown_format",
      `Cannot decode ${where} as its format ${value} is not one of 0 to ${LAST_FORMAT}`,
    );
  }
  return Number(value) as BottleFormat;
}

/** Reads the recipients or signatures list: null, or arrays of [0, key, data]. */
function toEntries(value: unknown, list: "recipient" | "signature", where: string) {
  if (value === null) return [];
  if (!Array.isArray(value)) {
    throw structure(`Cannot decode ${where} as its ${list}s are not an array or null`);
  }
  return value.map((entry: unknown, index) => {
    const name = `${list} ${index} of ${where}`;
    if (!Array.isArray(entry) || entry.length !== 3) {
      throw structure(`Cannot decode ${name} as it is not an array of 3 items`);
    }
    const [type, key, data] = entry;
    if (typeof type !== "number" && typeof type !== "bigint") {
      throw structure(`Cannot decode ${name} as its type is not an integer`);
    }
    if (type !== 0) {
      throw new BottleFormatError(
        "unknown_type",
        `Cannot decode ${name} as its type ${type} is not 0 (PKIX)`,
      );
    }
    if (!(key instanceof Uint8Array) || !(data instanceof Uint8Array)) {
      throw structure(`Cannot decode ${name} as its key and data are not byte strings`);
    }
    return { type: 0, key, data };
  });
}

/**
 * Reads a CBOR Bottle.
 *
 * @param bytes The encoded Bottle.
 * @param where How to name it in errors ("bottle", "layer 2").
 * @returns Its fields.
 * @throws {BottleFormatError} When the bytes are not exactly one valid Bottle.
 * @example
 * ```ts
 * import { decodeBottleCbor } from "./_bottle_codec.ts";
 *
 * const parts = decodeBottleCbor(new Uint8Array([0x85, 0xa0, 0x41, 0x68, 0x00, 0xf6, 0xf6]));
 * console.log(parts.format, parts.message); // 0 Uint8Array(1) [ 104 ]
 * ```
 */
export function decodeBottleCbor(bytes: Uint8Array, where = "bottle"): BottleParts {
  const reader = new CborReader(bytes, where);
  const count = reader.arrayHead();
  if (count !== 5) {
    throw structure(`Cannot decode ${where} as it is an array of ${count} items, not 5`);
  }
  const header = reader.item();
  const message = reader.item().value;
  const format = reader.item().value;
  const recipients = reader.item().value;
  const signatures = reader.item().value;
  reader.end();
  if (!(message instanceof Uint8Array)) {
    throw structure(`Cannot decode ${where} as its message is not a byte string`);
  }
  return checkRecipients({
    header: toHeader(header.value, where),
    headerRaw: header.raw,
    message,
    format: toFormat(format, where),
    recipients: toEntries(recipients, "recipient", where).map(({ key, data }) => ({
      type: 0,
      recipient: key,
      data,
    })),
    signatures: toEntries(signatures, "signature", where).map(({ key, data }) => ({
      type: 0,
      signer: key,
      data,
    })),
  }, where);
}

/**
 * Recipients belong to AES bottles and AES bottles have some: anything else
 * was not written by an implementation (Go refuses to encrypt to nobody) and
 * a format 0 with recipients would pass ciphertext off as cleartext.
 */
function checkRecipients(parts: BottleParts, where: string): BottleParts {
  if (parts.format === 2 && parts.recipients.length === 0) {
    throw structure(`Cannot decode ${where} as it is encrypted for no recipient`);
  }
  if (parts.format !== 2 && parts.recipients.length > 0) {
    throw structure(
      `Cannot decode ${where} as it lists ${parts.recipients.length} recipients but its format ${parts.format} is not encrypted`,
    );
  }
  return parts;
}

/**
 * Writes a CBOR Bottle as Go does.
 *
 * @param parts The fields; `headerRaw`, when set, is written as the header.
 * @returns The encoded Bottle.
 * @throws {TypeError} When a header value has no CBOR encoding.
 * @example
 * ```ts
 * import { encodeBottleCbor } from "./_bottle_codec.ts";
 *
 * const message = new Uint8Array([0x68]);
 * const bytes = encodeBottleCbor({
 *   header: {},
 *   headerRaw: undefined,
 *   message,
 *   format: 0,
 *   recipients: [],
 *   signatures: [],
 * });
 * console.log(bytes); // Uint8Array(7) [ 133, 160, 65, 104, 0, 246, 246 ]
 * ```
 */
export function encodeBottleCbor(parts: BottleParts): Uint8Array {
  const header = parts.headerRaw ??
    (Object.keys(parts.header).length === 0 ? EMPTY_MAP : encodeCbor(parts.header));
  const list = (entries: { type: number; key: Uint8Array; data: Uint8Array }[]) =>
    entries.length === 0 ? null : entries.map(({ type, key, data }) => [type, key, data]);
  return concatBytes(
    new Uint8Array([0x85]),
    header,
    encodeCbor(parts.message),
    encodeCbor(parts.format),
    encodeCbor(list(parts.recipients.map((r) => ({ ...r, key: r.recipient })))),
    encodeCbor(list(parts.signatures.map((s) => ({ ...s, key: s.signer })))),
  );
}

/** Base64 in either alphabet, padded or not: the draft says base64url, Go writes standard. */
function fromBase64(text: unknown, name: string, where: string): Uint8Array {
  if (typeof text !== "string") {
    throw new BottleFormatError(
      "invalid_json",
      `Cannot decode ${where} as its ${name} is not a string`,
    );
  }
  const plain = text.replace(/=+$/, "");
  try {
    if (/^[A-Za-z0-9+/]*$/.test(plain)) {
      return base64.decode(plain + "=".repeat((4 - plain.length % 4) % 4));
    }
    return base64urlnopad.decode(plain);
  } catch (error) {
    throw new BottleFormatError(
      "invalid_json",
      `Cannot decode ${where} as its ${name} is not base64`,
      { cause: error },
    );
  }
}

function jsonEntries(value: unknown, list: "dst" | "sig", where: string) {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new BottleFormatError(
      "invalid_json",
      `Cannot decode ${where} as '${list}' is not an array`,
    );
  }
  return value.map((entry: unknown, index) => {
    const name = `${list}[${index}] of ${where}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new BottleFormatError("invalid_json", `Cannot decode ${name} as it is not an object`);
    }
    const { typ = 0, key, dat } = entry as Record<string, unknown>;
    if (typ !== 0) {
      throw new BottleFormatError("unknown_type", `Cannot decode ${name} as its type is not 0`);
    }
    return { type: 0, key: fromBase64(key, "key", name), data: fromBase64(dat, "dat", name) };
  });
}

/**
 * Reads a JSON Bottle (draft section 7.1).
 *
 * @param bytes The UTF-8 JSON text.
 * @param where How to name it in errors.
 * @returns Its fields.
 * @throws {BottleFormatError} When the text is not a JSON Bottle.
 * @example
 * ```ts
 * import { decodeBottleJson } from "./_bottle_codec.ts";
 *
 * const parts = decodeBottleJson(new TextEncoder().encode('{"msg":"aGk","fmt":0}'));
 * console.log(new TextDecoder().decode(parts.message)); // "hi"
 * ```
 */
export function decodeBottleJson(bytes: Uint8Array, where = "JSON bottle"): BottleParts {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new BottleFormatError("invalid_json", `Cannot decode ${where} as it is not JSON`, {
      cause: error,
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BottleFormatError("invalid_json", `Cannot decode ${where} as it is not an object`);
  }
  const { hdr, msg, fmt, dst, sig } = value as Record<string, unknown>;
  if (hdr !== undefined && hdr !== null && (typeof hdr !== "object" || Array.isArray(hdr))) {
    throw new BottleFormatError("invalid_json", `Cannot decode ${where} as 'hdr' is not an object`);
  }
  const header: Record<string, unknown> = Object.create(null);
  for (const [key, item] of Object.entries(hdr ?? {})) header[key] = item;
  if (typeof fmt !== "number" || !Number.isInteger(fmt)) {
    throw new BottleFormatError(
      "invalid_json",
      `Cannot decode ${where} as 'fmt' is not an integer`,
    );
  }
  return checkRecipients({
    header,
    headerRaw: undefined,
    message: fromBase64(msg ?? "", "msg", where),
    format: toFormat(fmt, where),
    recipients: jsonEntries(dst, "dst", where).map(({ key, data }) => ({
      type: 0,
      recipient: key,
      data,
    })),
    signatures: jsonEntries(sig, "sig", where).map(({ key, data }) => ({
      type: 0,
      signer: key,
      data,
    })),
  }, where);
}

/**
 * Writes a JSON Bottle: base64url without padding, empty fields left out.
 *
 * @param parts The fields; header values must be JSON values.
 * @returns The JSON text.
 * @throws {TypeError} When a header value has no JSON form.
 * @example
 * ```ts
 * import { encodeBottleJson } from "./_bottle_codec.ts";
 *
 * const message = new TextEncoder().encode("hi");
 * const json = encodeBottleJson({
 *   header: {},
 *   headerRaw: undefined,
 *   message,
 *   format: 0,
 *   recipients: [],
 *   signatures: [],
 * });
 * console.log(json); // {"msg":"aGk","fmt":0}
 * ```
 */
export function encodeBottleJson(parts: BottleParts): string {
  const b64 = base64urlnopad.encode;
  const object: Record<string, unknown> = {};
  if (Object.keys(parts.header).length > 0) object.hdr = { ...parts.header };
  object.msg = b64(parts.message);
  object.fmt = parts.format;
  if (parts.recipients.length > 0) {
    object.dst = parts.recipients.map((r) => ({ key: b64(r.recipient), dat: b64(r.data) }));
  }
  if (parts.signatures.length > 0) {
    object.sig = parts.signatures.map((s) => ({ key: b64(s.signer), dat: b64(s.data) }));
  }
  return JSON.stringify(object);
}
