/**
 * A SHA-256 compression function over caller-owned typed arrays, for the
 * proof-of-work loop: it allocates nothing, so the solver can hash millions of
 * candidates without feeding the garbage collector. Anything that is not a hot
 * loop should call `sha256` from `@noble/hashes` instead.
 *
 * @module
 */

/** The 64 round constants of FIPS 180-4 §4.2.2. */
export const SHA256_K: Int32Array = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/** The initial hash value of FIPS 180-4 §5.3.3. */
export const SHA256_IV: Int32Array = new Int32Array([
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
]);

/**
 * Runs the compression function on one 64-byte block, updating `state` in
 * place. Words are 32-bit big-endian values held in `Int32Array`s so V8 keeps
 * every intermediate as a small integer.
 *
 * @param state The eight chaining words, read and overwritten.
 * @param block The message words; the block is `block[offset .. offset + 16)`.
 * @param offset The index of the block's first word in `block`.
 * @param w A scratch array of at least 64 words, reused between calls.
 */
export function compress(
  state: Int32Array,
  block: Int32Array,
  offset: number,
  w: Int32Array,
): void {
  for (let i = 0; i < 16; i++) w[i] = block[offset + i];
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (s1 + w[i - 7] + s0 + w[i - 16]) | 0;
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  let f = state[5];
  let g = state[6];
  let h = state[7];
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + SHA256_K[i] + w[i]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

/**
 * Runs rounds `from .. to - 1` of one block over `state` in place, for the
 * rounds kernels compute once per job or per group rather than per nonce.
 * `to` is at most 16, so the message words are the schedule.
 *
 * @param state The eight working variables, read and overwritten.
 * @param words The message words; the block starts at `offset`.
 * @param offset The index of the block's first word in `words`.
 * @param from The first round to run.
 * @param to One past the last round to run, at most 16.
 */
export function partialRounds(
  state: Int32Array,
  words: Int32Array,
  offset: number,
  from: number,
  to: number,
): void {
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], h = state[7];
  for (let t = from; t < to; t++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + (g ^ (e & (f ^ g))) + SHA256_K[t] + words[offset + t]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) | (c & (a | b)))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
  state[4] = e;
  state[5] = f;
  state[6] = g;
  state[7] = h;
}

/**
 * Lays out `message` with SHA-256 padding as big-endian words.
 *
 * @param message The bytes to hash.
 * @returns The padded message as words; its length is a multiple of 16.
 */
export function padToWords(message: Uint8Array): Int32Array {
  const blocks = Math.floor((message.length + 8) / 64) + 1;
  const bytes = new Uint8Array(blocks * 64);
  bytes.set(message);
  bytes[message.length] = 0x80;
  // The bit length is written as two 32-bit halves as it can exceed 2^32.
  const bits = message.length * 8;
  const view = new DataView(bytes.buffer);
  view.setUint32(bytes.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(bytes.length - 4, bits >>> 0);
  const words = new Int32Array(blocks * 16);
  for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * 4);
  return words;
}

/**
 * Hashes a whole message with {@linkcode compress}; the slow path, used to
 * check the kernel against a reference implementation.
 *
 * @param message The bytes to hash.
 * @returns The 32-byte digest.
 */
export function sha256Kernel(message: Uint8Array): Uint8Array {
  const words = padToWords(message);
  const state = SHA256_IV.slice();
  const w = new Int32Array(64);
  for (let offset = 0; offset < words.length; offset += 16) compress(state, words, offset, w);
  const digest = new Uint8Array(32);
  const view = new DataView(digest.buffer);
  for (let i = 0; i < 8; i++) view.setInt32(i * 4, state[i]);
  return digest;
}
