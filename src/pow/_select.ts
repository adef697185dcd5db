/**
 * Which kernel solves fastest here, decided by measuring rather than by
 * guessing the runtime: V8 runs the unrolled TypeScript kernel several times
 * faster than the compact loop, JavaScriptCore the other way round, and
 * WebAssembly SIMD beats both wherever it may run (a page whose CSP forbids
 * WebAssembly leaves only the TypeScript kernels).
 *
 * The big kernels are loaded with `import()` when first needed, so a bundle
 * keeps them in chunks of their own: the WebAssembly module always, the
 * unrolled TypeScript kernel (about 500 KB of source) only where WebAssembly
 * is missing or refused, or when named. The compact kernel is always there.
 *
 * @module
 */

import type { Kernel, KernelJob } from "./_kernel.ts";
import { createCompactKernel } from "./_kernel_compact.ts";

/** The names of the kernels, as `SolveOptions.kernel` takes them. */
export type KernelName = "wasm-simd" | "ts-unrolled" | "ts-compact";

/** What the calibration measured, per kernel, in hashes per millisecond. */
export interface Calibration {
  /** The kernel chosen. */
  kernel: Kernel;
  /** Each measured kernel's speed, in hashes per millisecond. */
  rates: Record<string, number>;
}

let calibration: Promise<Calibration> | undefined;
let available: Promise<Kernel[]> | undefined;
let compact: Kernel | undefined;
let wasm: Promise<Kernel | undefined> | undefined;
let unrolled: Promise<Kernel | undefined> | undefined;

// A chunk that cannot be fetched (a bundle deployed without it) counts as a
// kernel this runtime cannot run; the compact kernel still solves
function loadWasm(): Promise<Kernel | undefined> {
  wasm ??= import("./_kernel_wasm.ts").then(
    (module) => module.loadWasmKernel(),
    () => undefined,
  );
  return wasm;
}

function loadUnrolled(): Promise<Kernel | undefined> {
  unrolled ??= import("./_kernel_unrolled.ts").then(
    (module) => module.createUnrolledKernel(),
    () => undefined,
  );
  return unrolled;
}

/**
 * The kernels worth measuring here: WebAssembly SIMD when it loads, else the
 * unrolled TypeScript kernel, then the compact one. The instances are made
 * once per thread and shared: a kernel runs one search at a time, and a
 * thread never runs two at once.
 *
 * @returns The kernels, fastest candidate first.
 */
export function availableKernels(): Promise<Kernel[]> {
  available ??= (async () => {
    const fast = (await loadWasm()) ?? (await loadUnrolled());
    compact ??= createCompactKernel();
    return fast === undefined ? [compact] : [fast, compact];
  })();
  return available;
}

/**
 * The kernel with the given name, loaded on demand.
 *
 * @param name The kernel's name.
 * @returns The kernel, or `undefined` when this runtime cannot run it.
 */
export async function kernelNamed(name: KernelName): Promise<Kernel | undefined> {
  if (name === "wasm-simd") return await loadWasm();
  if (name === "ts-unrolled") return await loadUnrolled();
  if (name === "ts-compact") return compact ??= createCompactKernel();
  return undefined;
}

/**
 * Measures every available kernel on the same small job, once per process,
 * and keeps the fastest. Each runs a few rounds so the measurement sees
 * optimised code, not the first cold pass; the whole takes a few milliseconds.
 *
 * @param now The clock.
 * @returns The fastest kernel and what was measured.
 */
export function calibrate(now: () => number = () => performance.now()): Promise<Calibration> {
  calibration ??= (async () => {
    const kernels = await availableKernels();
    const job: KernelJob = {
      prefix: new TextEncoder().encode("calibration-challenge-0123456789:"),
      encoding: "hex",
      nonceLength: 5,
      start: 0x10000,
      count: 4096,
      // No candidate can pass, so every kernel does the whole job
      zeroBits: 256,
    };
    const rates: Record<string, number> = {};
    let best = kernels[0];
    for (const kernel of kernels) {
      let fastest = Infinity;
      for (let round = 0; round < 4; round++) {
        // Some clocks move in whole milliseconds (workerd) and one job can take
        // less: repeat it until the clock has moved enough to tell kernels apart
        const started = now();
        let runs = 0;
        let took = 0;
        do {
          kernel.search(job);
          took = now() - started;
        } while (++runs < 8 && took < 2);
        fastest = Math.min(fastest, took / runs);
        // A clock that stands still while code runs (a deployed Worker) measures
        // nothing: leave the tie, and the first kernel listed wins
        if (took === 0) break;
      }
      rates[kernel.name] = job.count / Math.max(fastest, 1e-3);
      if (rates[kernel.name] > rates[best.name]) best = kernel;
    }
    return { kernel: best, rates };
  })();
  return calibration;
}
