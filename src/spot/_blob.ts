/**
 * Blob bodies as spotlib's `StoreBlob` and `FetchBlob` make and check them:
 * the value encrypted to the client's own IDCard, bottled up and signed;
 * read back only if it opens with the client's key, is signed by its card
 * and was encrypted.
 *
 * @module
 */

import { Bottle, type IDCard, openBottle } from "./bottle/mod.ts";
import type { PrivateKey } from "./crypto/mod.ts";
import { SpotMessageError } from "./errors.ts";

/**
 * Seals a blob value for its owner.
 *
 * @param key The owner's key.
 * @param card The owner's IDCard.
 * @param value The content.
 * @returns The bottle's CBOR, as `@/store_blob` keeps it.
 * @throws {SpotKeyError} When the key cannot sign or the card's keys cannot receive.
 *
 * @example
 * ```ts
 * import { openBlob, sealBlob } from "./_blob.ts";
 * import { IDCard } from "./bottle/mod.ts";
 * import { PrivateKey } from "./crypto/mod.ts";
 *
 * const key = await PrivateKey.generate("p256");
 * const card = IDCard.create(key);
 * card.addKeyPurpose(key, ["decrypt"]);
 * const value = await openBlob(key, card, await sealBlob(key, card, new Uint8Array([1])), "a");
 * console.log(value[0]); // 1
 * ```
 */
export async function sealBlob(
  key: PrivateKey,
  card: IDCard,
  value: Uint8Array,
): Promise<Uint8Array> {
  const bottle = await new Bottle(value).encrypt(card);
  await bottle.bottleUp().sign(key);
  return bottle.encode();
}

/**
 * Opens a blob and checks it is the owner's.
 *
 * @param key The owner's key.
 * @param card The owner's IDCard.
 * @param stored The bottle's CBOR, as `@/fetch_blob` answers it.
 * @param name The blob's name, for the error messages.
 * @returns The content.
 * @throws {SpotMessageError} With code `unreadable`, `wrong_signer` or `not_encrypted`.
 *
 * @example
 * ```ts
 * import { openBlob } from "./_blob.ts";
 * import { IDCard } from "./bottle/mod.ts";
 * import { PrivateKey } from "./crypto/mod.ts";
 *
 * const key = await PrivateKey.generate("p256");
 * await openBlob(key, IDCard.create(key), new Uint8Array([0]), "a").catch((error) => console.log(error.code)); // "unreadable"
 * ```
 */
export async function openBlob(
  key: PrivateKey,
  card: IDCard,
  stored: Uint8Array,
  name: string,
): Promise<Uint8Array> {
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  let opened;
  try {
    opened = await openBottle(stored, { keys: [key], idcards: [card] });
  } catch (cause) {
    throw new SpotMessageError(
      "unreadable",
      `Cannot read blob ${shown} as it does not open: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!opened.signers.some((signer) => card.hasPurpose(signer.publicKey, "sign"))) {
    throw new SpotMessageError(
      "wrong_signer",
      `Cannot trust blob ${shown} as this client did not sign it`,
    );
  }
  if (opened.decryptions === 0) {
    throw new SpotMessageError(
      "not_encrypted",
      `Cannot trust blob ${shown} as it is not encrypted`,
    );
  }
  return opened.message.slice();
}
