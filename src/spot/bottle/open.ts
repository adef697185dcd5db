/**
 * {@linkcode openBottle}: verifies every signature of every layer over that
 * layer's message bytes, decrypts AES layers with the opener's keys, follows
 * nested CBOR and JSON bottles down to the cleartext, and reports who signed
 * and how many layers were decrypted (draft section 3.5.5). Nesting is capped
 * so a bottle of bottles cannot make the opener loop or allocate without end.
 *
 * @module
 */

import { InvalidArgumentError } from "../../core/errors.ts";
import { decryptWith, type PrivateKey, verify } from "../crypto/mod.ts";
import { Bottle, type BottleFormat } from "./bottle.ts";
import { aesGcmOpen, NONCE_BYTES, TAG_BYTES } from "./_content_cipher.ts";
import { BottleDecryptionError, BottleFormatError, BottleSignatureError } from "./errors.ts";
import type { IDCard } from "./idcard.ts";

/** How many bottles deep {@linkcode openBottle} goes by default. */
export const DEFAULT_MAX_DEPTH = 16;

/** Options of {@linkcode openBottle}. */
export interface OpenBottleOptions {
  /**
   * The private keys that may decrypt AES layers.
   *
   * @default []
   */
  keys?: readonly PrivateKey[];
  /**
   * Cards to name signers by: a signer whose key is a "sign" key of one of
   * them gets it as `idcard`.
   *
   * @default []
   */
  idcards?: readonly IDCard[];
  /**
   * How many bottles deep to go before refusing, the outer one counting as 1.
   *
   * @default 16
   */
  maxDepth?: number;
}

/** A signature that verified. */
export interface BottleSigner {
  /** The signer's PKIX public key. */
  publicKey: Uint8Array;
  /** Which layer it signed, 0 being the outermost. */
  layer: number;
  /** The card among `idcards` holding the key for signing, if any. */
  idcard?: IDCard;
}

/** What {@linkcode openBottle} found. */
export interface OpenedBottle {
  /** The innermost cleartext. */
  message: Uint8Array;
  /** The outermost bottle's format. */
  format: BottleFormat;
  /** Every verified signature, outermost layer first. */
  signers: BottleSigner[];
  /** How many AES layers were decrypted. */
  decryptions: number;
  /** The innermost bottle's header, where the content's metadata lives. */
  header: Readonly<Record<string, unknown>>;
  /** Every layer, outermost first. */
  layers: Bottle[];
}

function findCard(cards: readonly IDCard[], pkix: Uint8Array): IDCard | undefined {
  return cards.find((card) => card.hasPurpose(pkix, "sign"));
}

async function checkSignatures(
  bottle: Bottle,
  layer: number,
  cards: readonly IDCard[],
  signers: BottleSigner[],
): Promise<void> {
  for (const [index, signature] of bottle.signatures.entries()) {
    const where = `signature ${index} of layer ${layer}`;
    let valid: boolean;
    try {
      valid = await verify(signature.signer, bottle.message, signature.data);
    } catch (error) {
      throw new BottleSignatureError(
        `Cannot open bottle as the signer key of ${where} cannot verify: ${
          (error as Error).message
        }`,
        { signer: signature.signer, cause: error },
      );
    }
    if (!valid) {
      throw new BottleSignatureError(
        `Cannot open bottle as ${where} does not verify over its message`,
        { signer: signature.signer },
      );
    }
    const idcard = findCard(cards, signature.signer);
    signers.push({ publicKey: signature.signer, layer, ...(idcard ? { idcard } : {}) });
  }
}

async function decryptLayer(
  bottle: Bottle,
  layer: number,
  keys: readonly PrivateKey[],
): Promise<Uint8Array> {
  if (bottle.message.length < NONCE_BYTES + TAG_BYTES) {
    throw new BottleFormatError(
      "truncated",
      `Cannot open layer ${layer} as its ${bottle.message.length}-byte message is shorter than a nonce and a tag`,
    );
  }
  let matched = false;
  for (const recipient of bottle.recipients) {
    const key = keys.find((candidate) => candidate.publicKey.equals(recipient.recipient));
    if (key === undefined) continue;
    matched = true;
    const cek = await decryptWith(key, recipient.data);
    if (cek === undefined) continue;
    const plain = await aesGcmOpen(cek, bottle.message);
    cek.fill(0);
    if (plain !== undefined) return plain;
  }
  if (matched) {
    throw new BottleDecryptionError(
      "decrypt_failed",
      `Cannot open layer ${layer} as it does not decrypt with the matching key: it was altered or not made for it`,
    );
  }
  throw new BottleDecryptionError(
    "no_key",
    `Cannot open layer ${layer} as no key given matches its ${bottle.recipients.length} recipients: pass a recipient's private key`,
  );
}

/**
 * Opens a bottle: verifies all signatures at every layer (any failure stops
 * the opening), decrypts AES layers, decodes nested CBOR and JSON bottles,
 * and returns the cleartext with the verified signers and the number of
 * decryptions.
 *
 * @param input The CBOR bottle bytes, or a decoded bottle.
 * @param options The keys to decrypt with, cards to name signers, the depth limit.
 * @returns The cleartext and what was verified on the way.
 * @throws {BottleFormatError} When a layer is not a valid bottle or nesting passes `maxDepth`.
 * @throws {BottleSignatureError} When a signature does not verify.
 * @throws {BottleDecryptionError} When an encrypted layer has no matching key or does not decrypt.
 * @throws {InvalidArgumentError} When `maxDepth` is not a positive integer.
 * @example Open a signed, encrypted message
 * ```ts
 * import { Bottle, openBottle } from "./mod.ts";
 * import { PrivateKey } from "../crypto/mod.ts";
 *
 * const alice = await PrivateKey.generate("p256");
 * const bob = await PrivateKey.generate("ed25519");
 * const bottle = await new Bottle("hi Bob").sign(alice);
 * await bottle.encrypt(bob.publicKey);
 * const opened = await openBottle(bottle.encode(), { keys: [bob] });
 * console.log(new TextDecoder().decode(opened.message), opened.decryptions); // "hi Bob" 1
 * ```
 */
export async function openBottle(
  input: Uint8Array | Bottle,
  options: OpenBottleOptions = {},
): Promise<OpenedBottle> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new InvalidArgumentError(
      "maxDepth",
      `Cannot open bottle as 'maxDepth' must be a positive integer: current value is ${maxDepth}`,
    );
  }
  const keys = options.keys ?? [];
  const cards = options.idcards ?? [];
  const first = input instanceof Bottle ? input : Bottle.decode(input);
  const layers: Bottle[] = [];
  const signers: BottleSigner[] = [];
  let decryptions = 0;
  let bottle = first;
  for (let layer = 0;; layer++) {
    if (layer >= maxDepth) {
      throw new BottleFormatError(
        "too_deep",
        `Cannot open bottle as it nests more than ${maxDepth} bottles deep`,
      );
    }
    layers.push(bottle);
    await checkSignatures(bottle, layer, cards, signers);
    const where = `layer ${layer + 1}`;
    switch (bottle.format) {
      case 0:
        return {
          message: bottle.message,
          format: first.format,
          signers,
          decryptions,
          header: bottle.header,
          layers,
        };
      case 1:
        bottle = Bottle.decode(bottle.message);
        break;
      case 3:
        bottle = Bottle.decodeJson(bottle.message);
        break;
      case 2: {
        const plain = await decryptLayer(bottle, layer, keys);
        decryptions++;
        try {
          bottle = Bottle.decode(plain);
        } catch (error) {
          if (error instanceof BottleFormatError) {
            throw new BottleFormatError(error.code, `${error.message} (decrypted ${where})`, {
              cause: error,
            });
          }
          throw error;
        }
        break;
      }
    }
  }
}
