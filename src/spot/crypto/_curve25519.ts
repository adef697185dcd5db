/**
 * Ed25519 and X25519 on raw 32-byte keys, through WebCrypto or, where the
 * runtime lacks them, `@noble/curves`; and the birational map that turns an
 * Ed25519 key into the X25519 key Bottle encrypts to. `@noble/curves` is
 * loaded with `import()` only when the fallback is used, so a bundle keeps it
 * in a chunk of its own that runtimes with WebCrypto Ed25519 and X25519 never
 * fetch.
 *
 * @module
 */

import { ab } from "./_bytes.ts";
import { backendFor } from "./_backend.ts";
import { lazyModule } from "./_lazy_module.ts";
import { buildPkix } from "./_pkix.ts";

const loadNoble = lazyModule("@noble/curves", () => import("@noble/curves/ed25519.js"));

const X25519_PKCS8_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
); // deno-fmt-ignore
const ED25519_PKCS8_PREFIX = Uint8Array.of(
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
); // deno-fmt-ignore

/**
 * The PKCS#8 DER of a raw Ed25519 seed or X25519 private key.
 *
 * @param type Which algorithm.
 * @param raw The 32 private bytes.
 * @returns The PKCS#8 bytes.
 */
export function curvePkcs8(type: "ed25519" | "x25519", raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(48);
  out.set(type === "ed25519" ? ED25519_PKCS8_PREFIX : X25519_PKCS8_PREFIX, 0);
  out.set(raw, 16);
  return out;
}

/**
 * The public key of a raw Ed25519 seed or X25519 private key.
 *
 * @param type Which algorithm.
 * @param raw The 32 private bytes.
 * @returns The 32 public bytes.
 */
export async function curvePublic(
  type: "ed25519" | "x25519",
  raw: Uint8Array,
): Promise<Uint8Array> {
  const name = type === "ed25519" ? "Ed25519" : "X25519";
  if ((await backendFor(name)) === "noble") {
    const { ed25519, x25519 } = await loadNoble();
    return type === "ed25519" ? ed25519.getPublicKey(raw) : x25519.getPublicKey(raw);
  }
  const usages: KeyUsage[] = type === "ed25519" ? ["sign"] : ["deriveBits"];
  const key = await crypto.subtle.importKey(
    "pkcs8",
    ab(curvePkcs8(type, raw)),
    { name },
    true,
    usages,
  );
  const jwk = await crypto.subtle.exportKey("jwk", key);
  return base64urlBytes(jwk.x ?? "");
}

/**
 * A fresh random X25519 key pair.
 *
 * @returns The raw private and public keys.
 */
export async function x25519Generate(): Promise<{ secret: Uint8Array; pub: Uint8Array }> {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  return { secret, pub: await curvePublic("x25519", secret) };
}

/**
 * The X25519 shared secret.
 *
 * @param secret Our raw private key.
 * @param pub Their raw public key.
 * @returns 32 bytes, or undefined when the peer's key is a low-order point.
 */
export async function x25519Shared(
  secret: Uint8Array,
  pub: Uint8Array,
): Promise<Uint8Array | undefined> {
  if ((await backendFor("X25519")) === "noble") {
    const { x25519 } = await loadNoble();
    try {
      return x25519.getSharedSecret(secret, pub);
    } catch {
      return undefined;
    }
  }
  try {
    const priv = await crypto.subtle.importKey(
      "pkcs8",
      ab(curvePkcs8("x25519", secret)),
      { name: "X25519" },
      false,
      ["deriveBits"],
    );
    const peer = await crypto.subtle.importKey("raw", ab(pub), { name: "X25519" }, false, []);
    const bits = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "X25519", public: peer } as EcdhKeyDeriveParams,
        priv,
        256,
      ),
    );
    return bits.every((b) => b === 0) ? undefined : bits;
  } catch {
    return undefined;
  }
}

/**
 * Signs with a raw Ed25519 seed.
 *
 * @param seed The 32-byte seed.
 * @param message The bytes to sign.
 * @returns The 64-byte signature.
 */
export async function ed25519Sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  if ((await backendFor("Ed25519")) === "noble") {
    return (await loadNoble()).ed25519.sign(message, seed);
  }
  const key = await crypto.subtle.importKey(
    "pkcs8",
    ab(curvePkcs8("ed25519", seed)),
    { name: "Ed25519" },
    false,
    [
      "sign",
    ],
  );
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, ab(message)));
}

/**
 * Verifies an Ed25519 signature (RFC 8032 rules, as Go's crypto/ed25519).
 *
 * @param pub The 32-byte public key.
 * @param message The signed bytes.
 * @param signature The signature; anything but 64 bytes fails.
 * @returns Whether it verifies.
 */
export async function ed25519Verify(
  pub: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (signature.length !== 64) return false;
  if ((await backendFor("Ed25519")) === "noble") {
    const { ed25519 } = await loadNoble();
    try {
      return ed25519.verify(signature, message, pub, { zip215: false });
    } catch {
      return false;
    }
  }
  try {
    const key = await crypto.subtle.importKey("raw", ab(pub), { name: "Ed25519" }, false, [
      "verify",
    ]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, ab(signature), ab(message));
  } catch {
    return false;
  }
}

const P = (1n << 255n) - 19n;

/**
 * The X25519 public key of an Ed25519 public key: u = (1 + y) / (1 - y) mod p.
 *
 * @param pub The 32-byte Ed25519 public key.
 * @returns The 32-byte X25519 public key, or undefined for the point y = 1.
 */
export function edwardsToMontgomery(pub: Uint8Array): Uint8Array | undefined {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? pub[i] & 0x7f : pub[i]);
  y %= P;
  const denominator = (1n - y + P) % P;
  if (denominator === 0n) return undefined;
  const u = ((1n + y) * modPow(denominator, P - 2n)) % P;
  const out = new Uint8Array(32);
  let rest = u;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/**
 * The X25519 private key of an Ed25519 seed: the first half of SHA-512(seed), clamped.
 *
 * @param seed The 32-byte Ed25519 seed.
 * @returns The 32-byte X25519 private key.
 */
export async function edwardsSecretToMontgomery(seed: Uint8Array): Promise<Uint8Array> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", ab(seed))).slice(0, 32);
  digest[0] &= 248;
  digest[31] &= 127;
  digest[31] |= 64;
  return digest;
}

/**
 * The PKIX bytes of a raw X25519 public key.
 *
 * @param pub The 32 bytes.
 * @returns SubjectPublicKeyInfo DER.
 */
export function x25519Pkix(pub: Uint8Array): Uint8Array {
  return buildPkix({ type: "x25519", raw: pub });
}

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base % P;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

function base64urlBytes(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
