/**
 * {@linkcode cryptoBackends}: which implementation runs Ed25519 and X25519 in
 * this runtime, WebCrypto or `@noble/curves`.
 *
 * @module
 */

import { type Backend, backendFor } from "./_backend.ts";

/** The implementation of each algorithm that may fall back to `@noble/curves`. */
export interface CryptoBackends {
  /** Ed25519 signatures. */
  readonly ed25519: Backend;
  /** X25519 key agreement (X25519 and Ed25519 recipients, hybrid ML-KEM). */
  readonly x25519: Backend;
}

/**
 * Reports, after probing once, where Ed25519 and X25519 run.
 *
 * @returns `"webcrypto"` or `"noble"` for each.
 * @throws {never} Never.
 * @example
 * ```ts
 * import { cryptoBackends } from "./backends.ts";
 *
 * console.log(await cryptoBackends()); // { ed25519: "webcrypto", x25519: "webcrypto" } in Deno
 * ```
 */
export async function cryptoBackends(): Promise<CryptoBackends> {
  return { ed25519: await backendFor("Ed25519"), x25519: await backendFor("X25519") };
}
