/**
 * Signatures as Bottle makes them, over the raw bytes of a message:
 * ECDSA with an ASN.1 DER signature, Ed25519 (64 raw bytes) and RSA
 * PKCS#1 v1.5 with SHA-256. ECDSA hashes with SHA-256 on every curve by
 * default, as gobottle and pybottle do (the draft names SHA-384 for P-384;
 * `hash: "SHA-384"` signs that way, and {@linkcode verify} accepts both).
 *
 * @module
 */

import { ab } from "./_bytes.ts";
import { ed25519Sign, ed25519Verify } from "./_curve25519.ts";
import { derToRaw, rawToDer } from "./_ecdsa_der.ts";
import { isLoadFailure } from "./_lazy_module.ts";
import { CURVE_OID, CURVES } from "./_pkix.ts";
import { webKey } from "./_web_keys.ts";
import { SpotKeyError } from "./errors.ts";
import { type PrivateKey, privateParts } from "./private_key.ts";
import { PublicKey, publicParts } from "./public_key.ts";

/** The hash an ECDSA signature is made over. */
export type EcdsaHash = "SHA-256" | "SHA-384" | "SHA-512";

/** Options of {@linkcode sign} and {@linkcode verify}. */
export interface SignatureOptions {
  /**
   * ECDSA only: the hash. Signing defaults to SHA-256 (what Go and Python
   * verify); verifying without it accepts SHA-256, then SHA-384 on P-384 and
   * SHA-512 on P-521.
   */
  hash?: EcdsaHash;
}

/**
 * Signs a message with a key that can sign (P-256, P-384, P-521, Ed25519, RSA).
 *
 * @param key The private key.
 * @param message The bytes to sign (a Bottle's message field).
 * @param options The ECDSA hash.
 * @returns The signature in Bottle's encoding.
 * @throws {SpotKeyError} When the key type cannot sign or the runtime refuses the key.
 * @example
 * ```ts
 * import { PrivateKey } from "./private_key.ts";
 * import { sign, verify } from "./signature.ts";
 *
 * const key = await PrivateKey.generate("p256");
 * const message = new TextEncoder().encode("hello");
 * const signature = await sign(key, message);
 * console.log(await verify(key.publicKey.pkix, message, signature)); // true
 * ```
 */
export async function sign(
  key: PrivateKey,
  message: Uint8Array,
  options: SignatureOptions = {},
): Promise<Uint8Array> {
  const parts = privateParts(key);
  try {
    if (key.type === "ed25519") return await ed25519Sign(parts.secret!, message);
    if (key.type === "rsa") {
      const web = await webKey(key, "pkcs8", parts.pkcs8, "rsa", "RSASSA-PKCS1-v1_5");
      return new Uint8Array(
        await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, web, ab(message)),
      );
    }
    if (CURVE_OID[key.type] !== undefined) {
      const web = await webKey(key, "pkcs8", parts.pkcs8, key.type, "ECDSA");
      const raw = await crypto.subtle.sign(
        { name: "ECDSA", hash: options.hash ?? "SHA-256" },
        web,
        ab(message),
      );
      return rawToDer(new Uint8Array(raw));
    }
  } catch (cause) {
    if (isLoadFailure(cause)) throw cause;
    throw new SpotKeyError(
      "sign",
      `Cannot sign with the ${key.type} key as the runtime refused it (${
        (cause as Error)?.name ?? "error"
      }): pass a valid signing key`,
      { cause },
    );
  }
  throw new SpotKeyError(
    "sign",
    `Cannot sign with a ${key.type} key as it is an encryption-only key type: sign with a P-256, P-384, P-521, Ed25519 or RSA key`,
  );
}

/**
 * Verifies a signature over a message.
 *
 * @param signer The signer's public key or its PKIX bytes.
 * @param message The signed bytes.
 * @param signature The signature in Bottle's encoding.
 * @param options The ECDSA hash, when only one may be accepted.
 * @returns True when it verifies; false for a wrong or malformed signature.
 * @throws {SpotKeyError} When the PKIX bytes do not parse or the key type cannot sign.
 * @example
 * ```ts
 * import { PrivateKey } from "./private_key.ts";
 * import { sign, verify } from "./signature.ts";
 *
 * const key = await PrivateKey.generate("ed25519");
 * const signature = await sign(key, new Uint8Array([1]));
 * console.log(await verify(key.publicKey, new Uint8Array([2]), signature)); // false
 * ```
 */
export async function verify(
  signer: PublicKey | Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  options: SignatureOptions = {},
): Promise<boolean> {
  const key = PublicKey.from(signer);
  const parts = publicParts(key);
  if (key.type === "ed25519") return await ed25519Verify(parts.raw, message, signature);
  if (key.type === "rsa") {
    const web = await importOrThrow(key, "RSASSA-PKCS1-v1_5");
    return await crypto.subtle.verify(
      { name: "RSASSA-PKCS1-v1_5" },
      web,
      ab(signature),
      ab(message),
    ).catch(
      () => false,
    );
  }
  const curveOid = CURVE_OID[key.type];
  if (curveOid === undefined) {
    throw new SpotKeyError(
      "verify",
      `Cannot verify a signature by a ${key.type} key as it is an encryption-only key type: check the signer's key`,
    );
  }
  const curve = CURVES[curveOid];
  const raw = derToRaw(signature, curve.size);
  if (raw === undefined) return false;
  const web = await importOrThrow(key, "ECDSA");
  const hashes: EcdsaHash[] = options.hash !== undefined
    ? [options.hash]
    : key.type === "p384"
    ? ["SHA-256", "SHA-384"]
    : key.type === "p521"
    ? ["SHA-256", "SHA-512"]
    : ["SHA-256"];
  for (const hash of hashes) {
    if (
      await crypto.subtle.verify({ name: "ECDSA", hash }, web, ab(raw), ab(message)).catch(() =>
        false
      )
    ) {
      return true;
    }
  }
  return false;
}

async function importOrThrow(
  key: PublicKey,
  use: "ECDSA" | "RSASSA-PKCS1-v1_5",
): Promise<CryptoKey> {
  try {
    return await webKey(key, "spki", key.pkix, key.type, use);
  } catch (cause) {
    throw new SpotKeyError(
      "verify",
      `Cannot verify with the ${key.type} public key as the runtime refused it (${
        (cause as Error)?.name ?? "error"
      }): check the signer's key`,
      { cause },
    );
  }
}
