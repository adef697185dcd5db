import assert from "node:assert/strict";
import fc from "fast-check";
import {
  firstOfLength,
  formatNonce,
  type Kernel,
  type KernelJob,
  MAX_NONCE_LENGTH,
  type NonceEncoding,
  RADIX,
} from "../../src/pow/_kernel.ts";
import {
  compileWasmKernelModule,
  loadWasmKernel,
  wasmKernelFromModule,
} from "../../src/pow/_kernel_wasm.ts";
import { renderModuleFile } from "../../scripts/gen_pow_wasm.ts";
import { oracleSearch } from "./_oracle.ts";

const encoder = new TextEncoder();
const MKSTATS_PREFIX = encoder.encode("3f9a1c0e5b7d2468ace013579bdf2468:");

async function kernel(): Promise<Kernel> {
  const loaded = await loadWasmKernel();
  assert.ok(loaded !== undefined, "WebAssembly SIMD should be available in Deno");
  return loaded;
}

/** The last value written with `length` digits. */
function lastOfLength(length: number, encoding: NonceEncoding): number {
  return RADIX[encoding] ** length - 1;
}

/** Searches from 0 the way a solver does: one job per digit count, in order. */
function solveFromZero(
  search: Kernel,
  prefix: Uint8Array,
  encoding: NonceEncoding,
  zeroBits: number,
  maxLength: number,
): number {
  for (let length = 1; length <= maxLength; length++) {
    const start = firstOfLength(length, encoding);
    const count = lastOfLength(length, encoding) - start + 1;
    const offset = search.search({ prefix, encoding, nonceLength: length, start, count, zeroBits });
    if (offset >= 0) return start + offset;
  }
  return -1;
}

function assertMatchesOracle(search: Kernel, job: KernelJob): void {
  const expected = oracleSearch(job);
  const actual = search.search(job);
  const { prefix, ...rest } = job;
  assert.equal(actual, expected, `job ${JSON.stringify({ prefixLength: prefix.length, ...rest })}`);
}

Deno.test("loadWasmKernel resolves the wasm-simd kernel once and caches it", async () => {
  const first = await loadWasmKernel();
  const second = await loadWasmKernel();
  assert.ok(first !== undefined);
  assert.equal(first.name, "wasm-simd");
  assert.equal(second, first);
});

Deno.test("the generated module file is up to date with scripts/gen_pow_wasm.ts", async () => {
  const committed = await Deno.readTextFile(
    new URL("../../src/pow/_kernel_wasm_module.ts", import.meta.url),
  );
  assert.equal(committed, renderModuleFile(), "run `deno task gen`");
});

Deno.test("the wasm kernel finds the mkStats known nonce 1157 for difficulty 4", async () => {
  const nonce = solveFromZero(await kernel(), MKSTATS_PREFIX, "hex", 16, 5);
  assert.equal(nonce, 0x1157);
  assert.equal(formatNonce(nonce, "hex"), "1157");
});

Deno.test("a kernel built from a compiled module, as a worker builds it, solves the same job", async () => {
  const module = await compileWasmKernelModule();
  assert.ok(module !== undefined);
  const fromModule = wasmKernelFromModule(module);
  assert.equal(fromModule.name, "wasm-simd");
  assert.equal(solveFromZero(fromModule, MKSTATS_PREFIX, "hex", 16, 5), 0x1157);
});

Deno.test("the wasm kernel matches the oracle for every prefix length from 0 to 200", async () => {
  const search = await kernel();
  for (let length = 0; length <= 200; length++) {
    const prefix = new Uint8Array(length).map((_, i) => (i * 131 + length * 7 + 1) & 0xff);
    for (const encoding of ["hex", "decimal"] as const) {
      const nonceLength = 1 + (length % MAX_NONCE_LENGTH);
      const first = firstOfLength(nonceLength, encoding);
      const last = lastOfLength(nonceLength, encoding);
      // Start a little before a multiple of the radix cubed, so jobs cross low-digit rollovers.
      const boundary = Math.max(
        first,
        Math.floor(last / 2 / RADIX[encoding] ** 3) * RADIX[encoding] ** 3,
      );
      const start = Math.max(first, boundary - 5);
      for (const [zeroBits, count] of [[1 + (length % 8), 37], [12, 300]]) {
        assertMatchesOracle(search, {
          prefix,
          encoding,
          nonceLength,
          start,
          count: Math.min(count, last - start + 1),
          zeroBits,
        });
      }
    }
  }
});

Deno.test("the wasm kernel reports the first hit across lane-group and low-digit wraps", async () => {
  const search = await kernel();
  const cases: [NonceEncoding, number, number][] = [
    ["hex", 5, 0x100fe],
    ["hex", 5, 0x10ffe],
    ["hex", 5, 0x1fff9],
    ["hex", 4, 0xfffa],
    ["hex", 1, 0],
    ["hex", 2, 0x10],
    ["decimal", 6, 109_998],
    ["decimal", 6, 119_995],
    ["decimal", 4, 1_099],
    ["decimal", 2, 10],
    ["decimal", 1, 3],
  ];
  for (const prefix of [MKSTATS_PREFIX, encoder.encode("x".repeat(59) + ":"), new Uint8Array(0)]) {
    for (const [encoding, nonceLength, start] of cases) {
      const last = lastOfLength(nonceLength, encoding);
      for (const count of [1, 2, 3, 5, 7, 9, 13, 100]) {
        for (let zeroBits = 1; zeroBits <= 8; zeroBits++) {
          assertMatchesOracle(search, {
            prefix,
            encoding,
            nonceLength,
            start,
            count: Math.min(count, last - start + 1),
            zeroBits,
          });
        }
      }
    }
  }
});

Deno.test("the wasm kernel matches the oracle for random prefixes, encodings and ranges", async () => {
  const search = await kernel();
  const prefix = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.string({ unit: "grapheme", maxLength: 60 }).map((text) =>
      encoder.encode(text).slice(0, 200)
    ),
  );
  const job = fc.record({
    prefix,
    encoding: fc.constantFrom<NonceEncoding>("hex", "decimal"),
    nonceLength: fc.integer({ min: 1, max: MAX_NONCE_LENGTH }),
    position: fc.double({ min: 0, max: 1, noNaN: true }),
    nearWrap: fc.boolean(),
    back: fc.integer({ min: 0, max: 12 }),
    count: fc.integer({ min: 1, max: 300 }),
    zeroBits: fc.integer({ min: 1, max: 8 }),
  }).map((raw): KernelJob => {
    const first = firstOfLength(raw.nonceLength, raw.encoding);
    const last = lastOfLength(raw.nonceLength, raw.encoding);
    let start = first + Math.floor(raw.position * (last - first));
    if (raw.nearWrap) {
      const step = RADIX[raw.encoding] ** Math.min(raw.nonceLength - 1, 3);
      start = Math.max(first, Math.floor(start / step) * step - raw.back);
    }
    const count = Math.min(raw.count, last - start + 1);
    const { prefix, encoding, nonceLength, zeroBits } = raw;
    return { prefix, encoding, nonceLength, start, count, zeroBits };
  });
  fc.assert(
    fc.property(job, (generated) => assertMatchesOracle(search, generated)),
    { seed: 20240611, numRuns: 300 },
  );
});

Deno.test("the wasm kernel finds nothing for 33 or more zero bits where the oracle finds nothing", async () => {
  const search = await kernel();
  for (const zeroBits of [33, 40, 64, 255, 256]) {
    for (
      const [prefix, encoding, nonceLength, start] of [
        [MKSTATS_PREFIX, "hex", 5, 0x1fe00],
        [encoder.encode("y".repeat(70) + ":"), "decimal", 7, 1_234_500],
      ] as const
    ) {
      const job = { prefix, encoding, nonceLength, start, count: 1000, zeroBits };
      assert.equal(oracleSearch(job), -1);
      assert.equal(search.search(job), -1);
    }
  }
});

Deno.test("the wasm kernel accepts a digest with exactly 32 zero bits and rejects it for 33", async () => {
  const search = await kernel();
  // sha256("edgewire-known-vector:561728705") starts 00000000b5…: exactly 32 zero bits.
  const prefix = encoder.encode("edgewire-known-vector:");
  const known = 561_728_705;
  const job = (zeroBits: number): KernelJob => ({
    prefix,
    encoding: "decimal",
    nonceLength: 9,
    start: known - 500,
    count: 1000,
    zeroBits,
  });
  assert.equal(oracleSearch(job(32)), 500);
  assert.equal(search.search(job(32)), 500);
  assert.equal(search.search({ ...job(32), start: known, count: 1 }), 0);
  assert.equal(oracleSearch(job(33)), -1);
  assert.equal(search.search(job(33)), -1);
});

Deno.test("the wasm kernel's per-layout variants match the oracle, in one block and chained", async () => {
  const search = await kernel();
  // A 33-byte prefix puts the per-lane digits in words 8 and 9 (or word 9 alone) for nonces of
  // 5 to 7 digits: the mkStats layout, which has a generated variant; 64 more bytes put the same
  // words in the second block of a two-block tail, whose first block is hashed once per run.
  for (const extra of [0, 64]) {
    const prefix = encoder.encode("z".repeat(extra) + "3f9a1c0e5b7d2468ace013579bdf2468:");
    for (const encoding of ["hex", "decimal"] as const) {
      for (const nonceLength of [5, 6, 7]) {
        const radix = RADIX[encoding];
        const first = firstOfLength(nonceLength, encoding);
        // Straddle a high-digit change so a job spans two runs.
        const start = first + 3 * radix ** Math.min(nonceLength - 1, 4) - 150;
        for (const zeroBits of [1, 3, 6, 9, 12]) {
          assertMatchesOracle(search, {
            prefix,
            encoding,
            nonceLength,
            start,
            count: 400,
            zeroBits,
          });
        }
      }
    }
  }
});
