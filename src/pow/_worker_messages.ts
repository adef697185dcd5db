/**
 * The messages between a {@linkcode PowWorkerPool} and its workers
 * (`worker.ts`): one init carrying the shared control word, then one request
 * and one answer per job.
 *
 * @module
 */

import type { KernelJob } from "./_kernel.ts";
import type { KernelName } from "./_select.ts";

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
