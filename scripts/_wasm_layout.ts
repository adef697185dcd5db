/**
 * The memory layout of the WebAssembly proof-of-work kernel, shared by the
 * emitter and, through the generated constants, by `src/pow/_kernel_wasm.ts`:
 * lanes per iteration and the byte addresses of every table.
 *
 * @module
 */

/**
 * How many 4-lane groups one iteration hashes side by side. Two would give
 * more instruction-level parallelism, but measured on V8 (x64, 16 xmm
 * registers) they run at about 11 M hashes/s against 15-16 M for one: the
 * register allocator spills, and the loop body no longer fits the µop cache.
 * The emitter and the JavaScript side support any count.
 */
export const GROUPS = 1;
/** Nonces hashed per iteration of `run`. */
export const LANES = GROUPS * 4;

/**
 * Byte addresses in the module's memory. Every `v128` slot is 16 bytes.
 * `W` holds, per group and per block, the 64 schedule words (the first 16
 * are the message, written by JavaScript as splats, except the two
 * per-lane slots the kernel fills from the digit tables).
 */
export const MEMORY = {
  /** Schedule of group g, block b: `W + g * W_GROUP_STRIDE + b * W_BLOCK_STRIDE + 16 * t`. */
  W: 0,
  /** Bytes between the schedules of two groups. */
  W_GROUP_STRIDE: 2048,
  /** Bytes between the schedules of the two blocks of one group. */
  W_BLOCK_STRIDE: 1024,
  /** The eight working variables after the hoisted rounds, splatted and rotated to the entry round. */
  STATE: 4096,
  /** `b ^ c` at the entry round, splatted, for the incremental majority function. */
  BC: 4224,
  /** The chaining value the first block starts from, eight splats, for the feed-forward. */
  CHAIN: 4240,
  /** The constant bytes of the two per-lane words, splatted. */
  CONST_P: 4368,
  /** See `CONST_P`. */
  CONST_Q: 4384,
  /** The mask of digest word 0 that must be zero, splatted. */
  MASK: 4400,
  /** Where a hit's lane bits are written (an i32, bit i for lane i). */
  HIT: 4416,
  /** A scratch slot for a per-lane word that is not used. */
  DUMMY: 4432,
  /**
   * The state entering a variant's first round (round `first + 1`), splatted
   * per role a..h; the a and e slots hold what W[first] is added to.
   */
  ENTRY: 4448,
  /** `f ^ g` of a variant's first round, splatted. */
  ENTRY_FG: 4576,
  /** `b ^ c` of a variant's first round, splatted. */
  ENTRY_BC: 4592,
  /** A variant's chaining word 0, splatted, for digest word 0. */
  ENTRY_CHAIN0: 4608,
  /** The 64 round constants, splatted (a data segment), so that adds take them from memory. */
  K: 5120,
  /**
   * Per round, for the variants: K[t], plus W[t] when it is the same for every
   * lane, plus h when it is (see `constantH`), splatted.
   */
  KW: 6144,
  /** Per schedule word that differs between lanes, the sum of its terms that do not, splatted. */
  SUM: 7168,
  /** The digit table of the first per-lane word: one i32 per low-digit value. */
  TABLE_P: 8192,
  /** The digit table of the second per-lane word. */
  TABLE_Q: 8192 + 65536,
  /** How many i32 entries each table can hold. */
  TABLE_ENTRIES: 16384,
  /**
   * σ0 of each message word, at `SIGMA0 + ` the word's `W` address: written
   * by JavaScript per run, and by the kernel for the two per-lane words.
   */
  SIGMA0: 8192 + 2 * 65536,
  /** Memory size in 64 KiB pages. */
  PAGES: 3,
} as const;
