/**
 * Private key DER: PKCS#8 (`PRIVATE KEY`) for every key type, including the
 * ML-KEM forms gobottle writes (the 64-byte seed, or `SEQUENCE { OCTET STRING
 * x25519, OCTET STRING seed }` for the hybrid ones), and SEC1 (`EC PRIVATE
 * KEY`), which is turned into the PKCS#8 form Go and Python write.
 *
 * @module
 */

import {
  bitString,
  bitStringBytes,
  children,
  derFailure,
  expect,
  integer,
  oid,
  oidText,
  readNode,
  readOne,
  TAG,
  tlv,
} from "./_der.ts";
import { CURVE_OID, CURVES, type KeyType, MLKEM, OID } from "./_pkix.ts";

/** What a private key's DER holds. */
export interface PrivateDer {
  /** Its type. */
  readonly type: KeyType;
  /** The PKCS#8 form (the input when it was PKCS#8). */
  readonly pkcs8: Uint8Array;
  /** EC: the scalar d; Ed25519: the seed; X25519: the private key; ML-KEM: the 64-byte seed. */
  readonly secret?: Uint8Array;
  /** Hybrid ML-KEM: the X25519 private key. */
  readonly x25519?: Uint8Array;
  /** EC: the public point the key carries, if any. */
  readonly embeddedPublic?: Uint8Array;
}

/**
 * Parses PKCS#8 DER.
 *
 * @param der The bytes.
 * @returns What they hold.
 * @throws {SpotKeyError} When they are not a PKCS#8 key of a supported type.
 */
export function parsePkcs8(der: Uint8Array): PrivateDer {
  const [version, algorithm, key] = children(readOne(der, TAG.SEQUENCE));
  const v = expect(version, TAG.INTEGER, "version").content;
  if (v.length !== 1 || v[0] > 1) throw derFailure("its version is not 0 or 1");
  const [algOid, params] = children(expect(algorithm, TAG.SEQUENCE, "algorithm identifier"));
  const alg = oidText(expect(algOid, TAG.OID, "algorithm OID").content);
  const inner = expect(key, TAG.OCTET_STRING, "private key").content;
  if (alg === OID.EC_PUBLIC_KEY) {
    const curveOid = oidText(expect(params, TAG.OID, "named curve").content);
    return { ...parseEcPrivate(inner, curveOid), pkcs8: der };
  }
  if (alg === OID.ED25519 || alg === OID.X25519) {
    const secret = readOne(inner, TAG.OCTET_STRING).content;
    if (secret.length !== 32) throw derFailure("its private key is not 32 bytes");
    return { type: alg === OID.ED25519 ? "ed25519" : "x25519", pkcs8: der, secret };
  }
  if (alg === OID.RSA) {
    const fields = children(readOne(inner, TAG.SEQUENCE));
    if (fields.length < 9) throw derFailure("its RSA private key lacks fields");
    return { type: "rsa", pkcs8: der };
  }
  const mlkem = MLKEM[alg];
  if (mlkem === undefined) throw derFailure(`its algorithm ${alg} is not supported`);
  if (mlkem.hybrid) {
    const [x, s, more] = children(readOne(inner, TAG.SEQUENCE));
    if (more !== undefined) throw derFailure("its composite key has more than two parts");
    const x25519 = expect(x, TAG.OCTET_STRING, "X25519 part").content;
    const secret = expect(s, TAG.OCTET_STRING, "ML-KEM seed").content;
    if (x25519.length !== 32) throw derFailure("its X25519 part is not 32 bytes");
    if (secret.length !== 64) throw derFailure("its ML-KEM seed is not 64 bytes");
    return { type: mlkem.type, pkcs8: der, secret, x25519 };
  }
  // gobottle writes the bare 64-byte seed; RFC 9935 wraps it as [0] IMPLICIT OCTET STRING
  let secret = inner;
  if (inner.length === 66 && inner[0] === 0x80 && inner[1] === 64) secret = inner.subarray(2);
  if (secret.length !== 64) throw derFailure("its ML-KEM private key is not a 64-byte seed");
  return { type: mlkem.type, pkcs8: der, secret };
}

/**
 * Parses SEC1 `EC PRIVATE KEY` DER. Its `pkcs8` is empty: the caller builds
 * it with {@linkcode ecPkcs8} once the public point is known.
 *
 * @param der The bytes.
 * @returns What they hold.
 * @throws {SpotKeyError} When they are not a SEC1 key on a supported curve.
 */
export function parseSec1(der: Uint8Array): PrivateDer {
  return parseEcPrivate(der, undefined);
}

/**
 * The PKCS#8 DER Go's `x509.MarshalPKCS8PrivateKey` writes for an EC key.
 *
 * @param type The curve.
 * @param d The scalar, padded to the curve size.
 * @param point The uncompressed public point, left out when undefined.
 * @returns The PKCS#8 bytes.
 */
export function ecPkcs8(type: KeyType, d: Uint8Array, point: Uint8Array | undefined): Uint8Array {
  const ecPrivate = tlv(
    TAG.SEQUENCE,
    integer(Uint8Array.of(1)),
    tlv(TAG.OCTET_STRING, d),
    ...(point === undefined ? [] : [tlv(TAG.CONTEXT_1, bitString(point))]),
  );
  return tlv(
    TAG.SEQUENCE,
    integer(Uint8Array.of(0)),
    tlv(TAG.SEQUENCE, oid(OID.EC_PUBLIC_KEY), oid(CURVE_OID[type]!)),
    tlv(TAG.OCTET_STRING, ecPrivate),
  );
}

/**
 * The PKCS#8 DER gobottle writes for an ML-KEM key.
 *
 * @param type An ML-KEM key type.
 * @param seed The 64-byte seed.
 * @param x25519 The X25519 private key of a hybrid key.
 * @returns The PKCS#8 bytes.
 */
export function mlkemPkcs8(type: KeyType, seed: Uint8Array, x25519?: Uint8Array): Uint8Array {
  const algOid = Object.entries(MLKEM).find(([, info]) => info.type === type)![0];
  const inner = x25519 === undefined
    ? seed
    : tlv(TAG.SEQUENCE, tlv(TAG.OCTET_STRING, x25519), tlv(TAG.OCTET_STRING, seed));
  return tlv(
    TAG.SEQUENCE,
    integer(Uint8Array.of(0)),
    tlv(TAG.SEQUENCE, oid(algOid)),
    tlv(TAG.OCTET_STRING, inner),
  );
}

function parseEcPrivate(der: Uint8Array, outerCurve: string | undefined): PrivateDer {
  const [version, secret, ...rest] = children(readOne(der, TAG.SEQUENCE));
  const v = expect(version, TAG.INTEGER, "EC version").content;
  if (v.length !== 1 || v[0] !== 1) throw derFailure("its EC private key version is not 1");
  const d = expect(secret, TAG.OCTET_STRING, "EC private scalar").content;
  let curveOid = outerCurve;
  let embeddedPublic: Uint8Array | undefined;
  for (const field of rest) {
    if (field.tag === TAG.CONTEXT_0) {
      const named = oidText(readOne(field.content, TAG.OID).content);
      if (curveOid !== undefined && named !== curveOid) {
        throw derFailure("its two curve names differ");
      }
      curveOid = named;
    } else if (field.tag === TAG.CONTEXT_1) {
      embeddedPublic = bitStringBytes(readNode(field.content).node, "public key");
    } else {throw derFailure(
        `its EC private key has an unknown field 0x${field.tag.toString(16)}`,
      );}
  }
  if (curveOid === undefined) throw derFailure("it does not name its curve");
  const curve = CURVES[curveOid];
  if (curve === undefined) throw derFailure("its curve is not P-256, P-384 or P-521");
  if (d.length === 0 || d.length > curve.size) {
    throw derFailure(`its scalar is not ${curve.size} bytes`);
  }
  const padded = new Uint8Array(curve.size);
  padded.set(d, curve.size - d.length);
  if (
    embeddedPublic !== undefined &&
    (embeddedPublic.length !== 1 + 2 * curve.size || embeddedPublic[0] !== 4)
  ) {
    throw derFailure("its embedded public key is not an uncompressed point");
  }
  return {
    type: curve.type,
    pkcs8: outerCurve === undefined ? new Uint8Array(0) : der,
    secret: padded,
    embeddedPublic,
  };
}
