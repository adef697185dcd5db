/**
 * Unpadded URL-safe base64 as Go's `base64.RawURLEncoding` reads and writes
 * it: decoding ignores the unused low bits of a final partial group, as Go
 * does when not in strict mode, so licenses and keys from a real deployment
 * decode exactly as the broker decodes them. Internal.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/**
 * Encodes bytes as unpadded URL-safe base64.
 *
 * @param bytes The bytes to encode.
 * @returns The text, without `=` padding.
 * @throws Never.
 * @example
 * ```ts
 * import { encodeBase64Url } from "./_base64url.ts";
 *
 * console.log(encodeBase64Url(new Uint8Array([0xfb, 0xff]))); // "-_8"
 * ```
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + ALPHABET[(v >> 6) & 63] +
      ALPHABET[v & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    out += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63];
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + ALPHABET[(v >> 6) & 63];
  }
  return out;
}

/**
 * Decodes unpadded URL-safe base64, or returns `undefined` when the text has a
 * character outside the alphabet or a length no encoding can have.
 *
 * @param text The text to decode.
 * @returns The bytes, or `undefined` when the text is not valid.
 * @throws Never.
 * @example
 * ```ts
 * import { decodeBase64Url } from "./_base64url.ts";
 *
 * console.log(decodeBase64Url("-_8")); // Uint8Array [251, 255]
 * console.log(decodeBase64Url("a*")); // undefined
 * ```
 */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? DECODE[code] : -1;
    if (value < 0) return undefined;
    acc = ((acc << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
