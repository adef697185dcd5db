/**
 * The Spot crypto layer (internal for now): keys of every type Bottle uses,
 * imported and exported as PKIX, PKCS#8 and SEC1 in DER and PEM; signatures
 * as Bottle makes them; and the per-recipient encryption of a content key.
 * WebCrypto does the work wherever the runtime has the algorithm;
 * `@noble/curves` does Ed25519 and X25519 where it does not, and
 * `@noble/post-quantum` does ML-KEM. Both load with `import()` when first
 * needed, so a bundle keeps them in chunks of their own.
 *
 * @module
 */

export type { KeyType } from "./_pkix.ts";
export { SpotKeyError } from "./errors.ts";
export { type PemBlock, pemDecode, pemEncode } from "./pem.ts";
export { PublicKey } from "./public_key.ts";
export { type GenerateKeyOptions, PrivateKey } from "./private_key.ts";
export { type EcdsaHash, sign, type SignatureOptions, verify } from "./signature.ts";
export { decryptWith, encryptFor } from "./recipient.ts";
export { type CryptoBackends, cryptoBackends } from "./backends.ts";
export type { Backend } from "./_backend.ts";
export { EdgewireError } from "../../core/errors.ts";
