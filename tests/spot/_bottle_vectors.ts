/**
 * The Go-written Bottle and IDCard vectors (`bottle_interop.json`) for the
 * bottle and IDCard tests: the people's keys loaded through the crypto
 * module, each vector's bytes and what the file says opening it shows, and an
 * independent opener built only on cborg, `@noble/curves`, `@noble/hashes`
 * and WebCrypto's AES-GCM, so bottles written here are checked by code that
 * shares nothing with `src/spot/bottle/`.
 *
 * @module
 */

import { decode } from "cborg";
import { p256 } from "@noble/curves/nist.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { PrivateKey } from "../../src/spot/crypto/mod.ts";

/** One layer as the extractor's own opener saw it. */
export interface ObservedLayer {
  header: Record<string, string>;
  format: number;
  message_len: number;
  signatures?: { type: number; signer: string; verified: boolean }[];
  recipients?: { type: number; recipient: string }[];
  decrypted_with?: string;
}

/** One way of opening a vector and its outcome. */
export interface OpenWith {
  opener_keys: string[];
  result: "ok" | "error";
  plaintext_utf8?: string;
  decryption_count?: number;
  error?: string;
  observed_layers?: ObservedLayer[];
}

/** One vector of the file. */
export interface Vector {
  constant: string;
  test: string;
  blob_hex: string;
  blob_base64_as_given: string;
  blob_length: number;
  expected: {
    plaintext_utf8?: string;
    signed_by?: string[];
    decryption_count?: number;
    recipients?: string[];
    meta?: Record<string, string>;
    key_purposes?: Record<string, string[]>;
  };
  open_with?: OpenWith[];
  observed_layers?: ObservedLayer[];
  decoded_idcard?: {
    cbor_hex: string;
    self: string;
    self_pkix_der_hex: string;
    issued: { value: number };
  };
}

interface RawFile {
  keys: Record<string, {
    private_key_der_hex: string;
    derived: { public_key_pkix_der_hex: string };
  }>;
  vectors: Vector[];
}

const raw: RawFile = JSON.parse(
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

/**
 * Bytes to lowercase hex.
 *
 * @param bytes The bytes.
 * @returns The hex.
 */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Every vector of the file. */
export const VECTORS: readonly Vector[] = raw.vectors;

/** The bottle vectors (those with ways to open them). */
export const BOTTLE_VECTORS: readonly Vector[] = VECTORS.filter((v) => v.open_with);

/** The IDCard vectors. */
export const IDCARD_VECTORS: readonly Vector[] = VECTORS.filter((v) => v.decoded_idcard);

/** Each person's PKIX public key as the file derived it, by name. */
export const PKIX: Readonly<Record<string, Uint8Array>> = Object.fromEntries(
  Object.entries(raw.keys).map((
    [name, key],
  ) => [name, fromHex(key.derived.public_key_pkix_der_hex)]),
);

/** The private key DER exactly as given, by name. */
export const PRIVATE_DER: Readonly<Record<string, Uint8Array>> = Object.fromEntries(
  Object.entries(raw.keys).map(([name, key]) => [name, fromHex(key.private_key_der_hex)]),
);

/** The people's private keys, loaded through the crypto module. */
export const KEYS: Readonly<Record<string, PrivateKey>> = Object.fromEntries(
  await Promise.all(
    Object.entries(PRIVATE_DER).map(async ([name, der]) => [name, await PrivateKey.fromDer(der)]),
  ),
);

/**
 * The name of the person whose PKIX key this is.
 *
 * @param pkix A PKIX public key.
 * @returns The name, or "unknown".
 */
export function nameOf(pkix: Uint8Array): string {
  return Object.entries(PKIX).find(([, key]) => toHex(key) === toHex(pkix))?.[0] ?? "unknown";
}

// ---- The independent opener ----

/** What the oracle found. */
export interface OracleResult {
  message: Uint8Array;
  signers: string[];
  decryptions: number;
  formats: number[];
}

/**
 * The raw 32-byte secret of a vector key, read at its fixed DER offset.
 *
 * @param name alice, bob, chloe or daniel.
 * @returns The P-256 scalar or the Ed25519 seed.
 */
export function rawSecret(name: string): Uint8Array {
  const der = PRIVATE_DER[name];
  // SEC1 P-256: 30 77 02 01 01 04 20 <32>; Ed25519 PKCS#8: 30 2e ... 04 22 04 20 <32>
  return der[0] === 0x30 && der[1] === 0x77 ? der.slice(7, 39) : der.slice(16, 48);
}

function oracleVerify(signer: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signer.length === 91) {
    return p256.verify(signature, message, signer.slice(-65), { format: "der", lowS: false });
  }
  if (signer.length === 44) return ed25519.verify(signature, message, signer.slice(-32));
  throw new Error(`the oracle knows no signer key of ${signer.length} bytes`);
}

async function aesGcmOpen(key: Uint8Array, sealed: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-GCM", false, [
    "decrypt",
  ]);
  return new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.slice(0, 12) },
      cryptoKey,
      sealed.slice(12),
    ),
  );
}

function readUvarint(data: Uint8Array, offset: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = data[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, offset];
    shift += 7;
  }
}

async function oracleCek(name: string, data: Uint8Array): Promise<Uint8Array> {
  if (data[0] !== 0) throw new Error(`the oracle reads only version 0 recipient data`);
  const [length, start] = readUvarint(data, 1);
  const ephemeral = data.slice(start, start + length);
  const rest = data.slice(start + length);
  let shared: Uint8Array;
  if (PKIX[name].length === 91) {
    shared = p256.getSharedSecret(rawSecret(name), ephemeral.slice(-65)).slice(1);
  } else {
    const secret = ed25519.utils.toMontgomerySecret(rawSecret(name));
    shared = x25519.getSharedSecret(secret, ephemeral.slice(-32));
  }
  return await aesGcmOpen(sha256(shared), rest);
}

/**
 * Opens a CBOR bottle without any of the bottle module's code.
 *
 * @param bytes The bottle.
 * @param names The vector people whose keys may decrypt.
 * @returns The cleartext, the names of the signers and the decryptions.
 */
export async function oracleOpen(bytes: Uint8Array, names: string[] = []): Promise<OracleResult> {
  const signers: string[] = [];
  const formats: number[] = [];
  let decryptions = 0;
  for (let depth = 0; depth < 16; depth++) {
    const [, message, format, recipients, signatures] = decode(bytes, { useMaps: true }) as [
      unknown,
      Uint8Array,
      number,
      [number, Uint8Array, Uint8Array][] | null,
      [number, Uint8Array, Uint8Array][] | null,
    ];
    formats.push(format);
    for (const [, signer, data] of signatures ?? []) {
      if (!oracleVerify(signer, message, data)) throw new Error("the oracle refused a signature");
      signers.push(nameOf(signer));
    }
    if (format === 0) return { message, signers, decryptions, formats };
    if (format === 1) {
      bytes = message;
      continue;
    }
    if (format !== 2) throw new Error(`the oracle knows no format ${format}`);
    const entry = (recipients ?? []).find(([, key]) => names.includes(nameOf(key)));
    if (!entry) throw new Error("the oracle has no key for any recipient");
    bytes = await aesGcmOpen(await oracleCek(nameOf(entry[1]), entry[2]), message);
    decryptions++;
  }
  throw new Error("the oracle went 16 bottles deep");
}
