/**
 * The errors of Bottles and IDCards. Each has a `code` naming what failed, so
 * a caller can tell bytes that are not a Bottle from a signature that does not
 * hold or a message it has no key for. No message contains a key.
 *
 * @module
 */

import { EdgewireError } from "../../core/errors.ts";

/** Why bytes were refused as a Bottle or an IDCard. */
export type BottleProblem =
  /** The bytes are not well-formed CBOR, or hold a CBOR feature refused here. */
  | "invalid_cbor"
  /** The CBOR is well-formed but not the shape a Bottle, recipient or signature has. */
  | "invalid_structure"
  /** A JSON Bottle that is not valid JSON or not the shape of a Bottle. */
  | "invalid_json"
  /** A format number the draft does not define. */
  | "unknown_format"
  /** A recipient or signature type other than 0 (PKIX). */
  | "unknown_type"
  /** Containers or bottles nested deeper than the limit. */
  | "too_deep"
  /** An AES bottle whose message is shorter than a nonce and a tag. */
  | "truncated";

/**
 * Bytes that are not a Bottle this code can read: malformed or truncated CBOR,
 * a wrong shape, an unknown format or type, or nesting past the limit.
 *
 * @example Tell malformed input apart
 * ```ts
 * import { BottleFormatError } from "./errors.ts";
 *
 * const error = new BottleFormatError("invalid_cbor", "Cannot decode bottle as its CBOR ends early: check the bytes");
 * console.log(error.code); // "invalid_cbor"
 * ```
 */
export class BottleFormatError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "BottleFormatError";

  /** What is wrong with the bytes. */
  override readonly code: BottleProblem;

  /**
   * Creates the error.
   *
   * @param code What is wrong with the bytes.
   * @param message What was refused and why, naming the value.
   * @param options The underlying decoder error.
   */
  constructor(code: BottleProblem, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, cause: options.cause });
    this.code = code;
  }
}

/**
 * A signature on a Bottle does not verify over its message, or names a signer
 * key that cannot be read. Opening stops: nothing inside is trusted.
 *
 * @example
 * ```ts
 * import { BottleSignatureError } from "./errors.ts";
 *
 * const error = new BottleSignatureError("Cannot open bottle as signature 1 of layer 0 does not verify");
 * console.log(error.code); // "bad_signature"
 * ```
 */
export class BottleSignatureError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "BottleSignatureError";

  /** The PKIX public key of the signer whose signature failed, when known. */
  readonly signer: Uint8Array | undefined;

  /**
   * Creates the error.
   *
   * @param message Which signature of which layer failed.
   * @param options The signer's PKIX key and the underlying error.
   */
  constructor(message: string, options: { signer?: Uint8Array; cause?: unknown } = {}) {
    super(message, { code: "bad_signature", cause: options.cause });
    this.signer = options.signer;
  }
}

/** Why an encrypted layer could not be opened. */
export type BottleDecryptionProblem =
  /** None of the opener's keys is a recipient of the layer. */
  | "no_key"
  /** A key matched a recipient but the content did not decrypt (tampered or wrong key). */
  | "decrypt_failed";

/**
 * An encrypted Bottle could not be opened: no key for any recipient, or the
 * content fails AES-GCM authentication.
 *
 * @example
 * ```ts
 * import { BottleDecryptionError } from "./errors.ts";
 *
 * const error = new BottleDecryptionError("no_key", "Cannot open bottle as no key matches its 2 recipients: pass the recipient's private key");
 * console.log(error.code); // "no_key"
 * ```
 */
export class BottleDecryptionError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "BottleDecryptionError";

  /** Why the layer did not open. */
  override readonly code: BottleDecryptionProblem;

  /**
   * Creates the error.
   *
   * @param code Why the layer did not open.
   * @param message What failed, naming the layer and what to do.
   * @param options The underlying error.
   */
  constructor(code: BottleDecryptionProblem, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, cause: options.cause });
    this.code = code;
  }
}

/** Why bytes were refused as an IDCard. */
export type IDCardProblem =
  /** The CBOR is not the integer-keyed map of an IDCard, SubKey or Membership. */
  | "invalid_structure"
  /** The bottle around the card is not signed by the card's own primary key. */
  | "not_self_signed"
  /** The bottle around the card does not carry the `ct: "idcard"` header. */
  | "wrong_content_type"
  /** The key given to sign the card is not the card's primary key. */
  | "wrong_key";

/**
 * Bytes that are not a valid signed IDCard, or an IDCard operation the card
 * refuses.
 *
 * @example
 * ```ts
 * import { IDCardError } from "./errors.ts";
 *
 * const error = new IDCardError("not_self_signed", "Cannot load IDCard as no signature is by its primary key");
 * console.log(error.code); // "not_self_signed"
 * ```
 */
export class IDCardError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "IDCardError";

  /** What is wrong with the card. */
  override readonly code: IDCardProblem;

  /**
   * Creates the error.
   *
   * @param code What is wrong with the card.
   * @param message What was refused and why.
   * @param options The underlying error.
   */
  constructor(code: IDCardProblem, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, cause: options.cause });
    this.code = code;
  }
}
