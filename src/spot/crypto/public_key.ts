/**
 * {@linkcode PublicKey}: a public key as Bottle carries it, by its
 * SubjectPublicKeyInfo (PKIX) DER bytes, with the key type read from them.
 * Parsing is synchronous and checks the structure; WebCrypto checks the
 * point itself when the key is first used.
 *
 * @module
 */

import { derReason } from "./_der.ts";
import { type KeyType, parsePkix, type PublicParts } from "./_pkix.ts";
import { SpotKeyError } from "./errors.ts";
import { pemDecode, pemEncode } from "./pem.ts";

const PARTS = new WeakMap<PublicKey, PublicParts>();

/**
 * A public key of any {@linkcode KeyType}, identified by its PKIX bytes.
 *
 * @example
 * ```ts
 * import { PrivateKey } from "./private_key.ts";
 * import { PublicKey } from "./public_key.ts";
 *
 * const key = await PrivateKey.generate("p256");
 * const again = PublicKey.fromPkix(key.publicKey.pkix);
 * console.log(again.type, again.equals(key.publicKey)); // "p256" true
 * ```
 */
export class PublicKey {
  /** The key type read from the algorithm identifier. */
  readonly type: KeyType;
  /** The SubjectPublicKeyInfo DER (a private copy). */
  readonly pkix: Uint8Array;

  private constructor(pkix: Uint8Array, parts: PublicParts) {
    this.pkix = pkix;
    this.type = parts.type;
    PARTS.set(this, parts);
  }

  /**
   * Parses SubjectPublicKeyInfo DER.
   *
   * @param der The PKIX bytes, as in a Bottle's signature or recipient entry.
   * @returns The key.
   * @throws {SpotKeyError} When the bytes are not a PKIX key of a supported type.
   * @example
   * ```ts
   * import { PublicKey } from "./public_key.ts";
   *
   * try {
   *   PublicKey.fromPkix(new Uint8Array([0x30, 0x01]));
   * } catch (error) {
   *   console.log((error as Error).name); // "SpotKeyError"
   * }
   * ```
   */
  static fromPkix(der: Uint8Array): PublicKey {
    const copy = Uint8Array.from(der);
    try {
      return new PublicKey(copy, parsePkix(copy));
    } catch (cause) {
      if (derReason(cause) === undefined) throw cause;
      throw new SpotKeyError(
        "import PKIX public key",
        `Cannot import the PKIX public key of ${der.length} bytes as ${
          derReason(cause)
        }: pass SubjectPublicKeyInfo DER of a P-256, P-384, P-521, Ed25519, X25519, RSA or ML-KEM key`,
        { cause },
      );
    }
  }

  /**
   * Parses a `PUBLIC KEY` PEM block.
   *
   * @param pem The PEM text.
   * @returns The key.
   * @throws {SpotKeyError} When the text has no `PUBLIC KEY` block or the key does not parse.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   * import { PublicKey } from "./public_key.ts";
   *
   * const key = await PrivateKey.generate("ed25519");
   * console.log(PublicKey.fromPem(key.publicKey.toPem()).type); // "ed25519"
   * ```
   */
  static fromPem(pem: string): PublicKey {
    const block = pemDecode(pem);
    if (block.label !== "PUBLIC KEY") {
      throw new SpotKeyError(
        "import PEM public key",
        `Cannot import a public key from a PEM '${block.label}' block: pass a 'PUBLIC KEY' block`,
      );
    }
    return PublicKey.fromPkix(block.der);
  }

  /**
   * Accepts a key or its PKIX bytes.
   *
   * @param key A key or PKIX DER.
   * @returns The key.
   * @throws {SpotKeyError} When bytes are given that do not parse.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   * import { PublicKey } from "./public_key.ts";
   *
   * const key = await PrivateKey.generate("x25519");
   * console.log(PublicKey.from(key.publicKey.pkix).type); // "x25519"
   * ```
   */
  static from(key: PublicKey | Uint8Array): PublicKey {
    return key instanceof PublicKey ? key : PublicKey.fromPkix(key);
  }

  /**
   * Writes the key as a `PUBLIC KEY` PEM block.
   *
   * @returns The PEM text.
   * @throws {never} Never.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   *
   * console.log((await PrivateKey.generate()).publicKey.toPem().startsWith("-----BEGIN PUBLIC KEY-----")); // true
   * ```
   */
  toPem(): string {
    return pemEncode("PUBLIC KEY", this.pkix);
  }

  /**
   * Whether another key has the same PKIX bytes.
   *
   * @param other A key or PKIX DER.
   * @returns True when the bytes are equal.
   * @throws {never} Never.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   *
   * const key = await PrivateKey.generate();
   * console.log(key.publicKey.equals(key.publicKey.pkix)); // true
   * ```
   */
  equals(other: PublicKey | Uint8Array): boolean {
    const bytes = other instanceof PublicKey ? other.pkix : other;
    return bytes.length === this.pkix.length && bytes.every((b, i) => b === this.pkix[i]);
  }
}

/**
 * The raw parts of a key (internal to the crypto folder).
 *
 * @param key The key.
 * @returns Its parts.
 */
export function publicParts(key: PublicKey): PublicParts {
  return PARTS.get(key)!;
}
