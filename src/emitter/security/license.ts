/**
 * Emitter licenses, read and written as the real broker does, so a license
 * from a real deployment works unchanged. A license names the contract, its
 * signature, the current master key id and the key cipher:
 *
 * - v1 (`…:1`, or no suffix): 32 bytes in base64url: a 16-byte XTEA key, the
 *   contract, the signature, the expiry and the license type.
 * - v2 (`…:2`): Snappy-compressed fields (32-byte key, 24-byte nonce, contract,
 *   signature, master index) for the Salsa cipher.
 * - v3 (`…:3`): the same with a 16-byte nonce for the Shuffle cipher. New
 *   licenses are v3, as the broker generates on first start.
 *
 * @module
 */

import { InvalidArgumentError } from "../../core/errors.ts";
import { decodeBase64Url, encodeBase64Url } from "./_base64url.ts";
import { readUvarint, snappyDecode, snappyEncode, writeUvarint } from "./_snappy.ts";
import { type KeyCipher, SalsaCipher, ShuffleCipher, XteaCipher } from "./cipher.ts";
import { KEY_TIME_OFFSET, SecurityKey } from "./key.ts";
import { PERMISSION } from "./permissions.ts";

/** Fills a new array with cryptographically random bytes. */
export type RandomBytes = (length: number) => Uint8Array;

const defaultRandom: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

function u32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

function refuse(reason: string): never {
  throw new InvalidArgumentError("license", `Cannot read the Emitter license as ${reason}`);
}

/**
 * Makes a master key for a license: a random salt below 32767, the license's
 * contract and signature, and only the master permission.
 *
 * @param license The contract and signature to bind the key to.
 * @param id The master key id.
 * @param random The source of random bytes.
 * @returns The key, not encrypted.
 * @throws Never.
 * @example
 * ```ts
 * import { newMasterKey } from "./license.ts";
 *
 * console.log(newMasterKey({ contract: 1, signature: 2 }, 1).isMaster); // true
 * ```
 */
export function newMasterKey(
  license: { readonly contract: number; readonly signature: number },
  id: number,
  random: RandomBytes = defaultRandom,
): SecurityKey {
  const key = new SecurityKey();
  const bytes = random(2);
  key.salt = ((bytes[0] << 8) | bytes[1]) % 32767;
  key.master = id;
  key.contract = license.contract;
  key.signature = license.signature;
  key.permissions = PERMISSION.master;
  return key;
}

/** A legacy v1 license: its key cipher is XTEA. */
export class LicenseV1 {
  /** The version. */
  readonly version = 1 as const;
  /** The XTEA key as 22 base64url characters. */
  readonly encryptionKey: string;
  /** The contract id. */
  readonly contract: number;
  /** The contract signature. */
  readonly signature: number;
  /** The expiry in unix seconds, 0 for never. */
  readonly expires: number;
  /** The license type (1 cloud, 2 on premise). */
  readonly type: number;
  /** The master key id; always 1 for v1. */
  readonly master = 1;

  /**
   * Creates a v1 license from its fields.
   *
   * @param fields The XTEA key text, contract, signature, expiry (unix seconds) and type.
   * @throws Never.
   */
  constructor(fields: {
    encryptionKey: string;
    contract: number;
    signature?: number;
    expires?: number;
    type?: number;
  }) {
    this.encryptionKey = fields.encryptionKey;
    this.contract = fields.contract >>> 0;
    this.signature = (fields.signature ?? 0) >>> 0;
    this.expires = fields.expires ?? 0;
    this.type = fields.type ?? 2;
  }

  /**
   * The license's key cipher.
   *
   * @returns An XTEA cipher.
   * @throws {RangeError} When the encryption key is not 22 characters of 16 bytes.
   */
  cipher(): KeyCipher {
    return XteaCipher.fromText(this.encryptionKey);
  }

  /**
   * The license text, with its `:1` suffix.
   *
   * @returns The text, or `""` when the encryption key is not base64url (as the broker does).
   * @throws Never.
   */
  toString(): string {
    const key = decodeBase64Url(this.encryptionKey);
    if (key === undefined) return "";
    const out = new Uint8Array(32);
    out.set(key.subarray(0, 32));
    const view = new DataView(out.buffer);
    view.setUint32(16, this.contract);
    view.setUint32(20, this.signature);
    view.setUint32(24, (this.expires > 0 ? this.expires - KEY_TIME_OFFSET : this.expires) >>> 0);
    view.setUint32(28, this.type >>> 0);
    return `${encodeBase64Url(out)}:1`;
  }
}

/** A v2 (Salsa) or v3 (Shuffle) license. */
export class LicenseV2 {
  /** The version: 2 for the Salsa cipher, 3 for Shuffle. */
  readonly version: 2 | 3;
  /** The 32-byte encryption key. */
  readonly encryptionKey: Uint8Array;
  /** The nonce: 24 bytes for v2, 16 for v3. */
  readonly encryptionSalt: Uint8Array;
  /** The contract id. */
  readonly contract: number;
  /** The contract signature. */
  readonly signature: number;
  /** The current master key id. */
  readonly master: number;

  /**
   * Creates a v2 or v3 license from its fields.
   *
   * @param fields The version, key, nonce, contract, signature and master id.
   * @throws Never.
   */
  constructor(fields: {
    version: 2 | 3;
    encryptionKey?: Uint8Array;
    encryptionSalt?: Uint8Array;
    contract: number;
    signature?: number;
    master?: number;
  }) {
    this.version = fields.version;
    this.encryptionKey = fields.encryptionKey ?? new Uint8Array(0);
    this.encryptionSalt = fields.encryptionSalt ?? new Uint8Array(0);
    this.contract = fields.contract >>> 0;
    this.signature = (fields.signature ?? 0) >>> 0;
    this.master = (fields.master ?? 0) >>> 0;
  }

  /**
   * The license's key cipher.
   *
   * @returns A Salsa cipher for v2, a Shuffle cipher for v3.
   * @throws {RangeError} When the key or nonce has the wrong size.
   */
  cipher(): KeyCipher {
    return this.version === 2
      ? new SalsaCipher(this.encryptionKey, this.encryptionSalt)
      : new ShuffleCipher(this.encryptionKey, this.encryptionSalt);
  }

  /**
   * The license text, with its `:2` or `:3` suffix.
   *
   * @returns The text.
   * @throws Never.
   */
  toString(): string {
    const fields = [
      ...writeUvarint(this.encryptionKey.length),
      ...this.encryptionKey,
      ...writeUvarint(this.encryptionSalt.length),
      ...this.encryptionSalt,
      ...writeUvarint(this.contract),
      ...writeUvarint(this.signature),
      ...writeUvarint(this.master),
    ];
    return `${encodeBase64Url(snappyEncode(Uint8Array.from(fields)))}:${this.version}`;
  }
}

/** Any Emitter license. */
export type EmitterLicense = LicenseV1 | LicenseV2;

function parseV1(text: string): LicenseV1 {
  const raw = decodeBase64Url(text);
  if (raw === undefined) refuse("it is not base64url text");
  if (raw.length < 32) refuse(`a v1 license needs 32 bytes: current value has ${raw.length}`);
  const stored = u32(raw.subarray(24));
  return new LicenseV1({
    encryptionKey: encodeBase64Url(raw.subarray(0, 16)),
    contract: u32(raw.subarray(16)),
    signature: u32(raw.subarray(20)),
    expires: stored > 0 ? stored + KEY_TIME_OFFSET : 0,
    type: u32(raw.subarray(28)),
  });
}

function parseV2(text: string, version: 2 | 3): LicenseV2 {
  const packed = decodeBase64Url(text);
  if (packed === undefined) refuse("it is not base64url text");
  const raw = snappyDecode(packed);
  if (raw === undefined) refuse(`its v${version} data is not valid Snappy`);
  let offset = 0;
  const bytes = (): Uint8Array => {
    const length = readUvarint(raw, offset);
    if (length === undefined || length.next + length.value > raw.length) {
      refuse(`its v${version} fields are truncated`);
    }
    offset = length.next + length.value;
    return raw.slice(length.next, offset);
  };
  const uint = (): number => {
    const value = readUvarint(raw, offset);
    if (value === undefined || value.value > 0xffffffff) {
      refuse(`its v${version} fields are truncated`);
    }
    offset = value.next;
    return value.value;
  };
  return new LicenseV2({
    version,
    encryptionKey: bytes(),
    encryptionSalt: bytes(),
    contract: uint(),
    signature: uint(),
    master: uint(),
  });
}

/**
 * Reads a license of any version, as the broker reads `EMITTER_LICENSE`.
 *
 * @param text The license text (`…:1`, `…:2`, `…:3`, or a v1 license without suffix).
 * @returns The license.
 * @throws {InvalidArgumentError} When the text is shorter than 5 characters or not a license.
 * @example
 * ```ts
 * import { parseLicense } from "./license.ts";
 *
 * const license = parseLicense("zT83oDV0DWY5_JysbSTPTDr8KB0AAAAAAAAAAAAAAAI:1");
 * console.log(license.version, license.contract); // 1 989603869
 * ```
 */
export function parseLicense(text: string): EmitterLicense {
  if (text.length < 5) {
    refuse(
      `none was given: set EMITTER_LICENSE to a license, or start without one to generate a new license`,
    );
  }
  if (text.endsWith(":1")) return parseV1(text.slice(0, -2));
  if (text.endsWith(":2")) return parseV2(text.slice(0, -2), 2);
  if (text.endsWith(":3")) return parseV2(text.slice(0, -2), 3);
  return parseV1(text);
}

/**
 * Generates a new v3 license and its first master key (id 1), as the broker
 * does when it starts without a license.
 *
 * @param random The source of random bytes.
 * @returns The license and the encrypted master (secret) key.
 * @throws Never.
 * @example
 * ```ts
 * import { newLicense, parseLicense } from "./license.ts";
 *
 * const { license, secret } = newLicense();
 * console.log(parseLicense(license.toString()).cipher().decryptKey(secret)?.isMaster); // true
 * ```
 */
export function newLicense(
  random: RandomBytes = defaultRandom,
): { license: LicenseV2; secret: string } {
  const license = new LicenseV2({
    version: 3,
    encryptionKey: random(32),
    encryptionSalt: random(16),
    contract: u32(random(4)),
    signature: u32(random(4)),
    master: 1,
  });
  const secret = license.cipher().encryptKey(newMasterKey(license, 1, random));
  return { license, secret };
}
