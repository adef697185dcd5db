/**
 * The byte-level WebAssembly module writer of `scripts/gen_pow_wasm.ts`:
 * LEB128, vectors, sections, names, the SIMD opcodes used, and {@linkcode Body},
 * a function body under construction.
 *
 * @module
 */

export function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

export function signedLeb(value: number): number[] {
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

export function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

export function bytesOf(data: number[]): number[] {
  return [...unsignedLeb(data.length), ...data];
}

export function section(id: number, body: number[]): number[] {
  return [id, ...unsignedLeb(body.length), ...body];
}

export function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

export const I32 = 0x7f;
export const V128 = 0x7b;

/** The SIMD opcodes used, after the 0xfd prefix. */
export const SIMD = {
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
export class Body {
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
