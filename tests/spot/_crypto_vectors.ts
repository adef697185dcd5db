/**
 * The Bottle interop vectors (`tests/fixtures/vectors/bottle_interop.json`,
 * written by the Go implementation) for the crypto tests: the four people's
 * keys as given and their derived public keys, and each vector's bytes.
 *
 * @module
 */

import { decode } from "cborg";

/** One person of the vectors. */
export interface VectorKey {
  /** The private key DER exactly as given (SEC1 for alice and bob, PKCS#8 for chloe and daniel). */
  readonly der: Uint8Array;
  /** The PKCS#8 PEM the extractor derived. */
  readonly pkcs8Pem: string;
  /** The PKIX public key the extractor derived. */
  readonly pkix: Uint8Array;
  /** The public key PEM the extractor derived. */
  readonly publicPem: string;
  /** The algorithm as described in the file. */
  readonly algorithm: string;
}

interface RawVectors {
  keys: Record<string, {
    algorithm: string;
    private_key_der_hex: string;
    derived: {
      public_key_pkix_der_hex: string;
      public_key_pem: string;
      private_key_pkcs8_pem: string;
    };
  }>;
  vectors: {
    constant: string;
    blob_hex: string;
    expected: { plaintext_utf8?: string; signed_by?: string[]; recipients?: string[] };
  }[];
}

const raw: RawVectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors/bottle_interop.json", import.meta.url)),
);

/**
 * Hex to bytes.
 *
 * @param hex Lowercase hex.
 * @returns The bytes.
 */
export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** The people by name: alice, bob, chloe, daniel. */
export const KEYS: Readonly<Record<string, VectorKey>> = Object.fromEntries(
  Object.entries(raw.keys).map(([name, key]) => [name, {
    der: fromHex(key.private_key_der_hex),
    pkcs8Pem: key.derived.private_key_pkcs8_pem,
    pkix: fromHex(key.derived.public_key_pkix_der_hex),
    publicPem: key.derived.public_key_pem,
    algorithm: key.algorithm,
  }]),
);

/** The vector blobs by constant name. */
export const BLOBS: Readonly<Record<string, Uint8Array>> = Object.fromEntries(
  raw.vectors.map((vector) => [vector.constant, fromHex(vector.blob_hex)]),
);

/** What each vector holds, as the file states it. */
export const EXPECTED: Readonly<
  Record<string, { plaintext?: string; signedBy: string[]; recipients: string[] }>
> = Object.fromEntries(
  raw.vectors.map((vector) => [vector.constant, {
    plaintext: vector.expected.plaintext_utf8,
    signedBy: vector.expected.signed_by ?? [],
    recipients: vector.expected.recipients ?? [],
  }]),
);

/** A bottle as CBOR decodes it: [header, message, format, recipients, signatures]. */
export type RawBottle = [
  Record<string, unknown>,
  Uint8Array,
  number,
  [number, Uint8Array, Uint8Array][] | null,
  [number, Uint8Array, Uint8Array][] | null,
];

/**
 * Decodes a bottle's CBOR with cborg (no Spot code involved).
 *
 * @param bytes The CBOR.
 * @returns Its five fields.
 */
export function decodeBottle(bytes: Uint8Array): RawBottle {
  return decode(bytes, { useMaps: false }) as RawBottle;
}

/**
 * Every bottle layer of a vector reachable without decryption, with the
 * signatures on it: the outer one and, through format 1, the nested ones.
 *
 * @param bytes The vector's CBOR.
 * @returns The layers, outermost first.
 */
export function clearLayers(bytes: Uint8Array): RawBottle[] {
  const layers: RawBottle[] = [];
  let bottle = decodeBottle(bytes);
  layers.push(bottle);
  while (bottle[2] === 1) {
    bottle = decodeBottle(bottle[1]);
    layers.push(bottle);
  }
  return layers;
}

/**
 * Bytes equality for assertions.
 *
 * @param a One array.
 * @param b The other.
 * @returns Whether they hold the same bytes.
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
