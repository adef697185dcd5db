/**
 * MQTT's UTF-8 strings: measuring one before it is written (refusing what
 * the spec forbids, U+0000 and lone surrogates), writing it with its 2-byte
 * length, and reading one back with the spec's well-formedness rules. Kept
 * apart from `src/core/utf8.ts` because the hot path wants the length, the
 * surrogate check and the U+0000 check in one pass, and the decoder needs a
 * strict validator that `TextDecoder` alone (which replaces, or throws a
 * `TypeError`) does not give. Internal.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Measures `text` as an MQTT string in one pass.
 *
 * @param text The string to measure.
 * @returns Its UTF-8 length in bytes, or -1 when it holds U+0000 or a lone
 * surrogate, which an MQTT string must not.
 *
 * @example
 * ```ts
 * import { mqttStringLength } from "./_strings.ts";
 *
 * console.log(mqttStringLength("a/é/"), mqttStringLength("a\u0000")); // 5 -1
 * ```
 */
export function mqttStringLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      if (code === 0) return -1;
    } else if (code < 0x800) {
      bytes += 1;
    } else if (code < 0xd800 || code > 0xdfff) {
      bytes += 2;
    } else {
      // A high surrogate must be followed by a low one: the pair is 4 bytes for 2 units
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (code >= 0xdc00 || next < 0xdc00 || next > 0xdfff) return -1;
      bytes += 2;
      i++;
    }
  }
  return bytes;
}

/**
 * Writes `text` with its 2-byte big-endian length.
 *
 * @param text The string, already measured.
 * @param byteLength Its length from {@linkcode mqttStringLength}, 0 to 65535.
 * @param target Where to write; it must have room.
 * @param offset Where the length prefix goes.
 * @returns The offset just past the string.
 *
 * @example
 * ```ts
 * import { mqttStringLength, writeMqttString } from "./_strings.ts";
 *
 * const out = new Uint8Array(5);
 * console.log(writeMqttString("abc", mqttStringLength("abc"), out, 0), out); // 5 Uint8Array(5) [ 0, 3, 97, 98, 99 ]
 * ```
 */
export function writeMqttString(
  text: string,
  byteLength: number,
  target: Uint8Array,
  offset: number,
): number {
  target[offset] = byteLength >> 8;
  target[offset + 1] = byteLength & 0xff;
  offset += 2;
  if (byteLength === text.length) {
    // ASCII: a plain loop beats encodeInto's call cost for topic-sized strings
    for (let i = 0; i < byteLength; i++) target[offset + i] = text.charCodeAt(i);
  } else {
    encoder.encodeInto(text, target.subarray(offset, offset + byteLength));
  }
  return offset + byteLength;
}

/**
 * Reads `length` bytes as an MQTT string: well-formed UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF) without U+0000.
 *
 * @param bytes The packet bytes.
 * @param start Where the string's bytes start (after its length prefix).
 * @param length How many bytes it has; the caller checked they are there.
 * @returns The string, or `undefined` when the bytes break a rule.
 *
 * @example
 * ```ts
 * import { readMqttString } from "./_strings.ts";
 *
 * console.log(readMqttString(new Uint8Array([0x61, 0xc3, 0xa9]), 0, 3)); // "aé"
 * console.log(readMqttString(new Uint8Array([0xc0, 0x80]), 0, 2)); // undefined
 * ```
 */
export function readMqttString(
  bytes: Uint8Array,
  start: number,
  length: number,
): string | undefined {
  const end = start + length;
  let ascii = true;
  for (let i = start; i < end;) {
    const b = bytes[i];
    if (b < 0x80) {
      if (b === 0) return undefined;
      i++;
      continue;
    }
    ascii = false;
    const size = sequenceLength(bytes, i, end);
    if (size === 0) return undefined;
    i += size;
  }
  if (ascii && length <= 64) {
    // Short ASCII strings, every topic of a typical Emitter message, skip the TextDecoder call;
    // one fromCharCode over a view allocates half what building the string by += does
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  return decoder.decode(bytes.subarray(start, end));
}

/** The length of the well-formed multi-byte sequence at `i`, or 0 when it is not one. */
function sequenceLength(bytes: Uint8Array, i: number, end: number): number {
  const b = bytes[i];
  let size: number;
  let low = 0x80;
  let high = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) {
    size = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    size = 3;
    if (b === 0xe0) low = 0xa0; // overlong
    if (b === 0xed) high = 0x9f; // surrogates
  } else if (b >= 0xf0 && b <= 0xf4) {
    size = 4;
    if (b === 0xf0) low = 0x90; // overlong
    if (b === 0xf4) high = 0x8f; // above U+10FFFF
  } else {
    return 0;
  }
  if (i + size > end) return 0;
  const second = bytes[i + 1];
  if (second < low || second > high) return 0;
  for (let k = 2; k < size; k++) {
    const next = bytes[i + k];
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return size;
}
