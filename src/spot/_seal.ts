/**
 * The bodies of Spot messages as spotlib makes and checks them: a payload
 * for a peer is encrypted to its IDCard, bottled up and signed; one for the
 * relay (`@/...`) is only signed; a peer's message or answer must be
 * encrypted to this client and signed by a signing key of the sender's
 * IDCard.
 *
 * @module
 */

import { Bottle, type IDCard, openBottle } from "./bottle/mod.ts";
import type { PrivateKey } from "./crypto/mod.ts";
import { SpotMessageError } from "./errors.ts";
import { invalidArgument } from "../core/validate.ts";

const encoder = new TextEncoder();

/**
 * The bytes of a body given as bytes, text (UTF-8) or nothing.
 *
 * @param action What cannot happen otherwise, for the error.
 * @param body The body.
 * @returns Its bytes.
 * @throws {InvalidArgumentError} When it is neither bytes nor text.
 *
 * @example
 * ```ts
 * import { bytesOf } from "./_seal.ts";
 *
 * console.log(bytesOf("send", "hi")); // Uint8Array(2) [ 104, 105 ]
 * ```
 */
export function bytesOf(action: string, body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array();
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  throw invalidArgument(action, "body", "a Uint8Array or a string", body);
}

/**
 * Makes a message body: encrypted to `recipient` when given, then signed.
 *
 * @param key The signing key.
 * @param recipient The recipient's IDCard, or `undefined` to sign only.
 * @param payload The content.
 * @returns The bottle's CBOR.
 * @throws {SpotKeyError} When the key cannot sign or a recipient key cannot receive.
 * @throws {InvalidArgumentError} When the recipient card has no decrypt key.
 *
 * @example
 * ```ts
 * import { sealMessage } from "./_seal.ts";
 * import { PrivateKey } from "./crypto/mod.ts";
 *
 * const body = await sealMessage(await PrivateKey.generate("p256"), undefined, new Uint8Array([1]));
 * console.log(body.length > 0); // true
 * ```
 */
export async function sealMessage(
  key: PrivateKey,
  recipient: IDCard | undefined,
  payload: Uint8Array,
): Promise<Uint8Array> {
  const bottle = new Bottle(payload);
  if (recipient !== undefined) {
    await bottle.encrypt(recipient);
    bottle.bottleUp();
  }
  await bottle.sign(key);
  return bottle.encode();
}

/** What {@linkcode openMessage} found. */
export interface OpenedMessage {
  /** The content. */
  body: Uint8Array;
  /** Whether a layer was encrypted to this client. */
  encrypted: boolean;
}

/**
 * Opens a message body; with `sender`, requires it encrypted and signed by
 * the sender's card.
 *
 * @param key This client's key, to decrypt.
 * @param sender The sender's IDCard, or `undefined` to accept any signature.
 * @param body The bottle's CBOR.
 * @param from The sender's address, for the error messages.
 * @returns The content.
 * @throws {SpotMessageError} With code `unreadable`, `not_encrypted` or `wrong_signer`.
 *
 * @example
 * ```ts
 * import { openMessage, sealMessage } from "./_seal.ts";
 * import { PrivateKey } from "./crypto/mod.ts";
 *
 * const key = await PrivateKey.generate("p256");
 * const opened = await openMessage(key, undefined, await sealMessage(key, undefined, new Uint8Array([7])), "@/time");
 * console.log(opened.body[0], opened.encrypted); // 7 false
 * ```
 */
export async function openMessage(
  key: PrivateKey,
  sender: IDCard | undefined,
  body: Uint8Array,
  from: string,
): Promise<OpenedMessage> {
  let opened;
  try {
    opened = await openBottle(body, { keys: [key], idcards: sender ? [sender] : [] });
  } catch (cause) {
    throw new SpotMessageError(
      "unreadable",
      `Cannot open the message from ${from} as its bottle does not open: ${
        (cause as Error).message
      }`,
      { cause },
    );
  }
  if (sender !== undefined) {
    if (opened.decryptions === 0) {
      throw new SpotMessageError(
        "not_encrypted",
        `Cannot accept the message from ${from} as it is not encrypted to this client`,
      );
    }
    if (!opened.signers.some((signer) => sender.hasPurpose(signer.publicKey, "sign"))) {
      throw new SpotMessageError(
        "wrong_signer",
        `Cannot accept the message from ${from} as no signature is by a signing key of its IDCard`,
      );
    }
  }
  return { body: opened.message, encrypted: opened.decryptions > 0 };
}
