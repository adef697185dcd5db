/**
 * ECDSA signature encodings: WebCrypto gives and takes the raw `r || s`
 * form, Bottle carries the ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`.
 *
 * @module
 */

import { children, derReason, expect, integer, readOne, TAG, tlv } from "./_der.ts";

/**
 * Turns raw `r || s` into DER.
 *
 * @param raw The WebCrypto signature, two big-endian halves.
 * @returns The DER signature.
 */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return tlv(TAG.SEQUENCE, integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

/**
 * Turns a DER signature into raw `r || s`, strictly: minimal positive
 * integers that fit the curve, nothing after them.
 *
 * @param der The DER signature.
 * @param size The curve's scalar size in bytes.
 * @returns The raw form, or undefined when the DER is malformed.
 */
export function derToRaw(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const [r, s, extra] = children(readOne(der, TAG.SEQUENCE));
    if (extra !== undefined) return undefined;
    const out = new Uint8Array(2 * size);
    for (const [i, node] of [r, s].entries()) {
      const value = expect(node, TAG.INTEGER, "integer").content;
      if (value.length === 0 || value[0] & 0x80) return undefined;
      if (value.length > 1 && value[0] === 0 && !(value[1] & 0x80)) return undefined;
      const magnitude = value[0] === 0 ? value.subarray(1) : value;
      if (magnitude.length > size || magnitude.length === 0) return undefined;
      out.set(magnitude, (i + 1) * size - magnitude.length);
    }
    return out;
  } catch (error) {
    if (derReason(error) !== undefined) return undefined;
    throw error;
  }
}
