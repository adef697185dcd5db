/**
 * ML-KEM-768 and ML-KEM-1024 through `@noble/post-quantum` (no runtime has
 * them in WebCrypto yet): keys from gobottle's 64-byte seed (d || z, as Go's
 * crypto/mlkem), encapsulation and decapsulation.
 *
 * @module
 */

import { ml_kem1024, ml_kem768 } from "@noble/post-quantum/ml-kem.js";

/**
 * The ML-KEM functions of a security level.
 *
 * @param level 768 or 1024.
 * @returns The noble KEM.
 */
export function kem(level: 768 | 1024): typeof ml_kem768 {
  return level === 768 ? ml_kem768 : ml_kem1024;
}

/**
 * The encapsulation (public) and decapsulation keys of a seed.
 *
 * @param level 768 or 1024.
 * @param seed The 64-byte seed.
 * @returns Both keys.
 */
export function mlkemKeys(
  level: 768 | 1024,
  seed: Uint8Array,
): { publicKey: Uint8Array; secretKey: Uint8Array } {
  return kem(level).keygen(seed);
}
