/**
 * The broker's identifiers: connection ids (which also name private channels,
 * so they use channel-safe characters only) and stored message ids in the real
 * broker's layout, whose byte order is newest first within a channel. Internal.
 *
 * @module
 */

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/** The earliest unix second a message id can express, as in the real broker. */
const ID_TIME_OFFSET = 1514764800;
const FIXED = 16;

/**
 * Makes a 26-character connection id from the broker's random source.
 *
 * @param random A number in `[0, 1)`.
 * @returns The id, letters A-Z and digits 2-7.
 * @throws Never.
 * @example
 * ```ts
 * import { connectionId } from "./_ids.ts";
 *
 * console.log(connectionId(Math.random).length); // 26
 * ```
 */
export function connectionId(random: () => number): string {
  let id = "";
  for (let i = 0; i < 26; i++) id += ID_ALPHABET[Math.floor(random() * 32) & 31];
  return id;
}

/** Makes message ids for one broker: a node word and a falling sequence. */
export class MessageIds {
  readonly #node: number;
  #sequence = 0;

  /**
   * Creates the generator.
   *
   * @param random A number in `[0, 1)`, for the node word.
   */
  constructor(random: () => number) {
    this.#node = Math.floor(random() * 0x100000000) >>> 0;
  }

  /**
   * Makes the id of a message stored now on `ssid`: 16 bytes (the first two
   * words xored, the reversed second, the reversed sequence, the node word),
   * then each word of `ssid`.
   *
   * @param ssid The channel's words, at least two.
   * @param timeMs The message's time, in milliseconds.
   * @returns The id.
   */
  next(ssid: readonly number[], timeMs: number): Uint8Array {
    const id = new Uint8Array(FIXED + ssid.length * 4);
    const view = new DataView(id.buffer);
    const seconds = Math.floor(timeMs / 1000) - ID_TIME_OFFSET;
    this.#sequence = (this.#sequence + 1) >>> 0;
    view.setUint32(0, (ssid[0] ^ (ssid[1] ?? 0)) >>> 0);
    view.setUint32(4, (0xffffffff - (seconds >>> 0)) >>> 0);
    view.setUint32(8, (0xffffffff - this.#sequence) >>> 0);
    view.setUint32(12, this.#node);
    for (let i = 0; i < ssid.length; i++) view.setUint32(FIXED + i * 4, ssid[i] >>> 0);
    return id;
  }
}

/**
 * Compares two message ids in byte order: negative when `a` sorts first
 * (for one channel: `a` is newer).
 *
 * @param a One id.
 * @param b The other.
 * @returns Negative, zero or positive.
 * @throws Never.
 * @example
 * ```ts
 * import { compareIds } from "./_ids.ts";
 *
 * console.log(compareIds(new Uint8Array([1]), new Uint8Array([2])) < 0); // true
 * ```
 */
export function compareIds(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * Reads the unix second an id was made in.
 *
 * @param id A message id, at least 8 bytes.
 * @returns The second, or `undefined` for a shorter id.
 * @throws Never.
 * @example
 * ```ts
 * import { idSecond, MessageIds } from "./_ids.ts";
 *
 * console.log(idSecond(new MessageIds(() => 0).next([1, 2], 1_600_000_000_000))); // 1600000000
 * ```
 */
export function idSecond(id: Uint8Array): number | undefined {
  if (id.length < 8) return undefined;
  const view = new DataView(id.buffer, id.byteOffset, id.byteLength);
  return 0xffffffff - view.getUint32(4) + ID_TIME_OFFSET;
}
