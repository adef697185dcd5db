/**
 * WebCrypto keys for EC and RSA private and public keys, imported on first
 * use and kept: one CryptoKey per key and algorithm, since WebCrypto binds a
 * key to one algorithm (an RSA key signs as RSASSA-PKCS1-v1_5 and decrypts as
 * RSA-OAEP).
 *
 * @module
 */

import { ab } from "./_bytes.ts";
import { CURVE_OID, CURVES, type KeyType } from "./_pkix.ts";

/** The WebCrypto algorithms a Spot key is used as. */
export type WebUse = "ECDSA" | "ECDH" | "RSASSA-PKCS1-v1_5" | "RSA-OAEP";

const cache = new WeakMap<object, Map<string, Promise<CryptoKey>>>();

/**
 * The WebCrypto import parameters of a key type used one way.
 *
 * @param type An EC or RSA key type.
 * @param use The algorithm.
 * @returns The import parameters.
 */
export function importParams(
  type: KeyType,
  use: WebUse,
): EcKeyImportParams | RsaHashedImportParams {
  if (use === "ECDSA" || use === "ECDH") {
    return { name: use, namedCurve: CURVES[CURVE_OID[type]!].name };
  }
  return { name: use, hash: "SHA-256" };
}

/**
 * The CryptoKey of an owner for one use, imported once.
 *
 * @param owner The object the key belongs to (a PrivateKey or PublicKey).
 * @param format `"pkcs8"` or `"spki"`.
 * @param der The DER to import.
 * @param type The key type.
 * @param use The algorithm.
 * @returns The CryptoKey promise (rejected when WebCrypto refuses the key).
 */
export function webKey(
  owner: object,
  format: "pkcs8" | "spki",
  der: Uint8Array,
  type: KeyType,
  use: WebUse,
): Promise<CryptoKey> {
  let keys = cache.get(owner);
  if (keys === undefined) cache.set(owner, keys = new Map());
  let key = keys.get(use);
  if (key === undefined) {
    const usages: KeyUsage[] = format === "pkcs8"
      ? (use === "ECDSA" || use === "RSASSA-PKCS1-v1_5"
        ? ["sign"]
        : use === "ECDH"
        ? ["deriveBits"]
        : ["decrypt"])
      : (use === "ECDSA" || use === "RSASSA-PKCS1-v1_5"
        ? ["verify"]
        : use === "ECDH"
        ? []
        : ["encrypt"]);
    key = crypto.subtle.importKey(format, ab(der), importParams(type, use), false, usages);
    keys.set(use, key);
    key.catch(() => keys!.delete(use));
  }
  return key;
}
