/**
 * Key types and their SubjectPublicKeyInfo form: which algorithm OID means
 * which {@linkcode KeyType}, parsing a PKIX public key into its raw parts and
 * building one back. The ML-KEM forms are the ones gobottle writes: the NIST
 * OIDs with the bare encapsulation key, and for the hybrid X25519 + ML-KEM
 * keys its private-arc OIDs with `SEQUENCE { BIT STRING x25519, BIT STRING
 * mlkem }` inside the key's BIT STRING.
 *
 * @module
 */

import {
  bitString,
  bitStringBytes,
  children,
  derFailure,
  expect,
  oid,
  oidText,
  readOne,
  TAG,
  tlv,
} from "./_der.ts";

/**
 * The key types Spot handles: ECDSA/ECDH on NIST curves, Ed25519, X25519,
 * RSA, and ML-KEM pure or hybrid with X25519.
 */
export type KeyType =
  | "p256"
  | "p384"
  | "p521"
  | "ed25519"
  | "x25519"
  | "rsa"
  | "mlkem768"
  | "mlkem1024"
  | "mlkem768-x25519"
  | "mlkem1024-x25519";

/** The raw parts of a public key. */
export interface PublicParts {
  /** Its type. */
  readonly type: KeyType;
  /** EC: the uncompressed point; Ed25519/X25519: 32 bytes; RSA: RSAPublicKey DER; ML-KEM: the encapsulation key. */
  readonly raw: Uint8Array;
  /** Hybrid ML-KEM keys: the X25519 public key. */
  readonly x25519?: Uint8Array;
}

/** Algorithm OIDs by use. */
export const OID = Object.freeze({
  EC_PUBLIC_KEY: "1.2.840.10045.2.1",
  RSA: "1.2.840.113549.1.1.1",
  ED25519: "1.3.101.112",
  X25519: "1.3.101.110",
});

/** EC curve per named-curve OID, with its WebCrypto name and coordinate size. */
export const CURVES: Readonly<Record<string, { type: KeyType; name: string; size: number }>> =
  Object
    .freeze({
      "1.2.840.10045.3.1.7": { type: "p256", name: "P-256", size: 32 },
      "1.3.132.0.34": { type: "p384", name: "P-384", size: 48 },
      "1.3.132.0.35": { type: "p521", name: "P-521", size: 66 },
    });

/** The named-curve OID of an EC key type. */
export const CURVE_OID: Readonly<Partial<Record<KeyType, string>>> = Object.freeze({
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  p521: "1.3.132.0.35",
});

/** ML-KEM types per OID, with their key and ciphertext sizes. */
export const MLKEM: Readonly<
  Record<string, { type: KeyType; level: 768 | 1024; hybrid: boolean; ek: number; ct: number }>
> = Object.freeze({
  "2.16.840.1.101.3.4.4.2": { type: "mlkem768", level: 768, hybrid: false, ek: 1184, ct: 1088 },
  "2.16.840.1.101.3.4.4.3": { type: "mlkem1024", level: 1024, hybrid: false, ek: 1568, ct: 1568 },
  "1.3.6.1.4.1.60545.1.1.1": {
    type: "mlkem768-x25519",
    level: 768,
    hybrid: true,
    ek: 1184,
    ct: 1088,
  },
  "1.3.6.1.4.1.60545.1.1.2": {
    type: "mlkem1024-x25519",
    level: 1024,
    hybrid: true,
    ek: 1568,
    ct: 1568,
  },
});

/**
 * The OID of a non-EC key type.
 *
 * @param type The key type.
 * @returns Its dotted OID.
 */
export function typeOid(type: KeyType): string {
  if (type === "ed25519") return OID.ED25519;
  if (type === "x25519") return OID.X25519;
  if (type === "rsa") return OID.RSA;
  const mlkem = Object.entries(MLKEM).find(([, info]) => info.type === type);
  if (mlkem) return mlkem[0];
  return OID.EC_PUBLIC_KEY;
}

/**
 * The ML-KEM parameters of a key type.
 *
 * @param type The key type.
 * @returns The sizes, or undefined for a non-ML-KEM type.
 */
export function mlkemInfo(
  type: KeyType,
): { level: 768 | 1024; hybrid: boolean; ek: number; ct: number } | undefined {
  return Object.values(MLKEM).find((info) => info.type === type);
}

/**
 * Parses SubjectPublicKeyInfo DER.
 *
 * @param der The PKIX bytes.
 * @returns The key type and raw parts.
 * @throws {SpotKeyError} When the bytes are not a PKIX key of a supported type.
 */
export function parsePkix(der: Uint8Array): PublicParts {
  const [algorithm, key, extra] = children(readOne(der, TAG.SEQUENCE));
  if (extra !== undefined) throw derFailure("it has fields after the key");
  const [algOid, params] = children(expect(algorithm, TAG.SEQUENCE, "algorithm identifier"));
  const algText = oidText(expect(algOid, TAG.OID, "algorithm OID").content);
  const bits = bitStringBytes(expect(key, TAG.BIT_STRING, "key"), "key");
  if (algText === OID.EC_PUBLIC_KEY) {
    const curve = CURVES[oidText(expect(params, TAG.OID, "named curve").content)];
    if (curve === undefined) throw derFailure("its curve is not P-256, P-384 or P-521");
    if (bits.length !== 1 + 2 * curve.size || bits[0] !== 4) {
      throw derFailure(`its ${curve.name} point is not an uncompressed point`);
    }
    return { type: curve.type, raw: bits };
  }
  if (algText === OID.ED25519 || algText === OID.X25519) {
    if (params !== undefined) throw derFailure("its algorithm has parameters");
    if (bits.length !== 32) throw derFailure("its key is not 32 bytes");
    return { type: algText === OID.ED25519 ? "ed25519" : "x25519", raw: bits };
  }
  if (algText === OID.RSA) {
    const [modulus, exponent] = children(readOne(bits, TAG.SEQUENCE));
    expect(modulus, TAG.INTEGER, "modulus");
    expect(exponent, TAG.INTEGER, "exponent");
    return { type: "rsa", raw: bits };
  }
  const mlkem = MLKEM[algText];
  if (mlkem === undefined) throw derFailure(`its algorithm ${algText} is not supported`);
  if (params !== undefined) throw derFailure("its algorithm has parameters");
  if (!mlkem.hybrid) {
    if (bits.length !== mlkem.ek) {
      throw derFailure(`its ML-KEM-${mlkem.level} key is not ${mlkem.ek} bytes`);
    }
    return { type: mlkem.type, raw: bits };
  }
  const [x, k, more] = children(readOne(bits, TAG.SEQUENCE));
  if (more !== undefined) throw derFailure("its composite key has more than two parts");
  const x25519 = bitStringBytes(expect(x, TAG.BIT_STRING, "X25519 part"), "X25519 part");
  const ek = bitStringBytes(expect(k, TAG.BIT_STRING, "ML-KEM part"), "ML-KEM part");
  if (x25519.length !== 32) throw derFailure("its X25519 part is not 32 bytes");
  if (ek.length !== mlkem.ek) {
    throw derFailure(`its ML-KEM-${mlkem.level} part is not ${mlkem.ek} bytes`);
  }
  return { type: mlkem.type, raw: ek, x25519 };
}

/**
 * Builds SubjectPublicKeyInfo DER from raw parts (not for RSA, which WebCrypto exports).
 *
 * @param parts The key type and raw parts.
 * @returns The PKIX bytes.
 */
export function buildPkix(parts: PublicParts): Uint8Array {
  const curveOid = CURVE_OID[parts.type];
  if (curveOid !== undefined) {
    return tlv(
      TAG.SEQUENCE,
      tlv(TAG.SEQUENCE, oid(OID.EC_PUBLIC_KEY), oid(curveOid)),
      bitString(parts.raw),
    );
  }
  const algorithm = tlv(TAG.SEQUENCE, oid(typeOid(parts.type)));
  if (parts.x25519 !== undefined) {
    const composite = tlv(TAG.SEQUENCE, bitString(parts.x25519), bitString(parts.raw));
    return tlv(TAG.SEQUENCE, algorithm, bitString(composite));
  }
  return tlv(TAG.SEQUENCE, algorithm, bitString(parts.raw));
}
