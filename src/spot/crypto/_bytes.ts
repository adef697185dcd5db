/**
 * Byte helpers: the `ArrayBuffer`-backed view WebCrypto's types ask for, and
 * concatenation.
 *
 * @module
 */

/**
 * The bytes as a view on an `ArrayBuffer` (a copy only when they sit on a SharedArrayBuffer).
 *
 * @param bytes Any bytes.
 * @returns A view WebCrypto accepts.
 */
export function ab(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : Uint8Array.from(bytes);
}

/**
 * Concatenates byte arrays.
 *
 * @param parts The arrays.
 * @returns One new array.
 */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
