/**
 * The 24 bytes inside every Emitter channel key, as the real broker lays them
 * out: salt (0-1), master id (2-3), contract (4-7), contract signature (8-11),
 * target bit path (12-14: bit 23 for an exact target, bits 22..0 for the parts
 * that are not wildcards), permissions (15), murmur hash of the target (16-19),
 * and expiry as seconds since 2010-01-01 (20-23, 0 for never). All numbers are
 * big-endian. Encrypting and decrypting the bytes is the cipher's job
 * (`cipher.ts`).
 *
 * @module
 */

import type { EmitterChannel } from "./channel.ts";
import { murmur32String } from "./murmur.ts";
import { PERMISSION } from "./permissions.ts";

/** Key expiry is stored as seconds since this unix time (2010-01-01). */
export const KEY_TIME_OFFSET = 1262304000;

/** The hash of the empty string: the target of a `#/` key. */
const OPEN_TARGET = 1325880984;

/** The most segments a key target can have. */
export const MAX_TARGET_PARTS = 23;

/** Why {@linkcode SecurityKey.setTarget} refused a channel, in the key package's words. */
export const KEY_TARGET_ERRORS: {
  readonly targetInvalid: string;
  readonly targetTooLong: string;
} = Object.freeze({
  targetInvalid: "channel should end with `/` for strict types or `/#/` for multi level wildcard",
  targetTooLong: "channel can not have more than 23 parts",
});

/**
 * A decrypted Emitter key: 24 bytes with typed accessors. The bytes are
 * shared, not copied, so setters change the array given to the constructor.
 *
 * @example Make a read-write key for `a/b/c/`
 * ```ts
 * import { SecurityKey } from "./key.ts";
 *
 * const key = new SecurityKey();
 * key.contract = 123;
 * key.permissions = 6;
 * key.setTarget("a/b/c/");
 * console.log(key.hasPermission(2)); // true
 * ```
 */
export class SecurityKey {
  /** The 24 raw bytes. */
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  /**
   * Wraps 24 key bytes, or makes a key of zeros.
   *
   * @param bytes The 24 bytes of a decrypted key.
   * @throws {RangeError} When `bytes` is not 24 bytes long.
   */
  constructor(bytes: Uint8Array = new Uint8Array(24)) {
    if (bytes.length !== 24) {
      throw new RangeError(`Cannot read an Emitter key of ${bytes.length} bytes: it must be 24`);
    }
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, 24);
  }

  /** The random salt. */
  get salt(): number {
    return this.#view.getUint16(0);
  }
  set salt(value: number) {
    this.#view.setUint16(0, value);
  }

  /** The id of the master key this key descends from. */
  get master(): number {
    return this.#view.getUint16(2);
  }
  set master(value: number) {
    this.#view.setUint16(2, value);
  }

  /** The contract id. */
  get contract(): number {
    return this.#view.getUint32(4);
  }
  set contract(value: number) {
    this.#view.setUint32(4, value >>> 0);
  }

  /** The signature of the contract. */
  get signature(): number {
    return this.#view.getUint32(8);
  }
  set signature(value: number) {
    this.#view.setUint32(8, value >>> 0);
  }

  /** The permission byte (see `PERMISSION`). */
  get permissions(): number {
    return this.bytes[15];
  }
  set permissions(value: number) {
    this.bytes[15] = value;
  }

  /** The expiry in unix seconds, 0 when the key never expires. */
  get expires(): number {
    const stored = this.#view.getUint32(20);
    return stored > 0 ? stored + KEY_TIME_OFFSET : 0;
  }
  set expires(unixSeconds: number) {
    const stored = unixSeconds > 0 ? unixSeconds - KEY_TIME_OFFSET : unixSeconds;
    this.#view.setUint32(20, stored >>> 0);
  }

  /** Whether this is a master (secret) key: its permission byte is exactly `master`. */
  get isMaster(): boolean {
    return this.permissions === PERMISSION.master;
  }

  /**
   * Whether the key has expired at a given time.
   *
   * @param nowMs The time to compare with, in milliseconds since the epoch.
   * @returns `false` for a key that never expires.
   * @throws Never.
   */
  isExpired(nowMs: number = Date.now()): boolean {
    const expires = this.expires;
    return expires !== 0 && expires * 1000 < nowMs;
  }

  /**
   * Whether the key holds every right in `flags`.
   *
   * @param flags One or more `PERMISSION` bits.
   * @returns `true` when all of them are set.
   * @throws Never.
   */
  hasPermission(flags: number): boolean {
    return (this.permissions & flags) === flags;
  }

  /**
   * Sets or clears rights.
   *
   * @param flags One or more `PERMISSION` bits.
   * @param value Whether to set them.
   * @returns Nothing.
   * @throws Never.
   */
  setPermission(flags: number, value: boolean): void {
    this.permissions = value ? this.permissions | flags : this.permissions & ~flags & 0xff;
  }

  /**
   * Sets the channel the key is for: `a/b/` (exactly that channel), `a/+/c/`
   * (a segment may be anything) or `a/#/` (that channel and everything below).
   *
   * @param channel The target, ending with `/`.
   * @returns `undefined`, or the reason the target was refused (a key of `KEY_TARGET_ERRORS`).
   * @throws Never.
   */
  setTarget(channel: string): keyof typeof KEY_TARGET_ERRORS | undefined {
    if (!channel.endsWith("/")) return "targetInvalid";
    let parts = channel.replace(/\/+$/, "").split("/");
    const wildcard = parts[parts.length - 1] === "#";
    let bitPath = 1 << 23;
    if (wildcard) {
      parts = parts.slice(0, -1);
      bitPath = 0;
    }
    if (parts.length > MAX_TARGET_PARTS) return "targetTooLong";
    parts.forEach((part, index) => {
      if (part !== "+" && part !== "#") bitPath |= 1 << (22 - index);
    });
    this.bytes[12] = (bitPath >>> 16) & 0xff;
    this.bytes[13] = (bitPath >>> 8) & 0xff;
    this.bytes[14] = bitPath & 0xff;
    this.#view.setUint32(16, murmur32String(parts.join("/")));
    return undefined;
  }

  /**
   * Whether the key's target allows a channel, by the broker's rules
   * (including keys from before targets had a depth, which check only the
   * first segment).
   *
   * @param channel The parsed channel: its `channel` text and segment hashes.
   * @returns `true` when the key may be used on the channel.
   * @throws Never.
   */
  validateChannel(channel: Pick<EmitterChannel, "channel" | "query">): boolean {
    let topic = channel.channel;
    if (topic.length === 0) return false;
    const target = this.#view.getUint32(16);
    const path = (this.bytes[12] << 16) | (this.bytes[13] << 8) | this.bytes[14];
    if (path === 0) {
      if (target === OPEN_TARGET) return true;
      return channel.query.length > 0 && channel.query[0] === target;
    }
    if (topic.endsWith("/")) topic = topic.slice(0, -1);
    let parts = topic.split("/");
    if (parts[parts.length - 1] === "#") parts = parts.slice(0, -1);
    let maxDepth = 0;
    for (let i = 0; i < MAX_TARGET_PARTS; i++) {
      if (((path >>> i) & 1) === 1) {
        maxDepth = MAX_TARGET_PARTS - i;
        break;
      }
    }
    if (maxDepth === 0) maxDepth = parts.length;
    const exact = ((path >>> 23) & 1) === 1;
    if (parts.length < maxDepth || (exact && parts.length !== maxDepth)) return false;
    for (let index = 0; index < parts.length; index++) {
      // Beyond 32 bits Go shifts to 0; JavaScript would wrap the count.
      const shift = 22 - index;
      const fixed = shift >= 0 ? (path >>> shift) & 1 : 0;
      if (fixed === 1) {
        if (parts[index] === "+") return false;
      } else {
        parts[index] = "+";
      }
    }
    return murmur32String(parts.slice(0, maxDepth).join("/")) === target;
  }
}
