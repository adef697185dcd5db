/**
 * How Bottle hands the content key (CEK) to each recipient, by the
 * recipient's key type: ECDH (P-256, P-384, P-521, X25519, and Ed25519 keys
 * turned into X25519) then AES-256-GCM under SHA-256 of the shared secret,
 * in the layout `0x00 || uvarint(len eph) || eph PKIX || nonce(12) ||
 * ciphertext`; RSA-OAEP with SHA-256; and ML-KEM as gobottle writes it
 * (`0x01` hybrid with X25519 keyed by SHA-256(x25519 secret || ML-KEM
 * secret), `0x02` pure ML-KEM keyed by its secret).
 *
 * @module
 */

import { concatBytes } from "../../core/bytes.ts";
import { ab } from "./_bytes.ts";
import {
  edwardsSecretToMontgomery,
  edwardsToMontgomery,
  x25519Generate,
  x25519Pkix,
  x25519Shared,
} from "./_curve25519.ts";
import { derReason } from "./_der.ts";
import { kem } from "./_mlkem.ts";
import { isLoadFailure } from "./_lazy_module.ts";
import { CURVE_OID, CURVES, mlkemInfo, parsePkix } from "./_pkix.ts";
import { readUvarint, uvarint } from "./_uvarint.ts";
import { webKey } from "./_web_keys.ts";
import { SpotKeyError } from "./errors.ts";
import { type PrivateKey, privateParts } from "./private_key.ts";
import { PublicKey, publicParts } from "./public_key.ts";

/** The longest ephemeral key or KEM ciphertext accepted, as gobottle (64 KiB). */
const MAX_PART = 65536;
const NONCE = 12;
const TAG_BYTES = 16;

/**
 * Encrypts a content key for one recipient, the way Bottle does for that key type.
 *
 * @param recipient The recipient's public key or its PKIX bytes.
 * @param cek The content key (32 bytes for a Bottle).
 * @returns The recipient entry's data.
 * @throws {SpotKeyError} When the key does not parse, cannot receive (ML-KEM excepted, every type can), or the runtime refuses it.
 * @example
 * ```ts
 * import { PrivateKey } from "./private_key.ts";
 * import { decryptWith, encryptFor } from "./recipient.ts";
 *
 * const bob = await PrivateKey.generate("x25519");
 * const cek = crypto.getRandomValues(new Uint8Array(32));
 * const data = await encryptFor(bob.publicKey.pkix, cek);
 * console.log((await decryptWith(bob, data))?.length); // 32
 * ```
 */
export async function encryptFor(
  recipient: PublicKey | Uint8Array,
  cek: Uint8Array,
): Promise<Uint8Array> {
  const key = PublicKey.from(recipient);
  const parts = publicParts(key);
  try {
    if (key.type === "rsa") {
      const web = await webKey(key, "spki", key.pkix, "rsa", "RSA-OAEP");
      return new Uint8Array(await crypto.subtle.encrypt({ name: "RSA-OAEP" }, web, ab(cek)));
    }
    if (key.type === "x25519" || key.type === "ed25519") {
      const pub = key.type === "x25519" ? parts.raw : edwardsToMontgomery(parts.raw);
      const ephemeral = await x25519Generate();
      const shared = pub === undefined ? undefined : await x25519Shared(ephemeral.secret, pub);
      if (shared === undefined) throw lowOrder(key.type);
      return await seal(0, [lengthPrefixed(x25519Pkix(ephemeral.pub))], await sha256(shared), cek);
    }
    const curveOid = CURVE_OID[key.type];
    if (curveOid !== undefined) {
      const params = { name: "ECDH", namedCurve: CURVES[curveOid].name };
      const pair = await crypto.subtle.generateKey(params, true, ["deriveBits"]) as CryptoKeyPair;
      const peer = await webKey(key, "spki", key.pkix, key.type, "ECDH");
      const shared = await crypto.subtle.deriveBits(
        { name: "ECDH", public: peer },
        pair.privateKey,
        CURVES[curveOid].size * 8,
      );
      const eph = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
      return await seal(0, [lengthPrefixed(eph)], await sha256(new Uint8Array(shared)), cek);
    }
    const mlkem = mlkemInfo(key.type)!;
    const { cipherText, sharedSecret } = (await kem(mlkem.level)).encapsulate(parts.raw);
    if (parts.x25519 === undefined) {
      return await seal(2, [lengthPrefixed(cipherText)], sharedSecret, cek);
    }
    const ephemeral = await x25519Generate();
    const shared = await x25519Shared(ephemeral.secret, parts.x25519);
    if (shared === undefined) throw lowOrder(key.type);
    return await seal(
      1,
      [lengthPrefixed(x25519Pkix(ephemeral.pub)), lengthPrefixed(cipherText)],
      await sha256(concatBytes(shared, sharedSecret)),
      cek,
    );
  } catch (cause) {
    if (cause instanceof SpotKeyError) throw cause;
    throw new SpotKeyError(
      "encrypt for recipient",
      `Cannot encrypt for the ${key.type} recipient key as the runtime refused it (${
        (cause as Error)?.name ?? "error"
      }): check the recipient's key`,
      { cause },
    );
  }
}

/**
 * Recovers a content key from a recipient entry's data with a private key.
 * Never throws on bad data: anything that is not for this key (another
 * version or key type, a failed tag, truncated or malformed bytes) gives
 * undefined.
 *
 * @param key The private key.
 * @param data The recipient entry's data.
 * @returns The content key, or undefined.
 * @throws {never} Never for bad data.
 * @example
 * ```ts
 * import { PrivateKey } from "./private_key.ts";
 * import { decryptWith, encryptFor } from "./recipient.ts";
 *
 * const bob = await PrivateKey.generate("p256");
 * const eve = await PrivateKey.generate("p256");
 * const data = await encryptFor(bob.publicKey, new Uint8Array(32));
 * console.log(await decryptWith(eve, data)); // undefined
 * ```
 */
export async function decryptWith(
  key: PrivateKey,
  data: Uint8Array,
): Promise<Uint8Array | undefined> {
  try {
    return await decrypt(key, data);
  } catch (cause) {
    if (isLoadFailure(cause)) throw cause;
    return undefined;
  }
}

async function decrypt(key: PrivateKey, data: Uint8Array): Promise<Uint8Array | undefined> {
  const parts = privateParts(key);
  if (key.type === "rsa") {
    const web = await webKey(key, "pkcs8", parts.pkcs8, "rsa", "RSA-OAEP");
    return new Uint8Array(await crypto.subtle.decrypt({ name: "RSA-OAEP" }, web, ab(data)));
  }
  const version = data[0];
  if (key.type === "x25519" || key.type === "ed25519") {
    if (version !== 0) return undefined;
    const eph = readPart(data, 1);
    if (eph === undefined) return undefined;
    const ephKey = parseQuietly(eph.bytes);
    if (ephKey?.type !== "x25519") return undefined;
    const secret = key.type === "x25519"
      ? parts.secret!
      : await edwardsSecretToMontgomery(parts.secret!);
    const shared = await x25519Shared(secret, ephKey.raw);
    return shared === undefined ? undefined : await open(data, eph.next, await sha256(shared));
  }
  const curveOid = CURVE_OID[key.type];
  if (curveOid !== undefined) {
    if (version !== 0) return undefined;
    const eph = readPart(data, 1);
    if (eph === undefined || parseQuietly(eph.bytes)?.type !== key.type) return undefined;
    const curve = CURVES[curveOid];
    const peer = await crypto.subtle.importKey(
      "spki",
      ab(eph.bytes),
      { name: "ECDH", namedCurve: curve.name },
      false,
      [],
    );
    const priv = await webKey(key, "pkcs8", parts.pkcs8, key.type, "ECDH");
    const shared = await crypto.subtle.deriveBits(
      { name: "ECDH", public: peer },
      priv,
      curve.size * 8,
    );
    return await open(data, eph.next, await sha256(new Uint8Array(shared)));
  }
  const mlkem = mlkemInfo(key.type)!;
  const mlkemKem = await kem(mlkem.level);
  const secretKey = mlkemKem.keygen(parts.secret!).secretKey;
  if (version === 2 && parts.x25519 === undefined) {
    const ct = readPart(data, 1);
    if (ct === undefined || ct.bytes.length !== mlkem.ct) return undefined;
    return await open(data, ct.next, mlkemKem.decapsulate(ct.bytes, secretKey));
  }
  if (version === 1 && parts.x25519 !== undefined) {
    const eph = readPart(data, 1);
    if (eph === undefined) return undefined;
    const ephKey = parseQuietly(eph.bytes);
    if (ephKey?.type !== "x25519") return undefined;
    const ct = readPart(data, eph.next);
    if (ct === undefined || ct.bytes.length !== mlkem.ct) return undefined;
    const shared = await x25519Shared(parts.x25519, ephKey.raw);
    if (shared === undefined) return undefined;
    const kemSecret = mlkemKem.decapsulate(ct.bytes, secretKey);
    return await open(data, ct.next, await sha256(concatBytes(shared, kemSecret)));
  }
  return undefined;
}

function readPart(
  data: Uint8Array,
  offset: number,
): { bytes: Uint8Array; next: number } | undefined {
  const length = readUvarint(data, offset, MAX_PART);
  if (length === undefined || length.next + length.value > data.length) return undefined;
  return {
    bytes: data.subarray(length.next, length.next + length.value),
    next: length.next + length.value,
  };
}

function parseQuietly(pkix: Uint8Array): ReturnType<typeof parsePkix> | undefined {
  try {
    return parsePkix(pkix);
  } catch (error) {
    if (derReason(error) !== undefined) return undefined;
    throw error;
  }
}

async function open(
  data: Uint8Array,
  offset: number,
  keyBytes: Uint8Array,
): Promise<Uint8Array | undefined> {
  if (data.length - offset < NONCE + TAG_BYTES) return undefined;
  const aes = await crypto.subtle.importKey("raw", ab(keyBytes), { name: "AES-GCM" }, false, [
    "decrypt",
  ]);
  const iv = data.subarray(offset, offset + NONCE);
  return new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: ab(iv) },
      aes,
      ab(data.subarray(offset + NONCE)),
    ),
  );
}

async function seal(
  version: number,
  prefix: Uint8Array[],
  keyBytes: Uint8Array,
  cek: Uint8Array,
): Promise<Uint8Array> {
  const aes = await crypto.subtle.importKey("raw", ab(keyBytes), { name: "AES-GCM" }, false, [
    "encrypt",
  ]);
  const iv = crypto.getRandomValues(new Uint8Array(NONCE));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aes, ab(cek)));
  return concatBytes(Uint8Array.of(version), ...prefix, iv, sealed);
}

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  return concatBytes(uvarint(bytes.length), bytes);
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", ab(bytes)));
}

function lowOrder(type: string): SpotKeyError {
  return new SpotKeyError(
    "encrypt for recipient",
    `Cannot encrypt for the ${type} recipient key as it is a low-order point: check the recipient's key`,
  );
}
