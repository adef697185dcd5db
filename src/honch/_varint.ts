/**
 * LEB128 varints for the Honch wire format: unsigned ones and ZigZag signed
 * ones, up to 64 bits. Values that fit a JavaScript number stay numbers so the
 * common case never touches bigint; only values above `2^53 - 1` (or below
 * `-(2^53 - 1)`) come back as bigint.
 *
 * @module
 */

import { InvalidArgumentError } from "../core/errors.ts";
import { WireFormatError } from "./errors.ts";

const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const MIN_I64 = -0x8000_0000_0000_0000n;
const MAX_I64 = 0x7fff_ffff_ffff_ffffn;

/**
 * Appends the unsigned LEB128 encoding of `value` to `out`.
 *
 * @param out The bytes written so far; the varint's bytes are pushed onto it.
 * @param value An integer in `0..2^64-1`, as a number (safe integer) or a bigint.
 * @throws {InvalidArgumentError} When `value` is negative, fractional, unsafe as a number, or above 64 bits.
 */
export function writeUvarint(out: number[], value: number | bigint): void {
  if (typeof value === "number") {
    if (value >= 0 && value <= 0x7fff_ffff && (value | 0) === value) {
      // The 31-bit path is the common one (lengths, indexes, tags) and stays in int32 arithmetic.
      while (value > 0x7f) {
        out.push((value & 0x7f) | 0x80);
        value >>>= 7;
      }
      out.push(value);
      return;
    }
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(
        "value",
        `Cannot encode ${value} as an unsigned varint: pass a safe integer >= 0 or a bigint`,
      );
    }
    while (value > 0x7f) {
      // Above 2^31 the bitwise operators would truncate, so split with division instead.
      const low: number = value % 128;
      out.push(low | 0x80);
      value = (value - low) / 128;
    }
    out.push(value);
    return;
  }
  if (value < 0n || value > MAX_U64) {
    throw new InvalidArgumentError(
      "value",
      `Cannot encode ${value} as an unsigned varint: pass a value in 0..2^64-1`,
    );
  }
  if (value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    writeUvarint(out, Number(value));
    return;
  }
  while (value > 0x7fn) {
    out.push(Number(value & 0x7fn) | 0x80);
    value >>= 7n;
  }
  out.push(Number(value));
}

/**
 * Reads one unsigned LEB128 varint starting at `offset`. Overlong encodings
 * (a redundant final `0x00` byte) are refused, as the wire format is canonical.
 *
 * @param bytes The bytes to read from.
 * @param offset Where the varint starts.
 * @returns The value (a number when it is a safe integer, otherwise a bigint) and the offset just after it.
 * @throws {WireFormatError} `"malformed"` when the bytes end inside the varint, when it runs past
 * 10 bytes, does not fit 64 bits or is overlong.
 */
export function readUvarint(
  bytes: Uint8Array,
  offset: number,
): { value: number | bigint; next: number } {
  const reader = new VarintReader(bytes, offset);
  const value = reader.uvarint();
  return { value, next: reader.pos };
}

/**
 * A cursor over bytes that reads varints without allocating a result object
 * per read, for the message decoder's hot loop.
 */
export class VarintReader {
  /** The bytes read from. */
  readonly bytes: Uint8Array;
  /** The offset of the next unread byte. */
  pos: number;

  /**
   * Creates a reader.
   *
   * @param bytes The bytes to read from.
   * @param pos Where to start.
   */
  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }

  /**
   * Reads one unsigned varint and moves past it.
   *
   * @returns The value, a number when it is a safe integer, otherwise a bigint.
   * @throws {WireFormatError} `"malformed"` as {@linkcode readUvarint} does.
   */
  uvarint(): number | bigint {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    let low = 0;
    // Fast path: up to four bytes (28 bits) fit int32 arithmetic without loss.
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= bytes.length) throw truncated(start);
      const byte = bytes[pos++];
      low |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        if (byte === 0 && shift > 0) throw overlong(start);
        this.pos = pos;
        return low >>> 0;
      }
    }
    // Slow path: accumulate in a float (exact below 2^53), switching to bigint when needed.
    let value = low >>> 0;
    let scale = 0x1000_0000; // 2^28
    for (let index = 4; index < 10; index++) {
      if (pos >= bytes.length) throw truncated(start);
      const byte = bytes[pos++];
      if (index === 9 && byte > 0x01) {
        throw new WireFormatError(
          "malformed",
          `Cannot decode the varint at byte ${start}: it does not fit 64 bits`,
        );
      }
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0) throw overlong(start);
        this.pos = pos;
        return value <= Number.MAX_SAFE_INTEGER ? value : bigUvarint(bytes, start, pos);
      }
      scale *= 128;
    }
    throw new WireFormatError(
      "malformed",
      `Cannot decode the varint at byte ${start}: it runs past 10 bytes`,
    );
  }

  /**
   * Reads one ZigZag signed varint and moves past it.
   *
   * @returns The value, a number when it is a safe integer, otherwise a bigint.
   * @throws {WireFormatError} `"malformed"` as {@linkcode readUvarint} does.
   */
  svarint(): number | bigint {
    return unzigzag(this.uvarint());
  }
}

/**
 * Appends the ZigZag LEB128 encoding of the signed integer `value` to `out`.
 *
 * @param out The bytes written so far; the varint's bytes are pushed onto it.
 * @param value An integer in `-2^63..2^63-1`, as a number (safe integer) or a bigint.
 * @throws {InvalidArgumentError} When `value` is fractional, unsafe as a number, or outside 64 bits.
 */
export function writeSvarint(out: number[], value: number | bigint): void {
  if (typeof value === "number") {
    if (value >= -0x4000_0000 && value <= 0x3fff_ffff && (value | 0) === value) {
      writeUvarint(out, ((value << 1) ^ (value >> 31)) >>> 0);
      return;
    }
    if (!Number.isSafeInteger(value)) {
      throw new InvalidArgumentError(
        "value",
        `Cannot encode ${value} as a signed varint: pass a safe integer or a bigint`,
      );
    }
    // 2|n| (or 2|n|-1) stays below 2^54 and is exact in a float.
    const zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
    if (zigzag <= Number.MAX_SAFE_INTEGER) writeUvarint(out, zigzag);
    else writeSvarint(out, BigInt(value));
    return;
  }
  if (value < MIN_I64 || value > MAX_I64) {
    throw new InvalidArgumentError(
      "value",
      `Cannot encode ${value} as a signed varint: pass a value in -2^63..2^63-1`,
    );
  }
  writeUvarint(out, value >= 0n ? value << 1n : (-value << 1n) - 1n);
}

/**
 * Reads one ZigZag LEB128 varint starting at `offset`.
 *
 * @param bytes The bytes to read from.
 * @param offset Where the varint starts.
 * @returns The signed value (a number when it is a safe integer, otherwise a bigint) and the offset
 * just after it.
 * @throws {WireFormatError} `"malformed"` as {@linkcode readUvarint} does.
 */
export function readSvarint(
  bytes: Uint8Array,
  offset: number,
): { value: number | bigint; next: number } {
  const read = readUvarint(bytes, offset);
  read.value = unzigzag(read.value);
  return read;
}

/**
 * Turns a ZigZag-encoded unsigned value back into the signed one.
 *
 * @param value The unsigned ZigZag value.
 * @returns The signed value, a number when safe, otherwise a bigint.
 */
export function unzigzag(value: number | bigint): number | bigint {
  if (typeof value === "number") {
    // Division rather than `>>> 1`: the value may exceed 32 bits (it is still a safe integer).
    const half = Math.floor(value / 2);
    return value % 2 === 0 ? half : -half - 1;
  }
  const signed = (value & 1n) === 0n ? value >> 1n : -(value >> 1n) - 1n;
  return signed >= -BigInt(Number.MAX_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(signed)
    : signed;
}

function bigUvarint(bytes: Uint8Array, start: number, end: number): bigint {
  let value = 0n;
  for (let pos = end - 1; pos >= start; pos--) value = (value << 7n) | BigInt(bytes[pos] & 0x7f);
  return value;
}

function truncated(offset: number): WireFormatError {
  return new WireFormatError(
    "malformed",
    `Cannot decode the varint at byte ${offset}: the bytes end inside it`,
  );
}

function overlong(offset: number): WireFormatError {
  return new WireFormatError(
    "malformed",
    `Cannot decode the varint at byte ${offset}: it has a redundant trailing zero byte`,
  );
}
