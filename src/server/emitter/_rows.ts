/**
 * How the SQL stores keep a message's channel words in a row: an `ssid` as
 * one binary value of 4-byte big-endian words, so SQLite, D1 and PostgreSQL
 * compare it word by word for the deeper, non-wildcard words of a query;
 * and a stored message as the values of its `emitter_messages` row.
 *
 * @module
 */

import type { EmitterStoredMessage } from "./store.ts";

/**
 * Encodes channel words for a row.
 *
 * @param words The words, each read as an unsigned 32-bit number.
 * @returns Four big-endian bytes per word.
 * @throws Never.
 * @example
 * ```ts
 * import { encodeWords } from "./_rows.ts";
 *
 * console.log(encodeWords([1])); // Uint8Array(4) [ 0, 0, 0, 1 ]
 * ```
 */
export function encodeWords(words: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((word, i) => view.setUint32(i * 4, word >>> 0));
  return bytes;
}

/**
 * Reads channel words back from a row.
 *
 * @param bytes The bytes {@linkcode encodeWords} wrote.
 * @returns The words; trailing bytes short of a word are left out.
 * @throws Never.
 * @example
 * ```ts
 * import { decodeWords, encodeWords } from "./_rows.ts";
 *
 * console.log(decodeWords(encodeWords([7, 9]))); // [ 7, 9 ]
 * ```
 */
export function decodeWords(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words: number[] = [];
  for (let offset = 0; offset + 4 <= bytes.byteLength; offset += 4) {
    words.push(view.getUint32(offset));
  }
  return words;
}

/**
 * The values of a stored message's `emitter_messages` row, in the columns'
 * order: `id`, `contract` and `word1` (its first two words, `word1` `null`
 * for a one-word channel), `depth`, `ssid` (see {@linkcode encodeWords}),
 * `channel`, `payload`, `time` and `expires_at`.
 *
 * @param message The message.
 * @param channel Its channel as the store's text column holds it; by default the channel as is.
 * @returns The nine values.
 * @throws Never.
 * @example
 * ```ts
 * import { messageValues } from "./_rows.ts";
 *
 * const values = messageValues({
 *   id: new Uint8Array(16),
 *   ssid: [1, 2, 3],
 *   channel: "a/b/",
 *   payload: new Uint8Array([104, 105]),
 *   time: 1000,
 *   expiresAt: 2000,
 * });
 * console.log(values[2], values[3]); // 2 3
 * ```
 */
export function messageValues(
  message: EmitterStoredMessage,
  channel: string = message.channel,
): (Uint8Array | number | string | null)[] {
  return [
    message.id,
    (message.ssid[0] ?? 0) >>> 0,
    message.ssid.length > 1 ? message.ssid[1] >>> 0 : null,
    message.ssid.length,
    encodeWords(message.ssid),
    channel,
    message.payload,
    message.time,
    message.expiresAt,
  ];
}
