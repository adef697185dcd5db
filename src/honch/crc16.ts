/**
 * The CRC-16 that guards a whole Honch message across its frames:
 * CRC-16/CCITT-FALSE, table-driven, continuable across pieces.
 *
 * @module
 */

import { integer } from "../core/validate.ts";

// Built once at load: the per-byte loop of crc16 then does one lookup, no bit loop and no allocation.
const CRC_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc;
  }
  return table;
})();

/**
 * Computes the CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xffff, no
 * reflection, no final XOR) of `bytes`. Pass the result of one call as
 * `initial` of the next to checksum a message that arrives in pieces.
 *
 * @param bytes The bytes to checksum.
 * @param initial The running CRC to continue from; 0xffff starts a new one.
 * @returns The CRC, an integer in 0..0xffff. The wire writes it little-endian.
 * @throws {InvalidArgumentError} When `initial` is not an integer in 0..0xffff.
 *
 * @example Checksum in one call or in pieces
 * ```ts
 * import { crc16 } from "@edgewire/sdk/honch";
 *
 * const bytes = new TextEncoder().encode("123456789");
 * console.log(crc16(bytes).toString(16)); // "29b1"
 * console.log(crc16(bytes.subarray(4), crc16(bytes.subarray(0, 4))) === crc16(bytes)); // true
 * ```
 */
export function crc16(bytes: Uint8Array, initial: number = 0xffff): number {
  integer("compute the CRC", "initial", initial, undefined, { min: 0, max: 0xffff });
  let crc = initial;
  for (let index = 0; index < bytes.length; index++) {
    crc = ((crc << 8) ^ CRC_TABLE[(crc >>> 8) ^ bytes[index]]) & 0xffff;
  }
  return crc;
}
