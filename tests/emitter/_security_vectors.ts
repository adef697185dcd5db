/**
 * The Emitter vectors (`tests/fixtures/vectors/emitter_api.json`, copied from
 * the real broker's tests), loaded once for the security tests.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type Json = any;

/** The whole vector file. */
export const VECTORS: Json = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/emitter_api.json", import.meta.url)),
);

/** The `test_vectors` groups. */
export const TEST_VECTORS: Json = VECTORS.test_vectors;

/** Hex text of bytes. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of hex text. */
export function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}
