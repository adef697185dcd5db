/**
 * ML-KEM-768 and ML-KEM-1024 through `@noble/post-quantum` (no runtime has
 * them in WebCrypto yet): keys from gobottle's 64-byte seed (d || z, as Go's
 * crypto/mlkem), encapsulation and decapsulation. `@noble/post-quantum` is
 * loaded with `import()` when an ML-KEM key is first used, so a bundle keeps
 * it in a chunk of its own.
 *
 * @module
 */

import type { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { lazyModule } from "./_lazy_module.ts";

/** One security level's ML-KEM functions, as `@noble/post-quantum` gives them. */
export type Kem = typeof ml_kem768;

const loadNobleKem = lazyModule(
  "@noble/post-quantum",
  () => import("@noble/post-quantum/ml-kem.js"),
);

/**
 * The ML-KEM functions of a security level, loaded on first use.
 *
 * @param level 768 or 1024.
 * @returns The noble KEM.
 * @throws {SpotKeyError} When `@noble/post-quantum` cannot be loaded.
 */
export async function kem(level: 768 | 1024): Promise<Kem> {
  const { ml_kem768, ml_kem1024 } = await loadNobleKem();
  return level === 768 ? ml_kem768 : ml_kem1024;
}

/**
 * The encapsulation (public) and decapsulation keys of a seed.
 *
 * @param level 768 or 1024.
 * @param seed The 64-byte seed.
 * @returns Both keys.
 */
export async function mlkemKeys(
  level: 768 | 1024,
  seed: Uint8Array,
): Promise<{ publicKey: Uint8Array; secretKey: Uint8Array }> {
  return (await kem(level)).keygen(seed);
}
