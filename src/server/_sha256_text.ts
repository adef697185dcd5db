/**
 * SHA-256 of a short string, as lowercase hex or bytes, without allocating
 * more than the result: every recording request hashes its install token or
 * project key and its idempotency fingerprint, and `@noble/hashes` with a
 * `TextEncoder` and a hex encoder cost about 3 µs a digest there, more than
 * the JSON parse. The compression function is the proof-of-work solver's;
 * text longer than the scratch buffer goes to `@noble/hashes`.
 *
 * @module
 */

import { hex } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { compress, SHA256_IV } from "../pow/_sha256.ts";

/** The longest text, in UTF-8 bytes, hashed in the scratch buffer: a few blocks. */
const SCRATCH_BYTES = 2048;

const UTF8 = new TextEncoder();
// Room for the text, its 0x80 marker and its 8-byte length: two spare blocks at most
const scratch = new Uint8Array(SCRATCH_BYTES + 128);
const scratchView = new DataView(scratch.buffer);
const words = new Int32Array(scratch.length / 4);
const schedule = new Int32Array(64);
const state = new Int32Array(8);
const HEX_PAIRS = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** Hashes `text` into `state`; `false` when it is too long for the scratch buffer. */
function hashIntoState(text: string): boolean {
  // Each UTF-16 unit takes at most 3 UTF-8 bytes
  if (text.length * 3 > SCRATCH_BYTES) return false;
  const length = UTF8.encodeInto(text, scratch).written;
  const blocks = ((length + 8) >>> 6) + 1;
  const end = blocks * 64;
  scratch.fill(0, length, end);
  scratch[length] = 0x80;
  // The bit length fits 32 bits here: the text is at most SCRATCH_BYTES long
  scratchView.setUint32(end - 4, length * 8);
  for (let i = 0; i < blocks * 16; i++) words[i] = scratchView.getInt32(i * 4);
  state.set(SHA256_IV);
  for (let offset = 0; offset < blocks * 16; offset += 16) {
    compress(state, words, offset, schedule);
  }
  return true;
}

/**
 * Hashes a string, as UTF-8, with SHA-256.
 *
 * @param text The string.
 * @returns The digest as 64 lowercase hex characters.
 */
export function sha256TextHex(text: string): string {
  if (!hashIntoState(text)) return hex.encode(sha256(UTF8.encode(text)));
  let out = "";
  for (let i = 0; i < 8; i++) {
    const word = state[i];
    out += HEX_PAIRS[word >>> 24] + HEX_PAIRS[(word >>> 16) & 0xff] +
      HEX_PAIRS[(word >>> 8) & 0xff] + HEX_PAIRS[word & 0xff];
  }
  return out;
}

/**
 * Hashes a string, as UTF-8, with SHA-256.
 *
 * @param text The string.
 * @returns The 32-byte digest, a new array.
 */
export function sha256TextBytes(text: string): Uint8Array {
  if (!hashIntoState(text)) return sha256(UTF8.encode(text));
  const digest = new Uint8Array(32);
  const view = new DataView(digest.buffer);
  for (let i = 0; i < 8; i++) view.setInt32(i * 4, state[i]);
  return digest;
}
