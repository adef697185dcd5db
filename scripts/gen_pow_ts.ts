/**
 * Generates `src/pow/_kernel_unrolled.ts`, the proof-of-work kernel whose
 * SHA-256 rounds are fully unrolled and specialised per nonce position.
 * Writing 17 straight-line variants by hand would be error-prone; this script
 * is their single source. Run it with `deno task gen`; a test checks that the
 * committed file equals what it renders.
 *
 * @module
 */

import { SHA256_K as K } from "../src/pow/_sha256.ts";

/** Where the generated kernel lives, relative to this script. */
const TARGET = new URL("../src/pow/_kernel_unrolled.ts", import.meta.url);

/**
 * Word indices the last nonce digit can occupy in the block hashed last: a
 * one-block tail ends its nonce by byte 54 (word 13), and a nonce that spills
 * into a second block ends by byte 15 of it (word 3).
 */
const FINAL_WORDS = range(0, 14);
/** Word indices of the last nonce digit when only the padding spills into a second block. */
const TWO_BLOCK_WORDS = range(13, 16);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** A constant as a signed 32-bit literal, so V8 never sees a value outside int32. */
function int32(value: number): string {
  const signed = value | 0;
  const hex = Math.abs(signed).toString(16).padStart(8, "0");
  return signed < 0 ? `-0x${hex}` : `0x${hex}`;
}

const rotr = (x: string, n: number): string => `(${x} >>> ${n} | ${x} << ${32 - n})`;
const bigSigma0 = (x: string): string => `(${rotr(x, 2)} ^ ${rotr(x, 13)} ^ ${rotr(x, 22)})`;
const bigSigma1 = (x: string): string => `(${rotr(x, 6)} ^ ${rotr(x, 11)} ^ ${rotr(x, 25)})`;
const smallSigma0 = (x: string): string => `(${rotr(x, 7)} ^ ${rotr(x, 18)} ^ ${x} >>> 3)`;
const smallSigma1 = (x: string): string => `(${rotr(x, 17)} ^ ${rotr(x, 19)} ^ ${x} >>> 10)`;

/** Which schedule words depend on message word `variable` (all others are constant per group). */
function dependents(variable: number): boolean[] {
  const depends = Array.from({ length: 64 }, (_, t) => t === variable);
  for (let t = 16; t < 64; t++) {
    depends[t] = depends[t - 2] || depends[t - 7] || depends[t - 15] || depends[t - 16];
  }
  return depends;
}

/**
 * Straight-line code with registers renamed every round instead of shifting
 * values between them, and Maj computed as `b ^ ((a ^ b) & (b ^ c))` so each
 * round reuses the previous round's `a ^ b` as its own `b ^ c`. A round's
 * chain from e to the next e is what bounds the speed, so its sums are
 * written in the order that keeps that chain short (about a sixth faster in
 * V8 than summing in textbook order).
 */
class Rounds {
  readonly lines: string[] = [];
  #shift = 0;
  #serial = 0;
  #bc: string | undefined;

  /** The variable holding working variable `i` (0 = a … 7 = h) of the current round. */
  at(i: number): string {
    return `v${(i - this.#shift + 64) & 7}`;
  }

  /** Forgets the carried `b ^ c` once the registers are rewritten outside a round. */
  reset(): void {
    this.#bc = undefined;
  }

  /** One round; `needE` is false for the last round of the last block, whose new e is unused. */
  round(kw: string, needE = true): void {
    const [a, b, c, d, e, f, g, h] = range(0, 8).map((i) => this.at(i));
    const ab = `ab${this.#serial++}`;
    const bc = this.#bc ?? `(${b} ^ ${c})`;
    // V8 adds in source order and does not reassociate, so Σ1 and Σ0 (three
    // steps from this round's e and a) are added last, to sums of the terms
    // that are ready sooner; `h` holds T1 in between.
    const ch = `(${g} ^ ${e} & (${f} ^ ${g}))`;
    this.lines.push(`${h} = (${bigSigma1(e)} + (${h} + ${kw} + ${ch})) | 0;`);
    if (needE) this.lines.push(`${d} = (${d} + ${h}) | 0;`);
    this.lines.push(`const ${ab} = ${a} ^ ${b};`);
    this.lines.push(`${h} = (${bigSigma0(a)} + (${h} + (${b} ^ ${ab} & ${bc}))) | 0;`);
    this.#bc = ab;
    this.#shift = (this.#shift + 1) & 7;
  }
}

/** The name of schedule word `t` in a variant: `x` for the varying word, `w` for its dependents, `m` for constants. */
function scheduleName(t: number, variable: number, depends: boolean[]): string {
  if (t === variable) return "x";
  return depends[t] ? `w${t}` : `m${t}`;
}

/** The four terms of schedule word `t`, as [source index, expression] pairs. */
function scheduleTerms(t: number, name: (t: number) => string): [number, string][] {
  return [
    [t - 2, smallSigma1(name(t - 2))],
    [t - 7, name(t - 7)],
    [t - 15, smallSigma0(name(t - 15))],
    [t - 16, name(t - 16)],
  ];
}

/**
 * The sum of the terms of dependent schedule word `t` that do not depend on
 * the varying word, or undefined when there are none (and for the varying
 * word itself). A lone constant word is used by name rather than copied.
 */
function constantPart(t: number, variable: number, depends: boolean[]): string | undefined {
  if (t < 16) return undefined;
  const name = (source: number): string => scheduleName(source, variable, depends);
  const terms = scheduleTerms(t, name).filter(([source]) => !depends[source]);
  return terms.length === 0 ? undefined : terms.map(([, term]) => term).join(" + ");
}

/**
 * The once-per-group prologue of a variant: round `variable` without its
 * message word, the schedule words that do not depend on it (with their round
 * constants added), and the constant part of each word that does.
 */
function prologue(variable: number): string[] {
  const depends = dependents(variable);
  const name = (t: number): string => scheduleName(t, variable, depends);
  // Constant words are emitted only when a later round or schedule word reads them.
  const needed = range(0, 64).map((t) => t > variable && !depends[t]);
  for (let t = 63; t >= 16; t--) {
    if (!depends[t] && !needed[t]) continue;
    for (const [source] of scheduleTerms(t, name)) if (!depends[source]) needed[source] = true;
  }
  const lines = [
    ...range(0, 8).map((i) => `const s${i} = state[${i}];`),
    `const t1 = (s7 + ${bigSigma1("s4")} + (s6 ^ s4 & (s5 ^ s6)) + ${int32(K[variable])}) | 0;`,
    "const ep = (s3 + t1) | 0;",
    `const ap = (t1 + ${bigSigma0("s0")} + (s0 & s1 | s2 & (s0 | s1))) | 0;`,
  ];
  for (let t = 0; t < 64; t++) {
    if (depends[t]) {
      const sum = constantPart(t, variable, depends);
      if (sum !== undefined && !/^m\d+$/.test(sum)) lines.push(`const p${t} = (${sum}) | 0;`);
      continue;
    }
    if (!needed[t]) continue;
    lines.push(
      t < 16
        ? `const m${t} = words[offset + ${t}];`
        : `const m${t} = (${scheduleTerms(t, name).map(([, term]) => term).join(" + ")}) | 0;`,
    );
    if (t > variable) lines.push(`const kw${t} = (${int32(K[t])} + m${t}) | 0;`);
  }
  return lines;
}

/**
 * Rounds `variable + 1 .. 63` of the block holding the nonce's last word,
 * starting from the state after round `variable`, with the schedule words that
 * depend on that word computed from the prologue's partial sums.
 */
function blockRounds(variable: number, rounds: Rounds, last: boolean): void {
  const depends = dependents(variable);
  const name = (t: number): string => scheduleName(t, variable, depends);
  // The registers after round `variable`, whose message word is `x`.
  const initial = ["(ap + x) | 0", "s0", "s1", "s2", "(ep + x) | 0", "s4", "s5", "s6"];
  for (let i = 0; i < 8; i++) rounds.lines.push(`let ${rounds.at(i)} = ${initial[i]};`);
  for (let t = variable + 1; t < 64; t++) {
    let kw = `kw${t}`;
    if (depends[t]) {
      const terms = scheduleTerms(t, name).filter(([source]) => depends[source]);
      const constant = constantPart(t, variable, depends);
      const partial = constant === undefined ? [] : [/^m\d+$/.test(constant) ? constant : `p${t}`];
      const sum = [...partial, ...terms.map(([, term]) => term)].join(" + ");
      rounds.lines.push(`const w${t} = (${sum}) | 0;`);
      kw = `${int32(K[t])} + w${t}`;
    }
    rounds.round(kw, !(last && t === 63));
  }
}

function indent(lines: string[], depth: number): string[] {
  return lines.map((line) => "  ".repeat(depth) + line);
}

const SIGNATURE =
  "state: Int32Array, words: Int32Array, offset: number, xs: Int32Array, from: number, to: number, mask: number, init: Int32Array";

/** A variant for a nonce whose last word, `variable`, lies in the block hashed last. */
function finalVariant(variable: number): string {
  const rounds = new Rounds();
  blockRounds(variable, rounds, true);
  return [
    `/** Searches a group whose varying message word is word ${variable} of the last block. */`,
    `function final${variable}(${SIGNATURE}): number {`,
    ...indent(prologue(variable), 1),
    "  const i0 = init[0];",
    "  for (let k = from; k < to; k++) {",
    "    const x = xs[k];",
    ...indent(rounds.lines, 2),
    `    if (((i0 + ${rounds.at(0)}) & mask) === 0) return k;`,
    "  }",
    "  return -1;",
    "}",
  ].join("\n");
}

/**
 * A variant for a nonce that ends in the first of two blocks: the second block
 * is all padding and length, so its schedule is a per-job constant.
 */
function twoBlockVariant(variable: number): string {
  const rounds = new Rounds();
  blockRounds(variable, rounds, false);
  rounds.lines.push("// The chaining value between the blocks.");
  for (let i = 0; i < 8; i++) rounds.lines.push(`${rounds.at(i)} = (i${i} + ${rounds.at(i)}) | 0;`);
  rounds.lines.push(`const o0 = ${rounds.at(0)};`);
  rounds.reset();
  for (let t = 0; t < 64; t++) rounds.round(`q${t}`, t !== 63);
  return [
    `/** Searches a group whose varying message word is word ${variable} of the first of two blocks. */`,
    `function two${variable}(${SIGNATURE}, kw2: Int32Array): number {`,
    ...indent(prologue(variable), 1),
    ...range(0, 8).map((i) => `  const i${i} = init[${i}];`),
    ...range(0, 64).map((t) => `  const q${t} = kw2[${t}];`),
    "  for (let k = from; k < to; k++) {",
    "    const x = xs[k];",
    ...indent(rounds.lines, 2),
    `    if (((o0 + ${rounds.at(0)}) & mask) === 0) return k;`,
    "  }",
    "  return -1;",
    "}",
  ].join("\n");
}

/** The hand-written part of the generated file: job layout, groups, the digit odometer. */
function driver(): string {
  return `
/**
 * One specialised search over the group indices \`from .. to - 1\`, given the
 * state after the rounds before the varying word; returns the first index
 * whose digest passes \`mask\` on word 0, or -1.
 */
type Variant = (${SIGNATURE}, kw2: Int32Array) => number;

const FINAL: readonly Variant[] = [${FINAL_WORDS.map((w) => `final${w}`).join(", ")}];
const TWO_BLOCK: readonly (Variant | undefined)[] = [${
    range(0, 16).map((w) => TWO_BLOCK_WORDS.includes(w) ? `two${w}` : "undefined").join(", ")
  }];

/** ASCII codes of the digits 0..f. */
const ASCII = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** Packs four big-endian bytes into a word. */
function wordAt(bytes: Uint8Array, index: number): number {
  const i = index * 4;
  return (bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3];
}

/**
 * Creates the unrolled TypeScript kernel. It keeps reusable scratch buffers,
 * so one instance must not run two searches at once (workers each create
 * their own).
 *
 * @returns A kernel named \`"ts-unrolled"\`.
 */
export function createUnrolledKernel(): Kernel {
  const schedule = new Int32Array(64);
  const state = new Int32Array(8);
  const jobState = new Int32Array(8);
  const init = new Int32Array(8);
  const kw2 = new Int32Array(64);
  const digest = new Int32Array(8);
  const words = new Int32Array(32);
  let xs = new Int32Array(0);
  let xsRadix = 0, xsDigits = 0, xsShift = 0, xsBase = 0;

  /** Fills \`xs[i]\` with word \`base\` carrying the \`digits\` low digits of \`i\`, lowest at \`shift\`. */
  function fillTable(radix: number, digits: number, shift: number, base: number): void {
    if (radix === xsRadix && digits === xsDigits && shift === xsShift && base === xsBase) return;
    const size = radix ** digits;
    if (xs.length < size) xs = new Int32Array(size);
    for (let i = 0; i < radix; i++) xs[i] = base | (ASCII[i] << shift);
    for (let level = 1, span = radix; level < digits; level++, span *= radix) {
      // Highest digit first so the block at 0 is still unprefixed when it is copied last.
      for (let high = radix - 1; high >= 0; high--) {
        const bits = ASCII[high] << (shift + 8 * level);
        for (let i = 0; i < span; i++) xs[high * span + i] = xs[i] | bits;
      }
    }
    xsRadix = radix;
    xsDigits = digits;
    xsShift = shift;
    xsBase = base;
  }

  /** Checks a candidate's whole digest, for rules deeper than the first word. */
  function solves(layout: JobLayout, variableWord: number, x: number, zeroBits: number): boolean {
    words.set(layout.tail);
    words[variableWord] = x;
    digest.set(layout.midstate);
    for (let block = 0; block < layout.blocks; block++) compress(digest, words, block * 16, schedule);
    let bits = 0;
    for (let i = 0; i < 8; i++) {
      const zeros = Math.clz32(digest[i]);
      bits += zeros;
      if (zeros < 32) break;
    }
    return bits >= zeroBits;
  }

  return {
    name: "ts-unrolled",
    search(job: KernelJob): number {
      const layout = layoutJob(job);
      const { tail, midstate, blocks, nonceOffset } = layout;
      const radix = RADIX[job.encoding];
      const zeroBits = job.zeroBits;
      const mask = zeroBits >= 32 ? -1 : ~(-1 >>> zeroBits);
      const bytes = new Uint8Array(blocks * 64);
      for (let i = 0; i < tail.length; i++) {
        const w = tail[i];
        bytes[i * 4] = w >>> 24;
        bytes[i * 4 + 1] = w >>> 16;
        bytes[i * 4 + 2] = w >>> 8;
        bytes[i * 4 + 3] = w;
      }

      // The digits in the last digit's word vary inside a group; the digits
      // before them are fixed for the group, so everything hashed before that
      // word is computed once per group.
      const lastByte = nonceOffset + job.nonceLength - 1;
      const variableWord = lastByte >> 2;
      const groupDigits = lastByte - Math.max(nonceOffset, variableWord * 4) + 1;
      const groupSize = radix ** groupDigits;
      const shift = (3 - (lastByte & 3)) * 8;
      const digitBits = groupDigits === 4 ? -1 : ((1 << (8 * groupDigits)) - 1) << shift;
      fillTable(radix, groupDigits, shift, tail[variableWord] & ~digitBits);

      const secondBlockNonce = variableWord >= 16;
      const variable = secondBlockNonce ? variableWord - 16 : variableWord;
      const variant = blocks === 1 || secondBlockNonce ? FINAL[variable] : TWO_BLOCK[variable];
      if (variant === undefined) throw new RangeError(\`No kernel variant for word \${variableWord}\`);
      const blockOffset = secondBlockNonce ? 16 : 0;

      // Rounds before the nonce's first word never change in this job.
      const firstWord = nonceOffset >> 2;
      jobState.set(midstate);
      init.set(midstate);
      if (!secondBlockNonce) rounds(jobState, tail, 0, 0, firstWord);
      if (blocks === 2 && !secondBlockNonce) {
        for (let t = 0; t < 16; t++) schedule[t] = tail[16 + t];
        for (let t = 16; t < 64; t++) {
          const x = schedule[t - 15];
          const y = schedule[t - 2];
          schedule[t] = (${smallSigma1("y")} + schedule[t - 7] + ${
    smallSigma0("x")
  } + schedule[t - 16]) | 0;
        }
        for (let t = 0; t < 64; t++) kw2[t] = (K[t] + schedule[t]) | 0;
      }

      let j = job.start % groupSize;
      let offset = 0;
      for (;;) {
        const end = j + Math.min(groupSize - j, job.count - offset);
        if (secondBlockNonce) {
          init.set(midstate);
          compress(init, tail, 0, schedule);
          state.set(init);
          rounds(state, tail, 16, 0, variable);
        } else {
          state.set(jobState);
          rounds(state, tail, 0, firstWord, variable);
        }
        for (let from = j; from < end;) {
          const k = variant(state, tail, blockOffset, xs, from, end, mask, init, kw2);
          if (k < 0) break;
          if (zeroBits <= 32 || solves(layout, variableWord, xs[k], zeroBits)) return offset + k - j;
          from = k + 1;
        }
        offset += end - j;
        if (offset >= job.count) return -1;
        j = 0;
        // The odometer: carry into the digits before the group's word, in place.
        let position = lastByte - groupDigits;
        for (;;) {
          const digit = bytes[position];
          if (digit === ASCII[radix - 1]) {
            bytes[position--] = 48;
            continue;
          }
          bytes[position] = digit === 57 ? 97 : digit + 1;
          break;
        }
        for (let w = position >> 2; w < variableWord; w++) tail[w] = wordAt(bytes, w);
      }
    },
  };
}
`;
}

/**
 * Renders the generated kernel file.
 *
 * @returns The full text of `src/pow/_kernel_unrolled.ts`.
 */
export function renderUnrolledKernel(): string {
  const header =
    `// Generated by scripts/gen_pow_ts.ts (\`deno task gen\`). Do not edit: change the script and rerun it.
// deno-fmt-ignore-file
/**
 * The unrolled TypeScript proof-of-work kernel: every SHA-256 round is
 * straight-line code over local variables, specialised for the word that
 * holds the nonce's last digit, so V8 keeps the state in registers and skips
 * everything that does not change from one nonce to the next (the midstate,
 * the rounds before that word, the schedule terms of constant words). Only
 * digest word 0 is computed per candidate; deeper rules are confirmed on the
 * rare candidates that pass it.
 *
 * @module
 */

import { type Kernel, type KernelJob, RADIX } from "./_kernel.ts";
import { type JobLayout, layoutJob } from "./_layout.ts";
import { compress, partialRounds as rounds, SHA256_K as K } from "./_sha256.ts";`;
  return [
    header,
    driver().trim(),
    ...FINAL_WORDS.map(finalVariant),
    ...TWO_BLOCK_WORDS.map(twoBlockVariant),
  ].join("\n\n") + "\n";
}

if (import.meta.main) {
  await Deno.writeTextFile(TARGET, renderUnrolledKernel());
}
