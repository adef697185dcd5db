/**
 * Emits the WebAssembly SIMD128 proof-of-work kernel as raw bytes and writes
 * them, base64-encoded, to `src/pow/_kernel_wasm_module.ts` (`deno task gen`).
 * The encoder is written out here (LEB128, sections, opcodes) so that the
 * build needs no assembler, no C toolchain and nothing from the network.
 *
 * The module exports one memory and one function, `run`, that hashes
 * consecutive nonces four at a time (one i32x4 group) until a digest's first
 * word passes the mask. Its memory layout is shared with
 * `src/pow/_kernel_wasm.ts` through the generated constants; the 64 rounds
 * are unrolled here, at generation time.
 *
 * @module
 */

import { SHA256_K as K } from "../src/pow/_sha256.ts";

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

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  value |= 0;
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function bytesOf(data: number[]): number[] {
  return [...unsignedLeb(data.length), ...data];
}

function section(id: number, body: number[]): number[] {
  return [id, ...unsignedLeb(body.length), ...body];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

const I32 = 0x7f;
const V128 = 0x7b;

/** The SIMD opcodes used, after the 0xfd prefix. */
const SIMD = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  i32x4Eq: 0x37,
  and: 0x4e,
  or: 0x50,
  xor: 0x51,
  anyTrue: 0x53,
  i32x4Bitmask: 0xa4,
  i32x4Shl: 0xab,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
} as const;

/** A function body under construction: a stack-machine instruction stream. */
class Body {
  readonly bytes: number[] = [];

  op(...bytes: number[]): this {
    this.bytes.push(...bytes);
    return this;
  }
  simd(code: number): this {
    return this.op(0xfd, ...unsignedLeb(code));
  }
  get(local: number): this {
    return this.op(0x20, ...unsignedLeb(local));
  }
  set(local: number): this {
    return this.op(0x21, ...unsignedLeb(local));
  }
  tee(local: number): this {
    return this.op(0x22, ...unsignedLeb(local));
  }
  i32(value: number): this {
    return this.op(0x41, ...signedLeb(value));
  }
  /** `v128.load` from `address on the stack + offset`. */
  load(offset: number): this {
    return this.simd(SIMD.load).op(0, ...unsignedLeb(offset));
  }
  /** `v128.store` to `address on the stack + offset` (address pushed before the value). */
  store(offset: number): this {
    return this.simd(SIMD.store).op(0, ...unsignedLeb(offset));
  }
  /** Loads a slot at a fixed address. */
  loadAt(address: number): this {
    return this.i32(0).load(address);
  }
  splatConst(value: number): this {
    this.simd(SIMD.const);
    for (let lane = 0; lane < 4; lane++) {
      this.op(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
    }
    return this;
  }
  add(): this {
    return this.simd(SIMD.i32x4Add);
  }
  xor(): this {
    return this.simd(SIMD.xor);
  }
  and(): this {
    return this.simd(SIMD.and);
  }
  or(): this {
    return this.simd(SIMD.or);
  }
  shr(bits: number): this {
    return this.i32(bits).simd(SIMD.i32x4ShrU);
  }
  shl(bits: number): this {
    return this.i32(bits).simd(SIMD.i32x4Shl);
  }
  /**
   * XOR of right rotations of a local, plus an optional plain right shift
   * (for σ0, σ1), combined as a balanced tree: V8 does not reassociate, and
   * the depth of this tree is on the critical path of every round.
   */
  rotations(local: number, rotations: number[], shift?: number): this {
    const terms: ((body: Body) => void)[] = [];
    for (const r of rotations) {
      terms.push((body) => body.get(local).shr(r));
      terms.push((body) => body.get(local).shl(32 - r));
    }
    if (shift !== undefined) terms.push((body) => body.get(local).shr(shift));
    return this.xorTree(terms);
  }
  xorTree(terms: ((body: Body) => void)[]): this {
    if (terms.length === 1) {
      terms[0](this);
      return this;
    }
    const half = Math.ceil(terms.length / 2);
    return this.xorTree(terms.slice(0, half)).xorTree(terms.slice(half)).xor();
  }
}

/** The local indices of the `run` function. */
interface Locals {
  /** Parameters. */
  v: number;
  vEnd: number;
  entry: number;
  p: number;
  q: number;
  blocks: number;
  /** i32 locals. */
  base: number;
  round: number;
  /** Per group: eight working variables, two alternating `a ^ b` carries, temporaries. */
  x: number[][];
  ab: number[][];
  t1: number[];
  w: number[];
  chain0: number[];
  scratch: number[];
}

function allocateLocals(): { locals: Locals; declarations: number[][] } {
  let next = 6;
  const i32 = () => next++;
  const base = i32();
  const round = i32();
  const i32Count = next - 6;
  const v128 = () => next++;
  const x: number[][] = [];
  const ab: number[][] = [];
  const t1: number[] = [];
  const w: number[] = [];
  const chain0: number[] = [];
  const scratch: number[] = [];
  const firstV128 = next;
  for (let g = 0; g < GROUPS; g++) {
    x.push(Array.from({ length: 8 }, v128));
    ab.push([v128(), v128()]);
    t1.push(v128());
    w.push(v128());
    chain0.push(v128());
    scratch.push(v128());
  }
  const locals: Locals = {
    v: 0,
    vEnd: 1,
    entry: 2,
    p: 3,
    q: 4,
    blocks: 5,
    base,
    round,
    x,
    ab,
    t1,
    w,
    chain0,
    scratch,
  };
  return {
    locals,
    declarations: [[...unsignedLeb(i32Count), I32], [
      ...unsignedLeb(next - firstV128),
      V128,
    ]],
  };
}

/** Address offset (from the `base` local) of schedule word t of group g. */
function wSlot(g: number, t: number): number {
  return MEMORY.W + g * MEMORY.W_GROUP_STRIDE + 16 * t;
}

/** Emits round t for group g, computing W[t] first when t >= 16. */
function emitRound(body: Body, l: Locals, g: number, t: number): void {
  const x = l.x[g];
  const role = (r: number) => x[(r - t + 64) & 7];
  // c is not read: the majority function takes b ^ c from the previous round.
  const [a, b, , d, e, f, gg, h] = [0, 1, 2, 3, 4, 5, 6, 7].map(role);
  const w = l.w[g];
  if (t < 16) {
    body.get(l.base).load(wSlot(g, t)).set(w);
  } else {
    // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], stored for later words.
    const s = l.scratch[g];
    body.get(l.base);
    body.get(l.base).load(wSlot(g, t - 2)).set(s).rotations(s, [17, 19], 10);
    body.get(l.base).load(wSlot(g, t - 7)).add();
    if (t - 15 < 16) body.get(l.base).load(MEMORY.SIGMA0 + wSlot(g, t - 15));
    else body.get(l.base).load(wSlot(g, t - 15)).set(s).rotations(s, [7, 18], 3);
    body.get(l.base).load(wSlot(g, t - 16)).add().add();
    body.tee(w).store(wSlot(g, t));
  }
  // T1 = (W[t] + K[t] + h) + (Σ1(e) + Ch(e, f, g)): the first sum does not wait for e.
  body.get(w).loadAt(MEMORY.K + 16 * t).add().get(h).add();
  body.rotations(e, [6, 11, 25]);
  body.get(f).get(gg).xor().get(e).and().get(gg).xor().add();
  body.add().set(l.t1[g]);
  // e' = d + T1 (the slot of d becomes the new e)
  body.get(d).get(l.t1[g]).add().set(d);
  // a' = T1 + Σ0(a) + Maj(a, b, c), Maj = ((a ^ b) & (b ^ c)) ^ b with b ^ c carried from the last round.
  body.get(l.t1[g]).rotations(a, [2, 13, 22]);
  body.get(a).get(b).xor().tee(l.ab[g][t & 1]).get(l.ab[g][(t + 1) & 1]).and().get(b).xor();
  body.add().add().set(h);
}

/** Emits the `run` function body. */
function emitRun(): number[] {
  const { locals: l, declarations } = allocateLocals();
  const body = new Body();
  const step = LANES;
  body.op(0x02, 0x40); // block $done
  body.op(0x03, 0x40); // loop $pair
  // The per-lane words: table entries for the lanes' low digits, ORed with the word's constant bytes.
  for (let g = 0; g < GROUPS; g++) {
    for (
      const [address, table, constant] of [
        [l.p, MEMORY.TABLE_P, MEMORY.CONST_P],
        [l.q, MEMORY.TABLE_Q, MEMORY.CONST_Q],
      ] as const
    ) {
      body.get(address);
      body.get(l.v).i32(2).op(0x74).load(table + 16 * g);
      body.loadAt(constant).or().tee(l.w[g]);
      body.store(g * MEMORY.W_GROUP_STRIDE);
      body.get(address).rotations(l.w[g], [7, 18], 3);
      body.store(MEMORY.SIGMA0 + g * MEMORY.W_GROUP_STRIDE);
    }
  }
  for (let g = 0; g < GROUPS; g++) {
    for (let j = 0; j < 8; j++) body.loadAt(MEMORY.STATE + 16 * j).set(l.x[g][j]);
    body.loadAt(MEMORY.BC).tee(l.ab[g][0]).set(l.ab[g][1]);
    body.loadAt(MEMORY.CHAIN).set(l.chain0[g]);
  }
  body.i32(0).set(l.base);
  body.get(l.entry).set(l.round);
  body.op(0x03, 0x40); // loop $block
  // Jump into the unrolled rounds at the entry round: rounds before it were hoisted.
  for (let i = 0; i < 16; i++) body.op(0x02, 0x40);
  body.get(l.round).op(0x0e, ...unsignedLeb(16));
  for (let i = 0; i < 16; i++) body.op(...unsignedLeb(i));
  body.op(...unsignedLeb(15));
  for (let t = 0; t < 64; t++) {
    if (t < 16) body.op(0x0b); // end of the block whose label enters at round t
    for (let g = 0; g < GROUPS; g++) emitRound(body, l, g, t);
  }
  // A two-block tail: feed the first block forward and hash the second from round 0.
  body.get(l.base).op(0x45); // i32.eqz
  body.get(l.blocks).i32(2).op(0x46); // i32.eq
  body.op(0x71); // i32.and
  body.op(0x04, 0x40); // if
  for (let g = 0; g < GROUPS; g++) {
    for (let j = 0; j < 8; j++) {
      body.get(l.x[g][j]).loadAt(MEMORY.CHAIN + 16 * j).add().set(l.x[g][j]);
    }
    body.get(l.x[g][0]).set(l.chain0[g]);
    body.get(l.x[g][1]).get(l.x[g][2]).xor().set(l.ab[g][1]);
  }
  body.i32(MEMORY.W_BLOCK_STRIDE).set(l.base);
  body.i32(0).set(l.round);
  body.op(0x0c, 1); // br $block
  body.op(0x0b); // end if
  body.op(0x0b); // end loop $block
  // Digest word 0 of each lane: a hit when its masked bits are all zero.
  for (let g = 0; g < GROUPS; g++) {
    body.get(l.x[g][0]).get(l.chain0[g]).add().loadAt(MEMORY.MASK).and();
    body.splatConst(0).simd(SIMD.i32x4Eq).set(l.t1[g]);
  }
  body.get(l.t1[0]);
  for (let g = 1; g < GROUPS; g++) body.get(l.t1[g]).or();
  body.simd(SIMD.anyTrue);
  body.op(0x04, 0x40); // if
  body.i32(0);
  for (let g = 0; g < GROUPS; g++) {
    body.get(l.t1[g]).simd(SIMD.i32x4Bitmask);
    if (g > 0) body.i32(4 * g).op(0x74).op(0x72); // shl, or
  }
  body.op(0x36, 2, ...unsignedLeb(MEMORY.HIT)); // i32.store
  body.get(l.v).op(0x0f); // return v
  body.op(0x0b); // end if
  body.get(l.v).i32(step).op(0x6a).tee(l.v); // v += LANES
  body.get(l.vEnd).op(0x48); // i32.lt_s
  body.op(0x0d, 0); // br_if $pair
  body.op(0x0b); // end loop $pair
  body.op(0x0b); // end block $done
  body.i32(-1);
  body.op(0x0b); // end function
  const code = [...vector(declarations), ...body.bytes];
  return [...unsignedLeb(code.length), ...code];
}

/**
 * The first per-lane words that have a variant: a variant for `first` hashes
 * one block whose words `first` and `first + 1` differ between lanes and
 * whose other words, and the state before round `first`, do not.
 */
export const VARIANT_FIRSTS: readonly number[] = [8];

/**
 * Which of the 64 schedule words differ between lanes in the variant for
 * `first`. `src/pow/_kernel_wasm.ts` applies the same rule to fill `KW` and `SUM`.
 *
 * @param first The first per-lane message word, 0..14.
 * @returns One flag per schedule word.
 */
export function varyingWords(first: number): boolean[] {
  const varying: boolean[] = [];
  for (let t = 0; t < 64; t++) {
    varying.push(
      t < 16
        ? t === first || t === first + 1
        : varying[t - 2] || varying[t - 7] || varying[t - 15] || varying[t - 16],
    );
  }
  return varying;
}

/**
 * The rounds of the variant for `first` whose h is the same for every lane
 * (JavaScript adds it into `KW`): the three after round `first`, whose h is
 * a word of the state before it.
 *
 * @param first The first per-lane message word.
 * @param t A round.
 * @returns Whether round t's h is folded into `KW[t]`.
 */
export function constantH(first: number, t: number): boolean {
  return t > first && t <= first + 3;
}

/**
 * Emits `run_<first>(v, vEnd) -> i32`, the variant for `first`: round
 * `first` needs only W[first] added to two per-run constants, words and
 * terms the same for every lane are summed per run by JavaScript (`KW`,
 * `SUM`), and the last round skips what digest word 0 does not need.
 */
function emitVariant(first: number): number[] {
  const varying = varyingWords(first);
  let next = 2;
  const v128 = () => next++;
  const x = Array.from({ length: 8 }, v128);
  const ab = [v128(), v128()];
  const t1 = v128();
  const w = v128();
  const s = v128();
  const body = new Body();
  const wAt = (t: number) => MEMORY.W + 16 * t;
  /** Locals that hold a per-run constant, read from its splat instead. */
  const constant = new Map<number, number>();
  const read = (local: number) => {
    const address = constant.get(local);
    if (address === undefined) body.get(local);
    else body.loadAt(address);
  };
  body.op(0x02, 0x40); // block $done
  body.op(0x03, 0x40); // loop $group
  for (
    const [word, table, bits] of [
      [first, MEMORY.TABLE_P, MEMORY.CONST_P],
      [first + 1, MEMORY.TABLE_Q, MEMORY.CONST_Q],
    ] as const
  ) {
    body.i32(0).get(0).i32(2).op(0x74).load(table).loadAt(bits).or();
    if (word === first) body.tee(w);
    body.store(wAt(word));
  }
  // Round `first` from its constants: a = A + W[first], e = E + W[first].
  const t0 = first + 1;
  const role = (r: number, t: number) => x[(r - t + 64) & 7];
  for (let r = 0; r < 8; r++) {
    if (r === 0 || r === 4) {
      body.get(w).loadAt(MEMORY.ENTRY + 16 * r).add().set(role(r, t0));
    } else {
      constant.set(role(r, t0), MEMORY.ENTRY + 16 * r);
    }
  }
  for (let t = t0; t < 64; t++) {
    const [a, b, , d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map((r) => role(r, t));
    const hConstant = constant.has(h);
    if (hConstant !== constantH(first, t)) throw new Error(`h of round ${t} is misclassified`);
    if (t >= 16 && varying[t]) {
      const terms: (() => void)[] = [];
      if (varying[t - 2]) {
        terms.push(() => body.i32(0).load(wAt(t - 2)).set(s).rotations(s, [17, 19], 10));
      }
      if (varying[t - 7]) terms.push(() => body.i32(0).load(wAt(t - 7)));
      if (varying[t - 15]) {
        terms.push(() => body.i32(0).load(wAt(t - 15)).set(s).rotations(s, [7, 18], 3));
      }
      if (varying[t - 16]) terms.push(() => body.i32(0).load(wAt(t - 16)));
      if (!(varying[t - 2] && varying[t - 7] && varying[t - 15] && varying[t - 16])) {
        terms.push(() => body.loadAt(MEMORY.SUM + 16 * t));
      }
      const needed = t <= 61;
      if (needed) body.i32(0);
      terms.forEach((term, i) => {
        term();
        if (i > 0) body.add();
      });
      if (needed) body.tee(w).store(wAt(t));
      else body.set(w);
    } else if (varying[t]) {
      body.i32(0).load(wAt(t)).set(w);
    }
    // T1 = (W[t] + K[t] + h) + (Σ1(e) + Ch(e, f, g)), with the per-run parts pre-summed in KW.
    if (varying[t]) body.get(w).loadAt(MEMORY.KW + 16 * t).add();
    else body.loadAt(MEMORY.KW + 16 * t);
    if (!hConstant) body.get(h).add();
    body.rotations(e, [6, 11, 25]);
    if (constant.has(f) && constant.has(g)) {
      if (t !== t0) throw new Error("only the first round has a constant f ^ g");
      body.loadAt(MEMORY.ENTRY_FG);
    } else {
      read(f);
      read(g);
      body.xor();
    }
    body.get(e).and();
    read(g);
    body.xor().add().add().set(t1);
    if (t < 63) {
      // e' = d + T1; the last round's e is not part of digest word 0
      read(d);
      body.get(t1).add().set(d);
      constant.delete(d);
    }
    body.get(t1).rotations(a, [2, 13, 22]);
    body.get(a);
    read(b);
    body.xor();
    if (t < 63) body.tee(ab[t & 1]);
    if (t === t0) body.loadAt(MEMORY.ENTRY_BC);
    else body.get(ab[(t + 1) & 1]);
    body.and();
    read(b);
    body.xor().add().add().set(h);
    constant.delete(h);
  }
  // Digest word 0 of each lane: a hit when its masked bits are all zero.
  body.get(role(0, 64)).loadAt(MEMORY.ENTRY_CHAIN0).add().loadAt(MEMORY.MASK).and();
  body.splatConst(0).simd(SIMD.i32x4Eq).tee(t1).simd(SIMD.anyTrue);
  body.op(0x04, 0x40); // if
  body.i32(0).get(t1).simd(SIMD.i32x4Bitmask);
  body.op(0x36, 2, ...unsignedLeb(MEMORY.HIT)); // i32.store
  body.get(0).op(0x0f); // return v
  body.op(0x0b); // end if
  body.get(0).i32(LANES).op(0x6a).tee(0); // v += LANES
  body.get(1).op(0x48); // i32.lt_s
  body.op(0x0d, 0); // br_if $group
  body.op(0x0b); // end loop
  body.op(0x0b); // end block
  body.i32(-1);
  body.op(0x0b); // end function
  const declarations = [[...unsignedLeb(next - 2), V128]];
  const code = [...vector(declarations), ...body.bytes];
  return [...unsignedLeb(code.length), ...code];
}

/**
 * Emits the kernel module.
 *
 * @returns The WebAssembly binary: memory "memory" and function
 * `run(v, vEnd, entryRound, pAddress, qAddress, blocks) -> i32`, which returns
 * the low-digit value of the first pair with a hit (lane bits at `MEMORY.HIT`)
 * or -1.
 */
export function generateWasmModule(): Uint8Array {
  const splattedK = Array.from(K).flatMap((k) => {
    const le = [k & 0xff, (k >>> 8) & 0xff, (k >>> 16) & 0xff, (k >>> 24) & 0xff];
    return [...le, ...le, ...le, ...le];
  });
  const runType = [0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32]]), ...vector([[I32]])];
  const variantType = [0x60, ...vector([[I32], [I32]]), ...vector([[I32]])];
  const variantExports = VARIANT_FIRSTS.map((first, i) => [
    ...name(`run_${first}`),
    0x00,
    ...unsignedLeb(i + 1),
  ]);
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector([runType, variantType])),
    ...section(3, vector([[0], ...VARIANT_FIRSTS.map(() => [1])])),
    ...section(5, vector([[0x00, ...unsignedLeb(MEMORY.PAGES)]])),
    ...section(
      7,
      vector([[...name("memory"), 0x02, 0], [...name("run"), 0x00, 0], ...variantExports]),
    ),
    ...section(10, vector([emitRun(), ...VARIANT_FIRSTS.map(emitVariant)])),
    ...section(11, vector([[0x00, 0x41, ...signedLeb(MEMORY.K), 0x0b, ...bytesOf(splattedK)]])),
  ];
  return new Uint8Array(bytes);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Renders `src/pow/_kernel_wasm_module.ts`.
 *
 * @returns The file's text, stable under `deno fmt`.
 */
export function renderModuleFile(): string {
  const bytes = generateWasmModule();
  return [
    "// Generated by scripts/gen_pow_wasm.ts (`deno task gen`): do not edit.",
    "/**",
    " * The WebAssembly SIMD128 proof-of-work kernel, embedded as base64 so that",
    " * every runtime can load it without file or network access.",
    " *",
    " * @module",
    " */",
    "",
    "/** Nonces one call of `run` hashes per iteration. */",
    `export const WASM_LANES = ${LANES};`,
    "",
    "/** Byte addresses in the module's memory, shared with the generator. */",
    "export const WASM_MEMORY = {",
    ...Object.entries(MEMORY).map(([key, value]) => `  ${key}: ${value},`),
    "} as const;",
    "",
    `/** The module's ${bytes.length} bytes, base64. */`,
    "// deno-fmt-ignore",
    `const BASE64 = "${toBase64(bytes)}";`,
    "",
    "/**",
    " * Decodes the module's bytes.",
    " *",
    " * @returns A fresh copy of the WebAssembly binary.",
    " */",
    "export function wasmModuleBytes(): Uint8Array<ArrayBuffer> {",
    "  const binary = atob(BASE64);",
    "  const bytes = new Uint8Array(binary.length);",
    "  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);",
    "  return bytes;",
    "}",
    "",
  ].join("\n");
}

if (import.meta.main) {
  const target = new URL("../src/pow/_kernel_wasm_module.ts", import.meta.url);
  await Deno.writeTextFile(target, renderModuleFile());
  console.log(`Wrote ${target.pathname} (${generateWasmModule().length} bytes of WebAssembly)`);
}
