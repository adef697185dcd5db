import assert from "node:assert/strict";
import fc from "fast-check";
import {
  firstOfLength,
  type Kernel,
  type KernelJob,
  MAX_NONCE_LENGTH,
  type NonceEncoding,
  RADIX,
} from "../../src/pow/_kernel.ts";
import { createCompactKernel } from "../../src/pow/_kernel_compact.ts";
import { createUnrolledKernel } from "../../src/pow/_kernel_unrolled.ts";
import { renderUnrolledKernel } from "../../scripts/gen_pow_ts.ts";
import { oracleSearch } from "./_oracle.ts";

const KERNELS: readonly (() => Kernel)[] = [createUnrolledKernel, createCompactKernel];

const encoder = new TextEncoder();

/** A prefix of `length` bytes that is not all one value, so misplaced bytes change the hash. */
function patternPrefix(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 37 + length * 11 + 5) & 0xff);
}

function job(
  prefix: Uint8Array,
  encoding: NonceEncoding,
  start: number,
  count: number,
  zeroBits: number,
): KernelJob {
  return {
    prefix,
    encoding,
    nonceLength: start.toString(RADIX[encoding]).length,
    start,
    count,
    zeroBits,
  };
}

function assertMatchesOracle(kernel: Kernel, kernelJob: KernelJob): void {
  const { prefix, ...rest } = kernelJob;
  assert.equal(
    kernel.search(kernelJob),
    oracleSearch(kernelJob),
    `${kernel.name}, prefix of ${prefix.length} bytes, ${JSON.stringify(rest)}`,
  );
}

const prefixArbitrary = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 80 }).map((text) => encoder.encode(text).slice(0, 200)),
);

/** Valid jobs: every value of the run has `nonceLength` digits. */
const jobArbitrary = fc.record({
  prefix: prefixArbitrary,
  encoding: fc.constantFrom<NonceEncoding>("hex", "decimal"),
  nonceLength: fc.integer({ min: 1, max: MAX_NONCE_LENGTH }),
  count: fc.integer({ min: 1, max: 160 }),
  position: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  zeroBits: fc.integer({ min: 1, max: 8 }),
}).map(({ prefix, encoding, nonceLength, count, position, zeroBits }): KernelJob => {
  const first = firstOfLength(nonceLength, encoding);
  const values = RADIX[encoding] ** nonceLength - first;
  const runLength = Math.min(count, values);
  const start = first + Math.floor(position * (values - runLength + 1));
  return { prefix, encoding, nonceLength, start, count: runLength, zeroBits };
});

for (const create of KERNELS) {
  const name = create().name;

  Deno.test(`the ${name} kernel returns the oracle's first hit for random prefixes, encodings and starts`, () => {
    const kernel = create();
    fc.assert(
      fc.property(jobArbitrary, (kernelJob) => assertMatchesOracle(kernel, kernelJob)),
      { seed: 20240611, numRuns: 250 },
    );
  });

  Deno.test(`the ${name} kernel matches the oracle for every prefix length from 0 to 200 bytes`, () => {
    // Lengths 0..200 put the nonce at every byte of a word, in one-block tails,
    // in tails whose padding or nonce spills into a second block, and after 1..3
    // midstate blocks.
    const kernel = create();
    for (let length = 0; length <= 200; length++) {
      const prefix = patternPrefix(length);
      for (const encoding of ["hex", "decimal"] as const) {
        for (const nonceLength of [1, 2, 5, 9, MAX_NONCE_LENGTH]) {
          const first = firstOfLength(nonceLength, encoding);
          const count = Math.min(24, RADIX[encoding] ** nonceLength - first);
          const start = first + Math.floor((RADIX[encoding] ** nonceLength - first - count) / 3);
          assertMatchesOracle(kernel, { ...job(prefix, encoding, start, count, 5), nonceLength });
        }
      }
    }
  });

  Deno.test(`the ${name} kernel carries digits across words and groups inside a job`, () => {
    const kernel = create();
    const runs: [NonceEncoding, number, number][] = [
      ["hex", 0x1ff0, 0x2010 - 0x1ff0 + 1],
      ["hex", 0xfff00, 0x100],
      ["hex", 0xfeffff0, 0x30],
      ["decimal", 1990, 2010 - 1990 + 1],
      ["decimal", 99950, 50],
      ["decimal", 999_999_000, 1000],
    ];
    for (let length = 0; length <= 72; length++) {
      const prefix = patternPrefix(length);
      for (const [encoding, start, count] of runs) {
        for (const zeroBits of [3, 7, 12]) {
          assertMatchesOracle(kernel, job(prefix, encoding, start, count, zeroBits));
        }
      }
    }
  });

  Deno.test(`the ${name} kernel checks exactly one value when the count is 1`, () => {
    const kernel = create();
    for (let value = 0; value < 300; value++) {
      const prefix = patternPrefix(value % 70);
      for (const encoding of ["hex", "decimal"] as const) {
        assertMatchesOracle(kernel, job(prefix, encoding, value, 1, 1));
      }
    }
  });

  Deno.test(`the ${name} kernel agrees with the oracle on rules deeper than one word`, () => {
    const kernel = create();
    for (const zeroBits of [33, 40, 64, 256]) {
      for (const length of [0, 9, 33, 60, 64, 70]) {
        const kernelJob = job(patternPrefix(length), "hex", 0x10000, 400, zeroBits);
        assert.equal(kernel.search(kernelJob), -1);
        assert.equal(oracleSearch(kernelJob), -1);
      }
    }
  });

  Deno.test(`the ${name} kernel checks the words after the first for rules deeper than 32 bits`, () => {
    // Found by brute force: sha256("edgewire:113127e21") starts 00000000 afd5…, exactly 32
    // zero bits, so word 0 passes a 33-bit rule's first test and word 1 must reject it.
    const kernel = create();
    const hit = 0x113127e21;
    const window = job(encoder.encode("edgewire:"), "hex", hit - 200, 400, 32);
    assert.equal(kernel.search(window), 200);
    assert.equal(oracleSearch(window), 200);
    assert.equal(kernel.search({ ...window, zeroBits: 33 }), -1);
    assert.equal(oracleSearch({ ...window, zeroBits: 33 }), -1);
  });

  Deno.test(`the ${name} kernel finds the mkStats vector 1157 for jobs split by digit length`, () => {
    const kernel = create();
    const prefix = encoder.encode("3f9a1c0e5b7d2468ace013579bdf2468:");
    const found: number[] = [];
    for (let length = 1; length <= 4; length++) {
      const start = firstOfLength(length, "hex");
      const count = 16 ** length - start;
      const offset = kernel.search({
        prefix,
        encoding: "hex",
        nonceLength: length,
        start,
        count,
        zeroBits: 16,
      });
      if (offset >= 0) found.push(start + offset);
    }
    assert.deepEqual(found, [4439]);
    assert.equal((4439).toString(16), "1157");
  });
}

Deno.test("the two kernels agree on a long job with a rare rule", () => {
  const job = {
    prefix: encoder.encode("3f9a1c0e5b7d2468ace013579bdf2468:"),
    encoding: "hex" as const,
    nonceLength: 6,
    start: 0x100000,
    count: 1 << 18,
    zeroBits: 18,
  };
  const expected = createCompactKernel().search(job);
  assert.equal(createUnrolledKernel().search(job), expected);
  if (expected >= 0) {
    assert.equal(oracleSearch({ ...job, start: job.start + expected, count: 1 }), 0);
  }
});

Deno.test("the committed unrolled kernel is what scripts/gen_pow_ts.ts renders", async () => {
  const committed = await Deno.readTextFile(
    new URL("../../src/pow/_kernel_unrolled.ts", import.meta.url),
  );
  assert.equal(committed, renderUnrolledKernel(), "run `deno task gen` to regenerate it");
});
