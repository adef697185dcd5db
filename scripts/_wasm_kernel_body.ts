/**
 * The SHA-256 round emission of the WebAssembly kernel's `run` function: its
 * locals, the message schedule slots, one unrolled round per group, and the
 * whole `run` body.
 *
 * @module
 */

import { GROUPS, LANES, MEMORY } from "./_wasm_layout.ts";
import { Body, I32, SIMD, unsignedLeb, V128, vector } from "./_wasm_emitter.ts";

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
export function emitRun(): number[] {
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
