/**
 * {@linkcode Bottle}: the container of draft-karpeles-bottle-idcard-01, a
 * message with a header, a format, recipients and signatures, that nests
 * ("bottles up") into itself. Signing and encrypting follow the Go
 * implementation: signing bottles up first when the header is not empty,
 * encrypting bottles up first unless the bottle is already a clean nested
 * bottle (format 1 without signatures).
 *
 * @module
 */

import { InvalidArgumentError } from "../../core/errors.ts";
import { encryptFor, type PrivateKey, PublicKey, sign } from "../crypto/mod.ts";
import {
  type BottleFormat,
  type BottleParts,
  decodeBottleCbor,
  decodeBottleJson,
  encodeBottleCbor,
  encodeBottleJson,
  type MessageRecipient,
  type MessageSignature,
} from "./_bottle_codec.ts";
import { aesGcmSeal, CEK_BYTES, NONCE_BYTES } from "./_content_cipher.ts";

export type { BottleFormat, MessageRecipient, MessageSignature };

/** The formats by name (draft section 3.1). */
export const BottleFormats: {
  /** The message is the content. */
  readonly ClearText: 0;
  /** The message is a CBOR Bottle. */
  readonly CborBottle: 1;
  /** The message is nonce, AES-256-GCM ciphertext and tag of a CBOR Bottle. */
  readonly Aes: 2;
  /** The message is a JSON Bottle. */
  readonly JsonBottle: 3;
} = Object.freeze({ ClearText: 0, CborBottle: 1, Aes: 2, JsonBottle: 3 });

/** Fills the array with random bytes and returns it, as `crypto.getRandomValues` does. */
export type RandomSource = (bytes: Uint8Array) => Uint8Array;

/** Something that holds keys by purpose, such as an IDCard: encryption goes to its "decrypt" keys. */
export interface KeyHolder {
  /**
   * The PKIX public keys fit for a purpose.
   *
   * @param purpose "decrypt" when encrypting.
   * @returns The keys.
   */
  getKeys(purpose: string): readonly Uint8Array[];
}

/** A recipient of {@linkcode Bottle.encrypt}: a public key, its PKIX DER bytes, or a card. */
export type EncryptionTarget = PublicKey | Uint8Array | KeyHolder;

/** Options of the {@linkcode Bottle} constructor. */
export interface BottleOptions {
  /**
   * The header entries. Values must have a CBOR encoding.
   *
   * @default {}
   */
  header?: Record<string, unknown>;
  /**
   * The format of `message`.
   *
   * @default 0
   */
  format?: BottleFormat;
  /**
   * The source of the content key and nonce {@linkcode Bottle.encrypt} draws.
   *
   * @default crypto.getRandomValues
   */
  random?: RandomSource;
}

const defaultRandom: RandomSource = (bytes) => crypto.getRandomValues(bytes);

function freezeHeader(entries: Record<string, unknown>): Readonly<Record<string, unknown>> {
  const header: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(entries)) {
    if (value !== undefined) header[key] = value;
  }
  return Object.freeze(header);
}

/**
 * A message with a header, recipients and signatures, that can be signed,
 * encrypted and nested, and encoded as CBOR or JSON.
 *
 * @example Sign a message and read it back
 * ```ts
 * import { Bottle } from "./bottle.ts";
 * import { PrivateKey } from "../crypto/mod.ts";
 *
 * const key = await PrivateKey.generate("p256");
 * const bottle = await new Bottle("hello").sign(key);
 * const again = Bottle.decode(bottle.encode());
 * console.log(new TextDecoder().decode(again.message), again.signatures.length); // "hello" 1
 * ```
 */
export class Bottle {
  #header: Readonly<Record<string, unknown>>;
  /** The header's bytes as decoded, kept until the header changes. */
  #headerRaw: Uint8Array | undefined;
  #message: Uint8Array;
  #format: BottleFormat;
  #recipients: MessageRecipient[] = [];
  #signatures: MessageSignature[] = [];
  readonly #random: RandomSource;

  /**
   * Creates a Bottle holding a message.
   *
   * @param message The content: bytes, or text written as UTF-8.
   * @param options The header, format and random source.
   * @throws {InvalidArgumentError} When the message is neither bytes nor text, or the format is not 0 to 3.
   */
  constructor(message: Uint8Array | string, options: BottleOptions = {}) {
    if (typeof message === "string") message = new TextEncoder().encode(message);
    if (!(message instanceof Uint8Array)) {
      throw new InvalidArgumentError(
        "message",
        `Cannot create bottle as 'message' must be a Uint8Array or a string: current value is ${typeof message}`,
      );
    }
    const format = options.format ?? 0;
    if (![0, 1, 2, 3].includes(format)) {
      throw new InvalidArgumentError(
        "format",
        `Cannot create bottle as 'format' must be 0, 1, 2 or 3: current value is ${format}`,
      );
    }
    this.#message = message;
    this.#format = format;
    this.#header = freezeHeader(options.header ?? {});
    this.#random = options.random ?? defaultRandom;
  }

  /** The header entries, frozen: change them with {@linkcode Bottle.setHeader}. */
  get header(): Readonly<Record<string, unknown>> {
    return this.#header;
  }

  /** The message bytes: content, a nested Bottle, or ciphertext, as `format` says. */
  get message(): Uint8Array {
    return this.#message;
  }

  /** The format of the message (0 cleartext, 1 CBOR Bottle, 2 AES, 3 JSON Bottle). */
  get format(): BottleFormat {
    return this.#format;
  }

  /** The keys the content key is encrypted for. */
  get recipients(): readonly MessageRecipient[] {
    return this.#recipients;
  }

  /** The signatures over the message bytes. */
  get signatures(): readonly MessageSignature[] {
    return this.#signatures;
  }

  /**
   * Sets one header entry, or removes it when `value` is `undefined`.
   *
   * @param name The entry's name.
   * @param value Its value, which must have a CBOR encoding.
   * @returns This bottle.
   * @throws Never.
   */
  setHeader(name: string, value: unknown): this {
    this.#header = freezeHeader({ ...this.#header, [name]: value });
    this.#headerRaw = undefined;
    return this;
  }

  /**
   * Nests this bottle inside itself: the message becomes this bottle's CBOR,
   * the format 1, and the header, recipients and signatures are cleared.
   *
   * @returns This bottle.
   * @throws {TypeError} When a header value has no CBOR encoding.
   */
  bottleUp(): this {
    this.#message = this.encode();
    this.#format = 1;
    this.#header = freezeHeader({});
    this.#headerRaw = undefined;
    this.#recipients = [];
    this.#signatures = [];
    return this;
  }

  /**
   * Signs the message bytes, bottling up first when the header is not empty
   * so the header is signed too.
   *
   * @param key The signer's private key (ECDSA P-256/P-384, Ed25519 or RSA).
   * @returns This bottle, once signed.
   * @throws {SpotKeyError} When the key cannot sign.
   */
  async sign(key: PrivateKey): Promise<this> {
    if (Object.keys(this.#header).length > 0) this.bottleUp();
    const data = await sign(key, this.#message);
    this.#signatures.push({ type: 0, signer: key.publicKey.pkix, data });
    return this;
  }

  /**
   * Encrypts the bottle for recipients: bottles up unless this is a clean
   * nested bottle, then seals the message with a random AES-256-GCM content
   * key and encrypts that key for each recipient. An IDCard (anything with
   * `getKeys`) stands for all its "decrypt" keys.
   *
   * @param recipients Public keys, PKIX DER bytes or IDCards.
   * @returns This bottle, once encrypted.
   * @throws {InvalidArgumentError} When there is no recipient key at all.
   * @throws {SpotKeyError} When a key does not parse or cannot receive.
   */
  async encrypt(...recipients: EncryptionTarget[]): Promise<this> {
    const keys: Uint8Array[] = [];
    for (const target of recipients) {
      if (target instanceof Uint8Array) keys.push(target);
      else if (target instanceof PublicKey) keys.push(target.pkix);
      else if (target !== null && typeof (target as KeyHolder)?.getKeys === "function") {
        keys.push(...target.getKeys("decrypt"));
      } else {
        throw new InvalidArgumentError(
          "recipients",
          `Cannot encrypt bottle as a recipient must be a PublicKey, PKIX bytes or an IDCard: current value is ${typeof target}`,
        );
      }
    }
    if (keys.length === 0) {
      throw new InvalidArgumentError(
        "recipients",
        "Cannot encrypt bottle as it has no recipient key: pass a public key or an IDCard with a decrypt key",
      );
    }
    const clean = this.#format === 1 && this.#signatures.length === 0;
    const plain = clean ? this.#message : this.encode();
    const cek = this.#draw(CEK_BYTES);
    const nonce = this.#draw(NONCE_BYTES);
    try {
      const sealed = await aesGcmSeal(cek, nonce, plain);
      const list: MessageRecipient[] = [];
      for (const pkix of keys) {
        list.push({ type: 0, recipient: pkix, data: await encryptFor(pkix, cek) });
      }
      this.#message = sealed;
      this.#format = 2;
      // Bottling up moved the header inside; as in Go, a clean nested bottle keeps its own
      if (!clean) {
        this.#header = freezeHeader({});
        this.#headerRaw = undefined;
      }
      this.#recipients = list;
      this.#signatures = [];
    } finally {
      cek.fill(0);
    }
    return this;
  }

  /**
   * Encodes the bottle as CBOR exactly as the Go implementation does (empty
   * recipients and signatures as null). A decoded bottle whose header was
   * not changed re-encodes to the bytes it was decoded from.
   *
   * @returns The CBOR bytes.
   * @throws {TypeError} When a header value has no CBOR encoding.
   */
  encode(): Uint8Array {
    return encodeBottleCbor(this.#parts());
  }

  /**
   * Encodes the bottle as JSON (draft section 7.1): byte fields in base64url
   * without padding, empty fields left out.
   *
   * @returns The JSON text.
   * @throws {TypeError} When a header value has no JSON form.
   */
  encodeJson(): string {
    return encodeBottleJson(this.#parts());
  }

  /**
   * Decodes a CBOR bottle, checking its whole structure: an array of five,
   * a header map with text keys, a byte-string message, a known format,
   * recipients and signatures of type 0, nothing after it.
   *
   * @param bytes The CBOR bytes.
   * @param options The random source for a later `encrypt`.
   * @returns The bottle.
   * @throws {BottleFormatError} When the bytes are not a valid bottle.
   */
  static decode(bytes: Uint8Array, options: Pick<BottleOptions, "random"> = {}): Bottle {
    return Bottle.#fromParts(decodeBottleCbor(bytes), options);
  }

  /**
   * Decodes a JSON bottle (draft section 7.1); byte fields may be base64url
   * or standard base64, padded or not.
   *
   * @param text The JSON text, or its UTF-8 bytes.
   * @param options The random source for a later `encrypt`.
   * @returns The bottle.
   * @throws {BottleFormatError} When the text is not a valid JSON bottle.
   */
  static decodeJson(
    text: string | Uint8Array,
    options: Pick<BottleOptions, "random"> = {},
  ): Bottle {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    return Bottle.#fromParts(decodeBottleJson(bytes), options);
  }

  static #fromParts(parts: BottleParts, options: Pick<BottleOptions, "random">): Bottle {
    const bottle = new Bottle(parts.message, { format: parts.format, random: options.random });
    bottle.#header = Object.freeze(parts.header);
    bottle.#headerRaw = parts.headerRaw;
    bottle.#recipients = parts.recipients;
    bottle.#signatures = parts.signatures;
    return bottle;
  }

  #parts(): BottleParts {
    return {
      header: this.#header,
      headerRaw: this.#headerRaw,
      message: this.#message,
      format: this.#format,
      recipients: this.#recipients,
      signatures: this.#signatures,
    };
  }

  #draw(length: number): Uint8Array {
    const bytes = this.#random(new Uint8Array(length));
    if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
      throw new InvalidArgumentError(
        "random",
        `Cannot encrypt bottle as 'random' must return the ${length}-byte array it was given`,
      );
    }
    return bytes;
  }
}
