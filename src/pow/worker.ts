/**
 * The proof-of-work worker, `@edgewire/sdk/pow/worker`: the module a
 * `PowWorkerPool` (and `solvePow` with `workers`) starts as a
 * module Web Worker. It answers each kernel job with the offset of the first
 * solving nonce, or -1, picking its kernel the way the calling thread does
 * (by measuring) unless the pool names one; the kernels load lazily, as on
 * the calling thread.
 *
 * Unbundled (Deno, JSR, Bun) the pool finds this module by itself. A bundle
 * must emit it as an entry point of its own and pass that file's URL as
 * `workerUrl`; otherwise the worker cannot load, and `PowSolution.workers`
 * is 0 because the solve ran on the calling thread. Load it only as a worker.
 *
 * @example A bundled page: `pow_worker.js` is this entry, bundled next to the page's script
 * ```ts
 * import { solvePow } from "@edgewire/sdk/pow";
 *
 * const workerUrl = new URL("./pow_worker.js", import.meta.url);
 * const { nonce, workers } = await solvePow("3f9a1c0e5b7d2468ace013579bdf2468", 4, {
 *   workers: 2,
 *   workerUrl,
 * });
 * console.log(nonce, workers); // "1157" 2
 * ```
 *
 * @module
 */

import type { WorkerInit, WorkerRequest, WorkerResponse } from "./_worker_messages.ts";
import { calibrate, kernelNamed } from "./_select.ts";

let control: Int32Array | undefined;

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest | WorkerInit>) => void) | null;
  postMessage(message: WorkerResponse): void;
};

scope.onmessage = async ({ data }) => {
  if ("control" in data) {
    control = new Int32Array(data.control);
    return;
  }
  // A job queued behind the hit of a finished solve: answer at once instead of hashing
  if (control !== undefined && data.generation < Atomics.load(control, 0)) {
    scope.postMessage({ id: data.id, offset: -1, kernel: "" });
    return;
  }
  try {
    const kernel = data.kernel === undefined
      ? (await calibrate()).kernel
      : await kernelNamed(data.kernel);
    if (kernel === undefined) {
      throw new Error(`Kernel ${data.kernel} is not available in this worker`);
    }
    scope.postMessage({ id: data.id, offset: kernel.search(data.job), kernel: kernel.name });
  } catch (error) {
    scope.postMessage({ id: data.id, offset: -1, kernel: "", error: String(error) });
  }
};
