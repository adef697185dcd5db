/**
 * UTF-8 lengths without encoding: how many bytes a string takes on the wire,
 * whether it holds a lone surrogate (which UTF-8 cannot carry), and how to
 * cut it to a byte budget without splitting a character. The one copy every
 * client and the server measure with. Internal: not exported from the package.
 *
 * @module
 */

/**
 * Counts the bytes `new TextEncoder().encode(text)` would produce, without
 * allocating them: 1 to 3 bytes per UTF-16 unit, 4 per surrogate pair, and 3
 * for a lone surrogate (which encodes as U+FFFD).
 *
 * @param text The string to measure.
 * @returns Its length in UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { utf8ByteLength } from "./utf8.ts";
 *
 * console.log(utf8ByteLength("héllo 👋")); // 11
 * ```
 */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A pair is two units and four bytes; a lone high surrogate is U+FFFD, three bytes
      bytes += 2;
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * Tells whether `text` holds a surrogate without its partner, which UTF-8
 * cannot represent (an encoder replaces it with U+FFFD). The same answer as
 * `!text.isWellFormed()`, on runtimes that predate it too.
 *
 * @param text The string to inspect.
 * @returns `true` when a lone surrogate is present.
 *
 * @example
 * ```ts
 * import { hasLoneSurrogate } from "./utf8.ts";
 *
 * console.log(hasLoneSurrogate("ok 👋"), hasLoneSurrogate("\ud83d")); // false true
 * ```
 */
export function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdfff) continue;
    if (code >= 0xdc00) return true;
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    if (next < 0xdc00 || next > 0xdfff) return true;
    i++;
  }
  return false;
}

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes, never splitting a
 * character (a surrogate pair stays whole or goes whole).
 *
 * @param text The string to cut.
 * @param maxBytes The byte budget, 0 or more.
 * @returns `text` itself when it fits, else its longest prefix that fits.
 *
 * @example
 * ```ts
 * import { truncateUtf8 } from "./utf8.ts";
 *
 * console.log(truncateUtf8("añb", 2)); // "a"
 * ```
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length &&
      text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff;
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) return text.slice(0, i);
    bytes += size;
    if (pair) i++;
  }
  return text;
}
