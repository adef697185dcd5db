/**
 * The proof-of-work worker: receives kernel jobs from a
 * {@linkcode PowWorkerPool} and answers each with the offset of the first
 * solving nonce, or -1. It picks its kernel the same way the calling thread
 * does (by measuring), unless the pool names one.
 *
 * @module
 */

import type { KernelJob } from "./_kernel.ts";
import { calibrate, type KernelName, kernelNamed } from "./_select.ts";

/** What the pool sends first, once: where it publishes which solves are over. */
export interface WorkerInit {
  /** One Int32: jobs of a generation below its value belong to finished solves. */
  control: SharedArrayBuffer;
}

/** What the pool sends for each job. */
export interface WorkerRequest {
  /** Matches the answer to the job. */
  id: number;
  /** The solve the job belongs to. */
  generation: number;
  /** The run of nonces. */
  job: KernelJob;
  /** The kernel to use, or the fastest when absent. */
  kernel?: KernelName;
}

/** What the worker answers. */
export interface WorkerResponse {
  /** The request's id. */
  id: number;
  /** The first solving offset, or -1. */
  offset: number;
  /** The kernel that ran the job. */
  kernel: string;
  /** Set when the job could not run. */
  error?: string;
}

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
