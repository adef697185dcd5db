/**
 * The content cipher of format 2 (draft section 9.1): AES-256-GCM with a
 * 12-byte nonce, the message being nonce || ciphertext || tag. WebCrypto
 * everywhere: every runtime has AES-GCM. Internal.
 *
 * @module
 */

/** The content key's length in bytes (AES-256). */
export const CEK_BYTES = 32;

/** The nonce's length in bytes. */
export const NONCE_BYTES = 12;

/** The authentication tag's length in bytes. */
export const TAG_BYTES = 16;

function importKey(cek: Uint8Array, usage: KeyUsage): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new Uint8Array(cek), "AES-GCM", false, [usage]);
}

/**
 * Seals content.
 *
 * @param cek The 32-byte content key.
 * @param nonce The 12-byte nonce.
 * @param plain The content.
 * @returns nonce || ciphertext || tag.
 * @throws {DOMException} When the key is not 32 bytes.
 * @example
 * ```ts
 * import { aesGcmOpen, aesGcmSeal } from "./_content_cipher.ts";
 *
 * const cek = crypto.getRandomValues(new Uint8Array(32));
 * const sealed = await aesGcmSeal(cek, new Uint8Array(12), new Uint8Array([1, 2]));
 * console.log(sealed.length, await aesGcmOpen(cek, sealed)); // 30 Uint8Array(2) [ 1, 2 ]
 * ```
 */
export async function aesGcmSeal(
  cek: Uint8Array,
  nonce: Uint8Array,
  plain: Uint8Array,
): Promise<Uint8Array> {
  const key = await importKey(cek, "encrypt");
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: new Uint8Array(nonce) },
      key,
      new Uint8Array(plain),
    ),
  );
  const out = new Uint8Array(NONCE_BYTES + sealed.length);
  out.set(nonce, 0);
  out.set(sealed, NONCE_BYTES);
  return out;
}

/**
 * Opens sealed content.
 *
 * @param cek The 32-byte content key.
 * @param message nonce || ciphertext || tag.
 * @returns The content, or `undefined` when it fails authentication or the key is not 32 bytes.
 * @throws Never.
 * @example
 * ```ts
 * import { aesGcmOpen } from "./_content_cipher.ts";
 *
 * console.log(await aesGcmOpen(new Uint8Array(32), new Uint8Array(28))); // undefined
 * ```
 */
export async function aesGcmOpen(
  cek: Uint8Array,
  message: Uint8Array,
): Promise<Uint8Array | undefined> {
  if (cek.length !== CEK_BYTES || message.length < NONCE_BYTES + TAG_BYTES) return undefined;
  try {
    const key = await importKey(cek, "decrypt");
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: message.slice(0, NONCE_BYTES) },
        key,
        message.slice(NONCE_BYTES),
      ),
    );
  } catch {
    return undefined;
  }
}
