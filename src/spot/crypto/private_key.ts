/**
 * {@linkcode PrivateKey}: a private key of any Spot key type, generated here
 * or imported from the DER and PEM forms the Go and Python implementations
 * write (PKCS#8 for every type, SEC1 for EC keys). A private key knows its
 * public key's PKIX bytes and exports as PKCS#8.
 *
 * @module
 */

import { ab } from "./_bytes.ts";
import { InvalidArgumentError } from "../../core/errors.ts";
import { curvePkcs8, curvePublic } from "./_curve25519.ts";
import { derReason } from "./_der.ts";
import { mlkemKeys } from "./_mlkem.ts";
import { ecPkcs8, mlkemPkcs8, parsePkcs8, parseSec1, type PrivateDer } from "./_pkcs8.ts";
import { buildPkix, CURVE_OID, CURVES, type KeyType, mlkemInfo } from "./_pkix.ts";
import { SpotKeyError } from "./errors.ts";
import { pemDecode, pemEncode } from "./pem.ts";
import { PublicKey } from "./public_key.ts";

/** Options of {@linkcode PrivateKey.generate}. */
export interface GenerateKeyOptions {
  /** The RSA modulus size in bits: 2048 (the default), 3072 or 4096. */
  rsaBits?: number;
}

const KEY_TYPES: readonly KeyType[] = [
  "p256",
  "p384",
  "p521",
  "ed25519",
  "x25519",
  "rsa",
  "mlkem768",
  "mlkem1024",
  "mlkem768-x25519",
  "mlkem1024-x25519",
];

const PARTS = new WeakMap<PrivateKey, PrivateDer>();

/**
 * A private key, with its public key.
 *
 * @example Generate, export and load again
 * ```ts
 * import { PrivateKey } from "./private_key.ts";
 *
 * const key = await PrivateKey.generate("p256");
 * const again = await PrivateKey.fromPem(key.toPem());
 * console.log(again.publicKey.equals(key.publicKey)); // true
 * ```
 */
export class PrivateKey {
  /** The key type. */
  readonly type: KeyType;
  /** The public key, with its PKIX bytes. */
  readonly publicKey: PublicKey;

  private constructor(parts: PrivateDer, publicKey: PublicKey) {
    this.type = parts.type;
    this.publicKey = publicKey;
    PARTS.set(this, parts);
  }

  /**
   * Generates a key: ECDSA P-256 by default.
   *
   * @param type The key type.
   * @param options The RSA modulus size.
   * @returns The new key.
   * @throws {InvalidArgumentError} When the type or the RSA size is not supported.
   * @throws {SpotKeyError} When the runtime cannot generate the key.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   *
   * console.log((await PrivateKey.generate("ed25519")).publicKey.pkix.length); // 44
   * ```
   */
  static async generate(
    type: KeyType = "p256",
    options: GenerateKeyOptions = {},
  ): Promise<PrivateKey> {
    if (!KEY_TYPES.includes(type)) {
      throw new InvalidArgumentError(
        "type",
        `Cannot generate a key of type '${String(type)}': pass one of ${KEY_TYPES.join(", ")}`,
      );
    }
    const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
    if (type === "ed25519" || type === "x25519") {
      return await PrivateKey.fromPkcs8(curvePkcs8(type, random(32)));
    }
    const mlkem = mlkemInfo(type);
    if (mlkem !== undefined) {
      return await PrivateKey.fromPkcs8(
        mlkemPkcs8(type, random(64), mlkem.hybrid ? random(32) : undefined),
      );
    }
    let algorithm: EcKeyGenParams | RsaHashedKeyGenParams;
    if (type === "rsa") {
      const bits = options.rsaBits ?? 2048;
      if (![2048, 3072, 4096].includes(bits)) {
        throw new InvalidArgumentError(
          "rsaBits",
          `Cannot generate an RSA key of ${bits} bits: pass 2048, 3072 or 4096`,
        );
      }
      algorithm = {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: bits,
        publicExponent: Uint8Array.of(1, 0, 1),
        hash: "SHA-256",
      };
    } else algorithm = { name: "ECDSA", namedCurve: CURVES[CURVE_OID[type]!].name };
    let pkcs8: Uint8Array;
    try {
      const pair = await crypto.subtle.generateKey(algorithm, true, [
        "sign",
        "verify",
      ]) as CryptoKeyPair;
      pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    } catch (cause) {
      throw new SpotKeyError(
        "generate key",
        `Cannot generate a ${type} key as the runtime's WebCrypto refused: use p256, ed25519 or x25519`,
        { cause },
      );
    }
    return await PrivateKey.fromPkcs8(pkcs8);
  }

  /**
   * Imports PKCS#8 DER (`PRIVATE KEY`), as Go's `x509.MarshalPKCS8PrivateKey` and gobottle write.
   *
   * @param der The bytes.
   * @returns The key.
   * @throws {SpotKeyError} When the bytes are not a PKCS#8 key of a supported type or the runtime refuses it.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   *
   * const key = await PrivateKey.generate("x25519");
   * console.log((await PrivateKey.fromPkcs8(key.toPkcs8())).type); // "x25519"
   * ```
   */
  static async fromPkcs8(der: Uint8Array): Promise<PrivateKey> {
    const copy = Uint8Array.from(der);
    return await PrivateKey.#complete(parseWith("import PKCS#8 private key", copy, parsePkcs8));
  }

  /**
   * Imports SEC1 DER (`EC PRIVATE KEY`), the form of the interop vector keys.
   *
   * @param der The bytes.
   * @returns The key; it exports as PKCS#8.
   * @throws {SpotKeyError} When the bytes are not a SEC1 key on P-256, P-384 or P-521.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   *
   * try {
   *   await PrivateKey.fromSec1(new Uint8Array([0x30, 0x00]));
   * } catch (error) {
   *   console.log((error as Error).name); // "SpotKeyError"
   * }
   * ```
   */
  static async fromSec1(der: Uint8Array): Promise<PrivateKey> {
    const copy = Uint8Array.from(der);
    return await PrivateKey.#complete(parseWith("import SEC1 private key", copy, parseSec1));
  }

  /**
   * Imports PKCS#8 or SEC1 DER, whichever the bytes are.
   *
   * @param der The bytes.
   * @returns The key.
   * @throws {SpotKeyError} When the bytes are neither.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   *
   * const key = await PrivateKey.generate("p384");
   * console.log((await PrivateKey.fromDer(key.toPkcs8())).type); // "p384"
   * ```
   */
  static async fromDer(der: Uint8Array): Promise<PrivateKey> {
    // PKCS#8 starts SEQUENCE { INTEGER 0|1, SEQUENCE ...; SEC1 starts SEQUENCE { INTEGER 1, OCTET STRING
    const copy = Uint8Array.from(der);
    let parsed: PrivateDer;
    try {
      parsed = parsePkcs8(copy);
    } catch (pkcs8Reason) {
      if (derReason(pkcs8Reason) === undefined) throw pkcs8Reason;
      try {
        parsed = parseSec1(copy);
      } catch {
        throw keyError("import private key", copy.length, pkcs8Reason);
      }
    }
    return await PrivateKey.#complete(parsed);
  }

  /**
   * Imports a `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1) PEM block.
   *
   * @param pem The PEM text.
   * @returns The key.
   * @throws {SpotKeyError} When there is no such block or the key does not import.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   *
   * const key = await PrivateKey.generate("ed25519");
   * console.log((await PrivateKey.fromPem(key.toPem())).type); // "ed25519"
   * ```
   */
  static async fromPem(pem: string): Promise<PrivateKey> {
    const block = pemDecode(pem);
    if (block.label === "PRIVATE KEY") return await PrivateKey.fromPkcs8(block.der);
    if (block.label === "EC PRIVATE KEY") return await PrivateKey.fromSec1(block.der);
    throw new SpotKeyError(
      "import PEM private key",
      `Cannot import a private key from a PEM '${block.label}' block: pass a 'PRIVATE KEY' or 'EC PRIVATE KEY' block`,
    );
  }

  /**
   * The key as PKCS#8 DER: the bytes it was imported from when they were
   * PKCS#8, else the form Go writes.
   *
   * @returns A copy of the DER.
   * @throws {never} Never.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   *
   * console.log((await PrivateKey.generate()).toPkcs8()[0]); // 48
   * ```
   */
  toPkcs8(): Uint8Array {
    return Uint8Array.from(PARTS.get(this)!.pkcs8);
  }

  /**
   * The key as a `PRIVATE KEY` PEM block, the form spotlib keeps on disk.
   *
   * @returns The PEM text.
   * @throws {never} Never.
   * @example
   * ```ts
   * import { PrivateKey } from "./private_key.ts";
   *
   * console.log((await PrivateKey.generate()).toPem().startsWith("-----BEGIN PRIVATE KEY-----")); // true
   * ```
   */
  toPem(): string {
    return pemEncode("PRIVATE KEY", PARTS.get(this)!.pkcs8);
  }

  /** Derives the public key (checking the key imports into WebCrypto) and builds the key. */
  static async #complete(parsed: PrivateDer): Promise<PrivateKey> {
    const { type } = parsed;
    const make = (parts: PrivateDer, pkix: Uint8Array) =>
      new PrivateKey(parts, PublicKey.fromPkix(pkix));
    try {
      if (type === "ed25519" || type === "x25519") {
        return make(parsed, buildPkix({ type, raw: await curvePublic(type, parsed.secret!) }));
      }
      const mlkem = mlkemInfo(type);
      if (mlkem !== undefined) {
        const raw = (await mlkemKeys(mlkem.level, parsed.secret!)).publicKey;
        const x25519 = parsed.x25519 === undefined
          ? undefined
          : await curvePublic("x25519", parsed.x25519);
        return make(parsed, buildPkix({ type, raw, x25519 }));
      }
      if (type === "rsa") {
        const key = await crypto.subtle.importKey(
          "pkcs8",
          ab(parsed.pkcs8),
          { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
          true,
          ["sign"],
        );
        const { n, e } = await crypto.subtle.exportKey("jwk", key);
        const pub = await crypto.subtle.importKey(
          "jwk",
          { kty: "RSA", n, e },
          { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
          true,
          ["verify"],
        );
        return make(parsed, new Uint8Array(await crypto.subtle.exportKey("spki", pub)));
      }
      // EC: WebCrypto derives the public point from d; a point the key carries must match it
      const probe = ecPkcs8(type, parsed.secret!, undefined);
      const key = await crypto.subtle.importKey(
        "pkcs8",
        ab(probe),
        { name: "ECDSA", namedCurve: CURVES[CURVE_OID[type]!].name },
        true,
        ["sign"],
      );
      const jwk = await crypto.subtle.exportKey("jwk", key);
      const point = Uint8Array.of(4, ...fromBase64url(jwk.x!), ...fromBase64url(jwk.y!));
      const embedded = parsed.embeddedPublic;
      if (embedded !== undefined && !embedded.every((b, i) => b === point[i])) {
        throw new SpotKeyError(
          "import EC private key",
          `Cannot import the ${type} private key as the public key it carries does not match its private scalar: pass the key unchanged`,
        );
      }
      const pkcs8 = parsed.pkcs8.length > 0 ? parsed.pkcs8 : ecPkcs8(type, parsed.secret!, point);
      return make({ ...parsed, pkcs8 }, buildPkix({ type, raw: point }));
    } catch (cause) {
      if (cause instanceof SpotKeyError) throw cause;
      throw new SpotKeyError(
        "import private key",
        `Cannot import the ${type} private key as the runtime refused it (${
          (cause as Error)?.name ?? "error"
        }): pass a valid key`,
        { cause },
      );
    }
  }
}

/**
 * The parsed parts of a private key (internal to the crypto folder).
 *
 * @param key The key.
 * @returns Its parts.
 */
export function privateParts(key: PrivateKey): PrivateDer {
  return PARTS.get(key)!;
}

function keyError(operation: string, length: number, cause: unknown): SpotKeyError {
  return new SpotKeyError(
    operation,
    `Cannot ${operation} of ${length} bytes as ${
      derReason(cause)
    }: pass the DER unchanged (PKCS#8 or SEC1) of a supported key type`,
    { cause },
  );
}

function parseWith(
  operation: string,
  der: Uint8Array,
  parse: (der: Uint8Array) => PrivateDer,
): PrivateDer {
  try {
    return parse(der);
  } catch (cause) {
    if (derReason(cause) === undefined) throw cause;
    throw keyError(operation, der.length, cause);
  }
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
