/**
 * Which kernel solves fastest here, decided by measuring rather than by
 * guessing the runtime: V8 runs the unrolled TypeScript kernel several times
 * faster than the compact loop, JavaScriptCore the other way round, and
 * WebAssembly SIMD beats both wherever it may run (a page whose CSP forbids
 * WebAssembly leaves only the TypeScript kernels).
 *
 * @module
 */

import type { Kernel, KernelJob } from "./_kernel.ts";
import { createCompactKernel } from "./_kernel_compact.ts";
import { createUnrolledKernel } from "./_kernel_unrolled.ts";
import { loadWasmKernel } from "./_kernel_wasm.ts";

/** The names of the kernels, as `SolveOptions.kernel` takes them. */
export type KernelName = "wasm-simd" | "ts-unrolled" | "ts-compact";

/** What the calibration measured, per kernel, in hashes per millisecond. */
export interface Calibration {
  /** The kernel chosen. */
  kernel: Kernel;
  /** Each available kernel's measured speed, in hashes per millisecond. */
  rates: Record<string, number>;
}

let calibration: Promise<Calibration> | undefined;
let available: Promise<Kernel[]> | undefined;

/**
 * Every kernel this runtime can run, WebAssembly first when it loads. The
 * instances are made once per thread and shared: a kernel runs one search at
 * a time, and a thread never runs two at once.
 *
 * @returns The kernels.
 */
export function availableKernels(): Promise<Kernel[]> {
  available ??= (async () => {
    const kernels = [createUnrolledKernel(), createCompactKernel()];
    const wasm = await loadWasmKernel();
    return wasm === undefined ? kernels : [wasm, ...kernels];
  })();
  return available;
}

/**
 * The kernel with the given name.
 *
 * @param name The kernel's name.
 * @returns The kernel, or `undefined` when this runtime cannot run it.
 */
export async function kernelNamed(name: KernelName): Promise<Kernel | undefined> {
  return (await availableKernels()).find((kernel) => kernel.name === name);
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
        const started = now();
        kernel.search(job);
        fastest = Math.min(fastest, now() - started);
      }
      rates[kernel.name] = job.count / Math.max(fastest, 1e-3);
      if (rates[kernel.name] > rates[best.name]) best = kernel;
    }
    return { kernel: best, rates };
  })();
  return calibration;
}
