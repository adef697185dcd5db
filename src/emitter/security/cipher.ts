/**
 * The three ciphers that turn a 24-byte key into the 32-character string users
 * hold, exactly as the real broker runs them, so keys from a real deployment
 * work unchanged: XTEA (v1 licenses; the salt bytes XOR the rest first),
 * Salsa (v2; XSalsa20 with the license's 24-byte nonce) and Shuffle (v3; the
 * key's salt XORs the license's 16-byte nonce, then HSalsa20 and Salsa20 over
 * all but the salt, so two keys never share a key stream).
 *
 * @module
 */

import { decodeBase64Url, encodeBase64Url } from "./_base64url.ts";
import { hsalsa20, salsa20Xor } from "./_salsa20.ts";
import { SecurityKey } from "./key.ts";

/** Encrypts and decrypts Emitter keys. */
export interface KeyCipher {
  /** Which cipher this is. */
  readonly kind: "xtea" | "salsa" | "shuffle";
  /**
   * Encrypts a key.
   *
   * @param key The key to encrypt; not changed.
   * @returns The 32-character unpadded base64url text.
   */
  encryptKey(key: SecurityKey): string;
  /**
   * Decrypts a key.
   *
   * @param text The 32-character key text.
   * @returns The key, or `undefined` when the text cannot be a key.
   */
  decryptKey(text: string): SecurityKey | undefined;
}

function decodeKeyText(text: string): Uint8Array | undefined {
  if (text.length !== 32) return undefined;
  const bytes = decodeBase64Url(text);
  return bytes?.length === 24 ? bytes : undefined;
}

function expectLength(what: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) {
    throw new RangeError(
      `Cannot create the ${what} cipher from ${bytes.length} bytes: it needs ${length}`,
    );
  }
}

const DELTA = 0x9e3779b9;
const ROUNDS = 32;

/**
 * The XTEA key cipher of v1 licenses.
 *
 * @example
 * ```ts
 * import { XteaCipher } from "./cipher.ts";
 *
 * const cipher = XteaCipher.fromText("zT83oDV0DWY5_JysbSTPTA");
 * console.log(cipher.decryptKey("kBCZch5re3Ue-kpG1Aa8Vo7BYvXZ3UwR")?.isMaster); // true
 * ```
 */
export class XteaCipher implements KeyCipher {
  /** Which cipher this is. */
  readonly kind = "xtea" as const;
  readonly #key: Uint32Array;

  /**
   * Creates the cipher from its 128-bit key.
   *
   * @param key The key as four big-endian 32-bit words, or its 16 bytes.
   * @throws {RangeError} When the key is not 4 words or 16 bytes.
   */
  constructor(key: readonly number[] | Uint8Array) {
    if (key instanceof Uint8Array) {
      expectLength("XTEA", key, 16);
      const view = new DataView(key.buffer, key.byteOffset, 16);
      this.#key = Uint32Array.from([0, 4, 8, 12], (o) => view.getUint32(o));
    } else {
      if (key.length !== 4) throw new RangeError("Cannot create the XTEA cipher: it needs 4 words");
      this.#key = Uint32Array.from(key);
    }
  }

  /**
   * Creates the cipher from the 22-character text a v1 license carries.
   *
   * @param text The unpadded base64url encryption key.
   * @returns The cipher.
   * @throws {RangeError} When the text is not 22 characters of 16 bytes.
   * @example
   * ```ts
   * import { XteaCipher } from "./cipher.ts";
   *
   * console.log(XteaCipher.fromText("zT83oDV0DWY5_JysbSTPTA").kind); // "xtea"
   * ```
   */
  static fromText(text: string): XteaCipher {
    const bytes = decodeBase64Url(text);
    if (text.length !== 22 || bytes?.length !== 16) {
      throw new RangeError(
        "Cannot create the XTEA cipher: its key must be 22 base64url characters",
      );
    }
    return new XteaCipher(bytes);
  }

  /**
   * Encrypts a key.
   *
   * @param key The key to encrypt; not changed.
   * @returns The 32-character key text.
   * @throws Never.
   */
  encryptKey(key: SecurityKey): string {
    const data = key.bytes.slice();
    for (let i = 2; i < 24; i += 2) {
      data[i] ^= data[0];
      data[i + 1] ^= data[1];
    }
    this.#blocks(data, true);
    return encodeBase64Url(data);
  }

  /**
   * Decrypts a key.
   *
   * @param text The 32-character key text.
   * @returns The key, or `undefined` when the text cannot be a key.
   * @throws Never.
   */
  decryptKey(text: string): SecurityKey | undefined {
    const data = decodeKeyText(text);
    if (data === undefined) return undefined;
    this.#blocks(data, false);
    for (let i = 2; i < 24; i += 2) {
      data[i] ^= data[0];
      data[i + 1] ^= data[1];
    }
    return new SecurityKey(data);
  }

  #blocks(data: Uint8Array, encrypt: boolean): void {
    const k = this.#key;
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    const f = (v: number) => ((((v << 4) ^ (v >>> 5)) + v) | 0);
    for (let i = 0; i < 24; i += 8) {
      let y = view.getUint32(i);
      let z = view.getUint32(i + 4);
      if (encrypt) {
        let sum = 0;
        for (let r = 0; r < ROUNDS; r++) {
          y = (y + (f(z) ^ (sum + k[sum & 3]))) >>> 0;
          sum = (sum + DELTA) >>> 0;
          z = (z + (f(y) ^ (sum + k[(sum >>> 11) & 3]))) >>> 0;
        }
      } else {
        let sum = Math.imul(DELTA, ROUNDS) >>> 0;
        for (let r = 0; r < ROUNDS; r++) {
          z = (z - (f(y) ^ (sum + k[(sum >>> 11) & 3]))) >>> 0;
          sum = (sum - DELTA) >>> 0;
          y = (y - (f(z) ^ (sum + k[sum & 3]))) >>> 0;
        }
      }
      view.setUint32(i, y);
      view.setUint32(i + 4, z);
    }
  }
}

/**
 * The Salsa key cipher of v2 licenses: XSalsa20 over all 24 bytes with the
 * license's key and 24-byte nonce.
 *
 * @example
 * ```ts
 * import { SalsaCipher } from "./cipher.ts";
 * import { SecurityKey } from "./key.ts";
 *
 * const cipher = new SalsaCipher(new Uint8Array(32), new Uint8Array(24));
 * console.log(cipher.encryptKey(new SecurityKey()).length); // 32
 * ```
 */
export class SalsaCipher implements KeyCipher {
  /** Which cipher this is. */
  readonly kind = "salsa" as const;
  readonly #subKey: Uint8Array;
  readonly #block: Uint8Array;

  /**
   * Creates the cipher.
   *
   * @param key The 32-byte encryption key.
   * @param nonce The 24-byte nonce (the license's encryption salt).
   * @throws {RangeError} When a size is wrong.
   */
  constructor(key: Uint8Array, nonce: Uint8Array) {
    expectLength("Salsa", key, 32);
    expectLength("Salsa", nonce, 24);
    this.#subKey = hsalsa20(key, nonce.subarray(0, 16));
    this.#block = new Uint8Array(16);
    this.#block.set(nonce.subarray(16, 24));
  }

  /**
   * Encrypts a key.
   *
   * @param key The key to encrypt; not changed.
   * @returns The 32-character key text.
   * @throws Never.
   */
  encryptKey(key: SecurityKey): string {
    const data = key.bytes.slice();
    salsa20Xor(data, this.#block, this.#subKey);
    return encodeBase64Url(data);
  }

  /**
   * Decrypts a key.
   *
   * @param text The 32-character key text.
   * @returns The key, or `undefined` when the text cannot be a key.
   * @throws Never.
   */
  decryptKey(text: string): SecurityKey | undefined {
    const data = decodeKeyText(text);
    if (data === undefined) return undefined;
    salsa20Xor(data, this.#block, this.#subKey);
    return new SecurityKey(data);
  }
}

/**
 * The Shuffle key cipher of v3 licenses, the one new licenses use.
 *
 * @example
 * ```ts
 * import { ShuffleCipher } from "./cipher.ts";
 *
 * const cipher = new ShuffleCipher(new Uint8Array(32), new Uint8Array(16));
 * console.log(cipher.decryptKey("A-dOBQDuXhqoFz-GZZdbpSFCtzmFl7Ng")?.salt); // 999
 * ```
 */
export class ShuffleCipher implements KeyCipher {
  /** Which cipher this is. */
  readonly kind = "shuffle" as const;
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;

  /**
   * Creates the cipher.
   *
   * @param key The 32-byte encryption key.
   * @param nonce The 16-byte nonce (the license's encryption salt).
   * @throws {RangeError} When a size is wrong.
   */
  constructor(key: Uint8Array, nonce: Uint8Array) {
    expectLength("Shuffle", key, 32);
    expectLength("Shuffle", nonce, 16);
    this.#key = key.slice();
    this.#nonce = nonce.slice();
  }

  /**
   * Encrypts a key.
   *
   * @param key The key to encrypt; not changed.
   * @returns The 32-character key text.
   * @throws Never.
   */
  encryptKey(key: SecurityKey): string {
    const data = key.bytes.slice();
    this.#crypt(data);
    return encodeBase64Url(data);
  }

  /**
   * Decrypts a key.
   *
   * @param text The 32-character key text.
   * @returns The key, or `undefined` when the text cannot be a key.
   * @throws Never.
   */
  decryptKey(text: string): SecurityKey | undefined {
    const data = decodeKeyText(text);
    if (data === undefined) return undefined;
    this.#crypt(data);
    return new SecurityKey(data);
  }

  #crypt(data: Uint8Array): void {
    const nonce = new Uint8Array(16);
    for (let i = 0; i < 16; i += 2) {
      nonce[i] = data[0] ^ this.#nonce[i];
      nonce[i + 1] = data[1] ^ this.#nonce[i + 1];
    }
    salsa20Xor(data.subarray(2), nonce, hsalsa20(this.#key, nonce));
  }
}
