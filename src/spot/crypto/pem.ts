/**
 * PEM armour for keys: {@linkcode pemEncode} writes the 64-column base64 form
 * Go and OpenSSL write, {@linkcode pemDecode} reads the first block of a text.
 *
 * @module
 */

import { base64 } from "@scure/base";
import { SpotKeyError } from "./errors.ts";

/** A decoded PEM block. */
export interface PemBlock {
  /** The label, such as `"PUBLIC KEY"`, `"PRIVATE KEY"` or `"EC PRIVATE KEY"`. */
  readonly label: string;
  /** The DER bytes. */
  readonly der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n([\s\S]*?)-----END \1-----/;

/**
 * Writes DER as a PEM block.
 *
 * @param label The label, such as `"PUBLIC KEY"`.
 * @param der The DER bytes.
 * @returns The PEM text, ending with a newline.
 * @throws {never} Never.
 * @example
 * ```ts
 * import { pemEncode } from "./pem.ts";
 *
 * console.log(pemEncode("PUBLIC KEY", new Uint8Array([1, 2, 3])));
 * ```
 */
export function pemEncode(label: string, der: Uint8Array): string {
  const text = base64.encode(der);
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 64) lines.push(text.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Reads the first PEM block of a text; headers such as `Proc-Type` are refused.
 *
 * @param pem The text.
 * @returns The label and DER bytes.
 * @throws {SpotKeyError} When there is no complete block or its base64 is malformed.
 * @example
 * ```ts
 * import { pemDecode } from "./pem.ts";
 *
 * const { label, der } = pemDecode("-----BEGIN PUBLIC KEY-----\nAQID\n-----END PUBLIC KEY-----\n");
 * console.log(label, der); // "PUBLIC KEY" Uint8Array [1, 2, 3]
 * ```
 */
export function pemDecode(pem: string): PemBlock {
  const match = BLOCK.exec(pem);
  if (match === null) {
    throw new SpotKeyError(
      "decode PEM",
      "Cannot decode the PEM text as it has no complete -----BEGIN/-----END block: pass the whole PEM file",
    );
  }
  const body = match[2].replace(/\s+/g, "");
  try {
    return { label: match[1], der: base64.decode(body) };
  } catch (cause) {
    throw new SpotKeyError(
      "decode PEM",
      `Cannot decode the PEM block '${
        match[1]
      }' as its base64 is malformed: pass the PEM unchanged`,
      { cause },
    );
  }
}
