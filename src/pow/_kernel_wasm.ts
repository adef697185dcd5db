/**
 * The WebAssembly SIMD128 proof-of-work kernel: consecutive nonces in the
 * lanes of i32x4 groups (`WASM_LANES` per iteration), with the 64 rounds
 * unrolled by `scripts/gen_pow_wasm.ts`.
 *
 * The nonce is split into low digits (the last 3 hex or 4 decimal digits),
 * which differ between lanes and come from a table of ASCII word values in
 * the module's memory, and high digits, fixed for a "run" of up to 4096 or
 * 10 000 nonces. Per run, JavaScript writes the constant message words as
 * splats and computes the rounds before the first per-lane word once
 * (hoisting); when every low digit lies in the second block of a two-block
 * tail, it also compresses the first block once per run. Layouts with a
 * generated variant (`run_<first>`, the per-lane words' index) hash one block
 * with round `first` and every lane-invariant schedule term summed per run;
 * the others use the generic `run`. A lane hit is
 * confirmed with the scalar reference compression, so the answer is exact
 * for any `zeroBits`.
 *
 * @module
 */

import { type Kernel, type KernelJob, RADIX } from "./_kernel.ts";
import { layoutJob } from "./_layout.ts";
import { compress, partialRounds } from "./_sha256.ts";
import { WASM_LANES, WASM_MEMORY as M, wasmModuleBytes } from "./_kernel_wasm_module.ts";

/** A `run_<first>` export: see `emitVariant` in `scripts/_wasm_kernel_variants.ts`. */
type VariantFunction = (v: number, vEnd: number) => number;

/** The `run` export: see `generateWasmModule` in `scripts/gen_pow_wasm.ts`. */
type RunFunction = (
  v: number,
  vEnd: number,
  entryRound: number,
  pAddress: number,
  qAddress: number,
  blocks: number,
) => number;

const DIGITS = "0123456789abcdef";
/** How many low digits vary between lanes, at most: tables of 4096 and 10 000 entries. */
const LOW_DIGITS = { hex: 3, decimal: 4 } as const;

let modulePromise: Promise<WebAssembly.Module | undefined> | undefined;

/**
 * Compiles the kernel's module once, asynchronously, for workers to share.
 *
 * @returns The compiled module, or `undefined` when this runtime has no
 * WebAssembly, no SIMD128, or forbids compiling (a Content Security Policy).
 */
export function compileWasmKernelModule(): Promise<WebAssembly.Module | undefined> {
  modulePromise ??= (async () => {
    try {
      const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
      if (wasm === undefined) return undefined;
      const bytes = wasmModuleBytes();
      if (!wasm.validate(bytes)) return undefined;
      return await wasm.compile(bytes);
    } catch {
      return undefined;
    }
  })();
  return modulePromise;
}

let kernelPromise: Promise<Kernel | undefined> | undefined;

/**
 * Loads the WebAssembly SIMD kernel, compiling and instantiating it once.
 *
 * @returns The kernel, or `undefined` when WebAssembly or SIMD128 is missing
 * or compiling or instantiating fails; it never rejects.
 */
export function loadWasmKernel(): Promise<Kernel | undefined> {
  kernelPromise ??= (async () => {
    const module = await compileWasmKernelModule();
    if (module === undefined) return undefined;
    try {
      return await instantiate(module);
    } catch {
      return undefined;
    }
  })();
  return kernelPromise;
}

async function instantiate(module: WebAssembly.Module): Promise<Kernel> {
  const instance = await WebAssembly.instantiate(module, {});
  return new WasmKernel(instance);
}

/**
 * Builds the kernel from an already compiled module, such as one a worker
 * received by `postMessage`; instantiation is synchronous as the module is
 * small and already compiled.
 *
 * @param module The module from {@linkcode compileWasmKernelModule}.
 * @returns A kernel with its own memory.
 * @throws {WebAssembly.LinkError} When the module is not this kernel's.
 */
export function wasmKernelFromModule(module: WebAssembly.Module): Kernel {
  return new WasmKernel(new WebAssembly.Instance(module, {}));
}

/** The kernel over one instance; it owns the instance's memory. */
class WasmKernel implements Kernel {
  readonly name = "wasm-simd";
  readonly #run: RunFunction;
  /** The variants by their first per-lane word; a missing one falls back to `run`. */
  readonly #variants: (VariantFunction | undefined)[] = [];
  readonly #memory: Int32Array;
  /** The 64 round constants, read back from the module's data segment. */
  readonly #k = new Int32Array(64);
  /** Per-run scratch for the variants' constant schedule words and their lane-invariant sums. */
  readonly #schedule = new Int32Array(64);
  readonly #varying = new Uint8Array(64);
  /** Which digit table the memory holds: `radix,digits,first byte relative to the P word`. */
  #tableKey = "";

  constructor(instance: WebAssembly.Instance) {
    const exports = instance.exports as Record<string, unknown> & {
      memory: WebAssembly.Memory;
      run: RunFunction;
    };
    this.#run = exports.run;
    for (let first = 0; first < 15; first++) {
      this.#variants.push(exports[`run_${first}`] as VariantFunction | undefined);
    }
    this.#memory = new Int32Array(exports.memory.buffer);
    for (let t = 0; t < 64; t++) this.#k[t] = this.#memory[(M.K >> 2) + 4 * t];
  }

  search(job: KernelJob): number {
    const { midstate, tail, blocks, nonceOffset } = layoutJob(job);
    const radix = RADIX[job.encoding];
    const length = job.nonceLength;
    const low = Math.min(length, LOW_DIGITS[job.encoding]);
    const runLength = radix ** low;
    const end = nonceOffset + length;
    const lowStart = end - low;
    const qWord = (end - 1) >> 2;
    const pWord = lowStart >> 2 === qWord ? -1 : lowStart >> 2;

    // The tail bytes with the low digits zeroed: the tables supply them per lane.
    const bytes = new Uint8Array(blocks * 64);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < tail.length; i++) view.setInt32(i * 4, tail[i]);
    bytes.fill(0, lowStart, end);
    const words = new Int32Array(tail.length);
    const chain = new Int32Array(8);
    const state = new Int32Array(8);
    const scratch = new Int32Array(64);
    const check = new Checker(midstate, bytes, blocks, nonceOffset, length, radix);

    // When every low digit is in the second block, the first is the same for a whole run.
    const chained = lowStart >= 64;
    const wasmBlocks = chained ? 1 : blocks;
    const skip = chained ? 16 : 0;
    const firstVarying = (pWord === -1 ? qWord : pWord) - skip;
    const entry = Math.min(firstVarying, 15);
    // A one-block variant takes the per-lane words as `first` and `first + 1`.
    const first = pWord === -1 ? Math.max(0, qWord - skip - 1) : pWord - skip;
    const variant = wasmBlocks === 1 && first <= 14 ? this.#variants[first] : undefined;
    const tableBase = variant !== undefined
      ? 4 * (first + skip)
      : 4 * (pWord === -1 ? qWord - 1 : pWord);
    this.#ensureTable(radix, low, lowStart - tableBase);
    const slot = (word: number) => word < 16 ? 16 * word : M.W_BLOCK_STRIDE + 16 * (word - 16);
    const pAddress = pWord === -1 ? M.DUMMY : slot(pWord - skip);
    const qAddress = slot(qWord - skip);

    const memory = this.#memory;
    const mask = job.zeroBits >= 32 ? -1 : ~(-1 >>> job.zeroBits);
    splat(memory, M.MASK, mask);

    const last = job.start + job.count - 1;
    let high = Math.floor(job.start / runLength);
    let v = job.start - high * runLength;
    const highDigits = length - low;
    const lastHigh = Math.floor(last / runLength);
    for (; high <= lastHigh; high++, v = 0) {
      const vEnd = high === lastHigh ? last - high * runLength + 1 : runLength;
      let value = high;
      for (let i = highDigits - 1; i >= 0; i--) {
        const digit = value % radix;
        bytes[nonceOffset + i] = DIGITS.charCodeAt(digit);
        value = (value - digit) / radix;
      }
      for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * 4);
      chain.set(midstate);
      if (chained) compress(chain, words, 0, scratch);
      state.set(chain);
      if (variant !== undefined) {
        partialRounds(state, words, skip, 0, first);
        this.#writeVariantRun(words, skip, first, chain, state);
      } else {
        partialRounds(state, words, skip, 0, entry);
        this.#writeRun(words, skip, wasmBlocks, chain, state, entry, pWord, qWord);
      }
      while (v < vEnd) {
        const hit = variant !== undefined
          ? variant(v, vEnd)
          : this.#run(v, vEnd, entry, pAddress, qAddress, wasmBlocks);
        if (hit < 0) break;
        const lanes = memory[M.HIT >> 2];
        for (let lane = 0; lane < WASM_LANES && hit + lane < vEnd; lane++) {
          if ((lanes >>> lane & 1) === 0) continue;
          const nonce = high * runLength + hit + lane;
          if (check.zeroBits(nonce) >= job.zeroBits) return nonce - job.start;
        }
        v = hit + WASM_LANES;
      }
    }
    return -1;
  }

  /** Writes the message words, hoisted state and chaining value of one run as splats. */
  #writeRun(
    words: Int32Array,
    skip: number,
    blocks: number,
    chain: Int32Array,
    state: Int32Array,
    entry: number,
    pWord: number,
    qWord: number,
  ): void {
    const memory = this.#memory;
    for (let g = 0; g < WASM_LANES / 4; g++) {
      for (let b = 0; b < blocks; b++) {
        const base = M.W + g * M.W_GROUP_STRIDE + b * M.W_BLOCK_STRIDE;
        for (let t = 0; t < 16; t++) {
          const word = words[skip + 16 * b + t];
          splat(memory, base + 16 * t, word);
          splat(memory, M.SIGMA0 + base + 16 * t, sigma0(word));
        }
      }
    }
    for (let j = 0; j < 8; j++) {
      splat(memory, M.STATE + 16 * j, state[(j + entry) & 7]);
      splat(memory, M.CHAIN + 16 * j, chain[j]);
    }
    splat(memory, M.BC, state[1] ^ state[2]);
    splat(memory, M.CONST_P, pWord === -1 ? 0 : words[pWord]);
    splat(memory, M.CONST_Q, words[qWord]);
  }

  /**
   * Writes what the variant for `first` takes per run: round `first` reduced
   * to two addends of W[first], the state entering the next round, and per
   * round the lane-invariant sums (see `varyingWords` and `constantH` in
   * `scripts/gen_pow_wasm.ts`, whose rules this follows).
   */
  #writeVariantRun(
    words: Int32Array,
    skip: number,
    first: number,
    chain: Int32Array,
    state: Int32Array,
  ): void {
    const memory = this.#memory;
    const k = this.#k;
    const [a, b, c, d, e, f, g, h] = state;
    const t1 = (h + bigSigma1(e) + ((e & f) ^ (~e & g)) + k[first]) | 0;
    const t2 = (bigSigma0(a) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    const entry = [t1 + t2, a, b, c, d + t1, e, f, g];
    for (let r = 0; r < 8; r++) splat(memory, M.ENTRY + 16 * r, entry[r] | 0);
    splat(memory, M.ENTRY_FG, e ^ f);
    splat(memory, M.ENTRY_BC, a ^ b);
    splat(memory, M.ENTRY_CHAIN0, chain[0]);
    splat(memory, M.CONST_P, words[skip + first]);
    splat(memory, M.CONST_Q, words[skip + first + 1]);
    // w holds the lane-invariant words; a varying word's entry stays unused.
    const w = this.#schedule;
    const varying = this.#varying;
    for (let t = 0; t < 16; t++) {
      varying[t] = t === first || t === first + 1 ? 1 : 0;
      w[t] = words[skip + t];
    }
    for (let t = 16; t < 64; t++) {
      const v2 = varying[t - 2], v7 = varying[t - 7], v15 = varying[t - 15], v16 = varying[t - 16];
      const total = ((v2 ? 0 : smallSigma1(w[t - 2])) + (v7 ? 0 : w[t - 7]) +
        (v15 ? 0 : sigma0(w[t - 15])) + (v16 ? 0 : w[t - 16])) | 0;
      varying[t] = v2 | v7 | v15 | v16;
      w[t] = total;
      if (varying[t]) splat(memory, M.SUM + 16 * t, total);
    }
    const hs = [g, f, e];
    for (let t = first + 1; t < 64; t++) {
      const hPart = t <= first + 3 ? hs[t - first - 1] : 0;
      splat(memory, M.KW + 16 * t, (k[t] + (varying[t] ? 0 : w[t]) + hPart) | 0);
    }
  }

  /** Fills the digit tables for this radix, digit count and first digit's byte relative to the P word. */
  #ensureTable(radix: number, low: number, alignment: number): void {
    const key = `${radix},${low},${alignment}`;
    if (key === this.#tableKey) return;
    const entries = radix ** low;
    const memory = this.#memory;
    const p = M.TABLE_P >> 2;
    const q = M.TABLE_Q >> 2;
    for (let v = 0; v < entries; v++) {
      let pWord = 0;
      let qWord = 0;
      let value = v;
      for (let i = low - 1; i >= 0; i--) {
        const digit = value % radix;
        value = (value - digit) / radix;
        const position = alignment + i;
        const word = DIGITS.charCodeAt(digit) << (8 * (3 - (position & 3)));
        if (position >> 2 === 0) pWord |= word;
        else qWord |= word;
      }
      memory[p + v] = pWord;
      memory[q + v] = qWord;
    }
    // Lanes past the end of a run read these; they are never reported.
    memory.fill(0, p + entries, p + entries + WASM_LANES);
    memory.fill(0, q + entries, q + entries + WASM_LANES);
    this.#tableKey = key;
  }
}

function splat(memory: Int32Array, address: number, value: number): void {
  const i = address >> 2;
  memory[i] = value;
  memory[i + 1] = value;
  memory[i + 2] = value;
  memory[i + 3] = value;
}

function smallSigma1(x: number): number {
  return ((x >>> 17) | (x << 15)) ^ ((x >>> 19) | (x << 13)) ^ (x >>> 10);
}

function bigSigma0(x: number): number {
  return ((x >>> 2) | (x << 30)) ^ ((x >>> 13) | (x << 19)) ^ ((x >>> 22) | (x << 10));
}

function bigSigma1(x: number): number {
  return ((x >>> 6) | (x << 26)) ^ ((x >>> 11) | (x << 21)) ^ ((x >>> 25) | (x << 7));
}

function sigma0(x: number): number {
  return ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
}

/** Confirms a lane's hit with the scalar reference compression, on buffers allocated per job. */
class Checker {
  readonly #midstate: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #words: Int32Array;
  readonly #state = new Int32Array(8);
  readonly #scratch = new Int32Array(64);
  readonly #nonceOffset: number;
  readonly #length: number;
  readonly #radix: number;

  constructor(
    midstate: Int32Array,
    bytes: Uint8Array,
    blocks: number,
    nonceOffset: number,
    length: number,
    radix: number,
  ) {
    this.#midstate = midstate;
    this.#bytes = bytes.slice();
    this.#view = new DataView(this.#bytes.buffer);
    this.#words = new Int32Array(blocks * 16);
    this.#nonceOffset = nonceOffset;
    this.#length = length;
    this.#radix = radix;
  }

  /** The leading zero bits of the digest of the prefix and `nonce`. */
  zeroBits(nonce: number): number {
    let value = nonce;
    for (let i = this.#length - 1; i >= 0; i--) {
      const digit = value % this.#radix;
      this.#bytes[this.#nonceOffset + i] = DIGITS.charCodeAt(digit);
      value = (value - digit) / this.#radix;
    }
    const words = this.#words;
    for (let i = 0; i < words.length; i++) words[i] = this.#view.getInt32(i * 4);
    const state = this.#state;
    state.set(this.#midstate);
    for (let offset = 0; offset < words.length; offset += 16) {
      compress(state, words, offset, this.#scratch);
    }
    let bits = 0;
    for (let i = 0; i < 8; i++) {
      if (state[i] !== 0) return bits + Math.clz32(state[i]);
      bits += 32;
    }
    return bits;
  }
}
