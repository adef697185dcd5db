/**
 * The program `crypto_lazy_chunks_test.ts` bundles with code splitting and
 * runs: with Ed25519 and X25519 forced onto `@noble/curves`, it signs,
 * verifies and round-trips a content key for an Ed25519 key and for each
 * ML-KEM key type, and prints one JSON line of what each gave (`true`, or
 * the error's code and message).
 *
 * @module
 */

import { forceBackend } from "../../src/spot/crypto/_backend.ts";
import {
  decryptWith,
  encryptFor,
  type KeyType,
  PrivateKey,
  sign,
  verify,
} from "../../src/spot/crypto/mod.ts";

/** What the program prints, per key type. */
export type LazyChunksReport = Record<string, true | string>;

forceBackend("noble");
const message = new TextEncoder().encode("lazy chunks");
const cek = crypto.getRandomValues(new Uint8Array(32));
const same = (a: Uint8Array | undefined) =>
  a !== undefined && a.length === cek.length && a.every((x, i) => x === cek[i]);
const report: LazyChunksReport = {};
for (const type of ["ed25519", "mlkem768", "mlkem1024-x25519"] as KeyType[]) {
  try {
    const key = await PrivateKey.generate(type);
    const signed = type !== "ed25519" ||
      await verify(key.publicKey, message, await sign(key, message));
    const opened = same(await decryptWith(key, await encryptFor(key.publicKey, cek)));
    report[type] = signed && opened ? true : `signed ${signed}, opened ${opened}`;
  } catch (error) {
    report[type] = `${(error as { code?: string }).code}: ${(error as Error).message}`;
  }
}
console.log(JSON.stringify(report));
