/**
 * The Salsa20 core, HSalsa20 and the Salsa20 key stream with a 16-byte
 * nonce-and-counter block, as the Go `salsa20/salsa` package exposes them: the
 * Emitter key ciphers (`salsa` and `shuffle`) are built on these three.
 * Internal.
 *
 * @module
 */

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) |
    (bytes[offset + 3] << 24)) >>> 0;
}

function setup(key: Uint8Array, input: Uint8Array): Uint32Array {
  const s = new Uint32Array(16);
  s[0] = SIGMA[0];
  s[5] = SIGMA[1];
  s[10] = SIGMA[2];
  s[15] = SIGMA[3];
  for (let i = 0; i < 4; i++) {
    s[1 + i] = readU32(key, 4 * i);
    s[11 + i] = readU32(key, 16 + 4 * i);
    s[6 + i] = readU32(input, 4 * i);
  }
  return s;
}

function rounds(x: Uint32Array): void {
  const r = (v: number, c: number) => (v << c) | (v >>> (32 - c));
  const qr = (a: number, b: number, c: number, d: number) => {
    x[b] ^= r(x[a] + x[d], 7);
    x[c] ^= r(x[b] + x[a], 9);
    x[d] ^= r(x[c] + x[b], 13);
    x[a] ^= r(x[d] + x[c], 18);
  };
  for (let i = 0; i < 20; i += 2) {
    qr(0, 4, 8, 12);
    qr(5, 9, 13, 1);
    qr(10, 14, 2, 6);
    qr(15, 3, 7, 11);
    qr(0, 1, 2, 3);
    qr(5, 6, 7, 4);
    qr(10, 11, 8, 9);
    qr(15, 12, 13, 14);
  }
}

/**
 * Derives a 32-byte sub-key from a 32-byte key and a 16-byte nonce (HSalsa20).
 *
 * @param key The 32-byte key.
 * @param nonce The 16-byte nonce.
 * @returns The 32-byte sub-key.
 * @throws Never; the caller passes the sizes above.
 * @example
 * ```ts
 * import { hsalsa20 } from "./_salsa20.ts";
 *
 * console.log(hsalsa20(new Uint8Array(32), new Uint8Array(16)).length); // 32
 * ```
 */
export function hsalsa20(key: Uint8Array, nonce: Uint8Array): Uint8Array {
  const x = setup(key, nonce);
  rounds(x);
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  [0, 5, 10, 15, 6, 7, 8, 9].forEach((word, i) => view.setUint32(4 * i, x[word], true));
  return out;
}

/**
 * XORs data in place with the Salsa20 key stream for a key and a 16-byte block
 * whose first 8 bytes are the nonce and last 8 the little-endian block counter.
 *
 * @param data The bytes to encrypt or decrypt, changed in place.
 * @param block The 16-byte nonce and counter; not changed.
 * @param key The 32-byte key.
 * @returns Nothing; `data` holds the result.
 * @throws Never; the caller passes the sizes above.
 * @example
 * ```ts
 * import { salsa20Xor } from "./_salsa20.ts";
 *
 * const data = new Uint8Array(4);
 * salsa20Xor(data, new Uint8Array(16), new Uint8Array(32));
 * ```
 */
export function salsa20Xor(data: Uint8Array, block: Uint8Array, key: Uint8Array): void {
  const counter = block.slice();
  const stream = new Uint8Array(64);
  const view = new DataView(stream.buffer);
  for (let offset = 0; offset < data.length; offset += 64) {
    const initial = setup(key, counter);
    const x = initial.slice();
    rounds(x);
    for (let i = 0; i < 16; i++) view.setUint32(4 * i, (x[i] + initial[i]) >>> 0, true);
    const end = Math.min(64, data.length - offset);
    for (let i = 0; i < end; i++) data[offset + i] ^= stream[i];
    for (let i = 8, carry = 1; i < 16 && carry; i++) {
      const sum = counter[i] + carry;
      counter[i] = sum & 0xff;
      carry = sum >> 8;
    }
  }
}
