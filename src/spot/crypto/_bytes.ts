/**
 * The `ArrayBuffer`-backed view WebCrypto's types ask for.
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
