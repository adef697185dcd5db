/**
 * Snappy block format, the compression inside v2 and v3 Emitter licenses:
 * a full decoder (literals and copies), and an encoder that writes literals
 * only, which every Snappy decoder accepts. Internal.
 *
 * @module
 */

/**
 * Reads an unsigned LEB128 varint.
 *
 * @param bytes The input.
 * @param offset Where the varint starts.
 * @returns The value and the offset after it, or `undefined` when truncated or over 2^53.
 * @throws Never.
 * @example
 * ```ts
 * import { readUvarint } from "./_snappy.ts";
 *
 * console.log(readUvarint(new Uint8Array([0x80, 0x01]), 0)); // { value: 128, next: 2 }
 * ```
 */
export function readUvarint(
  bytes: Uint8Array,
  offset: number,
): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < bytes.length && i < offset + 8; i++) {
    value += (bytes[i] & 0x7f) * scale;
    if ((bytes[i] & 0x80) === 0) return { value, next: i + 1 };
    scale *= 128;
  }
  return undefined;
}

/**
 * Writes an unsigned LEB128 varint.
 *
 * @param value A non-negative safe integer.
 * @returns Its bytes.
 * @throws Never.
 * @example
 * ```ts
 * import { writeUvarint } from "./_snappy.ts";
 *
 * console.log(writeUvarint(300)); // [172, 2]
 * ```
 */
export function writeUvarint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/**
 * Decompresses a Snappy block.
 *
 * @param input The compressed block.
 * @returns The bytes, or `undefined` when the block is corrupt.
 * @throws Never.
 * @example
 * ```ts
 * import { snappyDecode, snappyEncode } from "./_snappy.ts";
 *
 * console.log(snappyDecode(snappyEncode(new Uint8Array([1, 2, 3])))); // Uint8Array [1, 2, 3]
 * ```
 */
export function snappyDecode(input: Uint8Array): Uint8Array | undefined {
  const header = readUvarint(input, 0);
  if (header === undefined || header.value > 1 << 24) return undefined;
  const out = new Uint8Array(header.value);
  let o = 0;
  let i = header.next;
  while (i < input.length) {
    const tag = input[i++];
    let length: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        length = tag >> 2;
        if (length >= 60) {
          const extra = length - 59;
          if (i + extra > input.length) return undefined;
          length = 0;
          for (let b = 0; b < extra; b++) length += input[i + b] * 2 ** (8 * b);
          i += extra;
        }
        length += 1;
        if (i + length > input.length || o + length > out.length) return undefined;
        out.set(input.subarray(i, i + length), o);
        i += length;
        o += length;
        continue;
      }
      case 1:
        if (i + 1 > input.length) return undefined;
        length = 4 + ((tag >> 2) & 7);
        offset = ((tag >> 5) << 8) | input[i];
        i += 1;
        break;
      case 2:
        if (i + 2 > input.length) return undefined;
        length = 1 + (tag >> 2);
        offset = input[i] | (input[i + 1] << 8);
        i += 2;
        break;
      default:
        if (i + 4 > input.length) return undefined;
        length = 1 + (tag >> 2);
        offset = (input[i] | (input[i + 1] << 8) | (input[i + 2] << 16) | (input[i + 3] << 24)) >>>
          0;
        i += 4;
    }
    if (offset === 0 || offset > o || o + length > out.length) return undefined;
    for (let b = 0; b < length; b++, o++) out[o] = out[o - offset];
  }
  return o === out.length ? out : undefined;
}

/**
 * Compresses bytes into a valid Snappy block made of literals only.
 *
 * @param data The bytes.
 * @returns The block.
 * @throws Never.
 * @example
 * ```ts
 * import { snappyEncode } from "./_snappy.ts";
 *
 * console.log(snappyEncode(new Uint8Array([7]))); // Uint8Array [1, 0, 7]
 * ```
 */
export function snappyEncode(data: Uint8Array): Uint8Array {
  const out: number[] = writeUvarint(data.length);
  for (let start = 0; start < data.length; start += 65536) {
    const chunk = data.subarray(start, Math.min(start + 65536, data.length));
    const n = chunk.length - 1;
    if (n < 60) out.push(n << 2);
    else if (n < 256) out.push(60 << 2, n);
    else out.push(61 << 2, n & 0xff, n >> 8);
    out.push(...chunk);
  }
  return Uint8Array.from(out);
}
