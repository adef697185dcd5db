/**
 * The `run_<first>` variants of the WebAssembly kernel: which schedule words
 * differ between lanes, which rounds fold h into `KW`, and the emission of a
 * variant's body.
 *
 * @module
 */

import { LANES, MEMORY } from "./_wasm_layout.ts";
import { Body, SIMD, unsignedLeb, V128, vector } from "./_wasm_emitter.ts";

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
export function emitVariant(first: number): number[] {
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
