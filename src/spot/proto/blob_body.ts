/**
 * The request bodies of the relay's blob store: `@/store_blob` takes the key's
 * UTF-8, a 0x00 byte, then the value (the CBOR of a bottle encrypted to the
 * caller's own ID card and signed); the key and the 0x00 alone delete the
 * blob. `@/fetch_blob` takes the key alone. The key ends at the first 0x00,
 * so a key can never hold U+0000.
 *
 * @module
 */

import { hasLoneSurrogate } from "../../core/utf8.ts";
import { invalidArgument } from "../../core/validate.ts";
import { decodeUtf8, encodeUtf8 } from "./_bytes.ts";
import { SpotProtocolError } from "./errors.ts";

/** A parsed `@/store_blob` body. */
export interface StoreBlobBody {
  /** The blob's key. */
  key: string;
  /** The value (a view into the body), or `null` when the body asks for a delete. */
  value: Uint8Array | null;
}

/**
 * Encodes a `@/store_blob` body; an empty or `null` value asks for a delete.
 *
 * @param key The blob's key: text without U+0000.
 * @param value The bottle's CBOR, or `null` to delete.
 * @returns The body.
 * @throws {InvalidArgumentError} When the key holds U+0000 or a lone surrogate.
 *
 * @example
 * ```ts
 * import { encodeStoreBlobBody } from "./blob_body.ts";
 *
 * console.log(encodeStoreBlobBody("k", null)); // Uint8Array(2) [ 107, 0 ]
 * ```
 */
export function encodeStoreBlobBody(key: string, value: Uint8Array | null): Uint8Array {
  const keyBytes = keyToBytes("encode Spot store_blob body", key);
  if (value !== null && !(value instanceof Uint8Array)) {
    throw invalidArgument("encode Spot store_blob body", "value", "a Uint8Array or null", value);
  }
  const body = new Uint8Array(keyBytes.length + 1 + (value?.length ?? 0));
  body.set(keyBytes);
  if (value) body.set(value, keyBytes.length + 1);
  return body;
}

/**
 * Parses a `@/store_blob` body, as the relay receives it.
 *
 * @param body The body.
 * @returns The key and the value, `null` for a delete.
 * @throws {SpotProtocolError} With code `invalid_blob_body` when there is no 0x00 after
 * the key, `invalid_utf8` when the key is not UTF-8.
 *
 * @example
 * ```ts
 * import { encodeStoreBlobBody, parseStoreBlobBody } from "./blob_body.ts";
 *
 * const parsed = parseStoreBlobBody(encodeStoreBlobBody("settings", new Uint8Array([0x85])));
 * console.log(parsed.key, parsed.value); // "settings" Uint8Array(1) [ 133 ]
 * ```
 */
export function parseStoreBlobBody(body: Uint8Array): StoreBlobBody {
  const end = body.indexOf(0);
  if (end === -1) {
    throw new SpotProtocolError(
      "invalid_blob_body",
      `Cannot parse Spot store_blob body of ${body.length} bytes as no 0x00 ends its key: answer with an error`,
    );
  }
  const key = decodeUtf8(body.subarray(0, end), "Spot store_blob key");
  const value = body.subarray(end + 1);
  return { key, value: value.length === 0 ? null : value };
}

/**
 * Encodes a `@/fetch_blob` body: the key alone.
 *
 * @param key The blob's key: text without U+0000.
 * @returns The body.
 * @throws {InvalidArgumentError} When the key holds U+0000 or a lone surrogate.
 *
 * @example
 * ```ts
 * import { encodeFetchBlobBody } from "./blob_body.ts";
 *
 * console.log(encodeFetchBlobBody("k")); // Uint8Array(1) [ 107 ]
 * ```
 */
export function encodeFetchBlobBody(key: string): Uint8Array {
  return keyToBytes("encode Spot fetch_blob body", key);
}

/**
 * Parses a `@/fetch_blob` body, as the relay receives it.
 *
 * @param body The body.
 * @returns The key.
 * @throws {SpotProtocolError} With code `invalid_blob_body` when the body holds a 0x00,
 * `invalid_utf8` when it is not UTF-8.
 *
 * @example
 * ```ts
 * import { parseFetchBlobBody } from "./blob_body.ts";
 *
 * console.log(parseFetchBlobBody(new Uint8Array([0x6b]))); // "k"
 * ```
 */
export function parseFetchBlobBody(body: Uint8Array): string {
  if (body.includes(0)) {
    throw new SpotProtocolError(
      "invalid_blob_body",
      `Cannot parse Spot fetch_blob body of ${body.length} bytes as a key cannot hold 0x00: answer with an error`,
    );
  }
  return decodeUtf8(body, "Spot fetch_blob key");
}

function keyToBytes(action: string, key: unknown): Uint8Array {
  if (typeof key !== "string" || key.includes("\u0000") || hasLoneSurrogate(key)) {
    throw invalidArgument(action, "key", "text without U+0000 or lone surrogates", key);
  }
  return encodeUtf8(key);
}
