/**
 * `PowWorkerPool`: proof-of-work on Web Workers. The nonce space is cut into
 * chunks handed out in order, two in flight per worker so none waits for its
 * next job; the first solution is still the smallest nonce, because chunks
 * below a hit are finished before the pool answers. Workers start on first
 * use and stop after a short idle time, so a pool never keeps a process
 * alive on its own.
 *
 * @module
 */

import { formatNonce, type KernelJob } from "./_kernel.ts";
import { NoncePlan } from "./_plan.ts";
import {
  abortedError,
  prepareHexZeros,
  prepareZeroBits,
  type SolveRequest,
  timeoutError,
} from "./_request.ts";
import { calibrate, type KernelName } from "./_select.ts";
import { assertIntegerInRange, assertPositive, assertWorkerUrl } from "./_validate.ts";
import type { WorkerInit, WorkerRequest, WorkerResponse } from "./_worker_messages.ts";
import type { PowSolution, SolveOptions, ZeroBitsOptions } from "./solve_options.ts";
import { PowWorkerError } from "./errors.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { hardwareConcurrency } from "../core/runtime/detect.ts";

/** Options of {@linkcode PowWorkerPool}. */
export interface PowWorkerPoolOptions {
  /**
   * How many workers share each solve, 1..64.
   *
   * @default navigator.hardwareConcurrency, else 2
   */
  size?: number;
  /**
   * The kernel every worker uses instead of the fastest it measures.
   *
   * @default the fastest available in the worker
   */
  kernel?: KernelName;
  /**
   * How long idle workers are kept before they stop, in milliseconds.
   *
   * @default 1000
   */
  idleMs?: number;
  /**
   * Where the worker module (`@edgewire/sdk/pow/worker`) is. Unbundled code
   * finds it by itself; a bundle must emit that entry as a file of its own
   * and pass its URL here. When it cannot load, solves reject with a
   * {@linkcode PowWorkerError}.
   *
   * @default new URL("./worker.ts", import.meta.url), the module next to the pool
   */
  workerUrl?: string | URL;
}

/** Nonces per worker job: about a millisecond of the WebAssembly kernel, so little is wasted past a hit. */
const CHUNK = 1 << 14;
/** Jobs in flight per worker, so each has its next job queued when it finishes one. */
const DEPTH = 2;

interface Slot {
  worker: Worker;
  /** Jobs posted and not yet answered, of any solve. */
  busy: number;
}

interface ActiveSolve {
  answer(data: WorkerResponse, slot: Slot): void;
  fail(error: Error): void;
}

/**
 * A pool of proof-of-work workers, reused across solves.
 *
 * @example Solve several challenges on two workers
 * ```ts
 * import { PowWorkerPool } from "@edgewire/sdk/pow";
 *
 * using pool = new PowWorkerPool({ size: 2 });
 * const { nonce } = await pool.solve("3f9a1c0e5b7d2468ace013579bdf2468", 4);
 * console.log(nonce); // "1157"
 * ```
 */
export class PowWorkerPool implements Disposable {
  /** How many workers share each solve. */
  readonly size: number;
  readonly #kernel: KernelName | undefined;
  readonly #idleMs: number;
  readonly #url: string | URL;
  #slots: Slot[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #nextId = 0;
  #closed = false;
  #active: ActiveSolve | undefined;
  #generation = 0;
  // Shared with the workers where the runtime allows (not in pages without
  // cross-origin isolation): lets them skip jobs of solves that are over
  readonly #control = typeof SharedArrayBuffer === "function"
    ? new Int32Array(new SharedArrayBuffer(4))
    : undefined;

  /**
   * Creates a pool; no worker starts until the first solve.
   *
   * @param options The worker count, kernel, idle time and worker module.
   * @throws {InvalidArgumentError} When `size` or `idleMs` is out of range, or `workerUrl` is not a URL or a non-empty string.
   */
  constructor(options: PowWorkerPoolOptions = {}) {
    const action = "create PowWorkerPool";
    const size = options.size ?? defaultSize();
    assertIntegerInRange("size", size, [1, 64], action);
    const idleMs = options.idleMs ?? 1000;
    assertPositive("idleMs", idleMs, action);
    this.size = size;
    this.#kernel = options.kernel;
    this.#idleMs = idleMs;
    const workerUrl = options.workerUrl === undefined
      ? new URL("./worker.ts", import.meta.url)
      : options.workerUrl;
    assertWorkerUrl(workerUrl, action);
    this.#url = workerUrl;
  }

  /**
   * Whether this runtime has module Web Workers at all (Deno, Bun, browsers;
   * not Node or Cloudflare Workers).
   *
   * @returns True when `Worker` exists.
   */
  static supported(): boolean {
    return typeof globalThis.Worker === "function";
  }

  /**
   * Solves an mkStats challenge on the pool's workers; see `solvePow`.
   *
   * @param challenge The challenge the server sent.
   * @param difficulty Leading zero hex digits, 1..64.
   * @param options A signal, a time limit, progress and a clock; `workers` and `workerUrl` are ignored.
   * @returns The first solving nonce, the nonces hashed by all workers, the time, kernel and worker count.
   * @throws {InvalidArgumentError} Synchronously, for an argument out of range, or when the pool is closed.
   * @throws {AbortedError} When the signal aborts.
   * @throws {PowTimeoutError} When `maxMs` passes first.
   * @throws {PowWorkerError} When no worker can start in this runtime (`solvePow` falls back to the calling thread instead).
   */
  solve(challenge: string, difficulty: number, options: SolveOptions = {}): Promise<PowSolution> {
    return this.run(prepareHexZeros(challenge, difficulty, options));
  }

  /**
   * Solves the leading-zero-bits rule on the pool's workers; see `solveZeroBits`.
   *
   * @param challenge The challenge.
   * @param zeroBits Leading zero bits, 1..256.
   * @param options The encoding, a signal, a time limit, progress and a clock.
   * @returns The first solving nonce, the nonces hashed by all workers, the time, kernel and worker count.
   * @throws {InvalidArgumentError} Synchronously, for an argument out of range, or when the pool is closed.
   * @throws {AbortedError} When the signal aborts.
   * @throws {PowTimeoutError} When `maxMs` passes first.
   * @throws {PowWorkerError} When no worker can start in this runtime.
   */
  solveZeroBits(
    challenge: string,
    zeroBits: number,
    options: ZeroBitsOptions = {},
  ): Promise<PowSolution> {
    return this.run(prepareZeroBits(challenge, zeroBits, options));
  }

  /**
   * Runs a prepared solve; solves on one pool run one after another.
   *
   * @param request A validated request.
   * @returns The solution.
   * @ignore
   */
  run(request: SolveRequest): Promise<PowSolution> {
    if (this.#closed) {
      throw new InvalidArgumentError(
        "pool",
        "Cannot solve on a closed PowWorkerPool: create a new one",
      );
    }
    const result = this.#queue.then(() => this.#run(request));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Stops every worker now; later solves throw. */
  close(): void {
    this.#closed = true;
    this.#stopWorkers();
  }

  /** Same as {@linkcode close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #start(): Slot[] {
    clearTimeout(this.#idleTimer);
    if (this.#slots.length === 0) {
      try {
        for (let i = 0; i < this.size; i++) {
          const slot: Slot = { worker: new Worker(this.#url, { type: "module" }), busy: 0 };
          // Answers to jobs of a finished solve still arrive; only the solve
          // that owns an id acts on it, but every answer frees its slot
          slot.worker.onmessage = ({ data }: MessageEvent<WorkerResponse>) => {
            slot.busy--;
            this.#active?.answer(data, slot);
          };
          slot.worker.onerror = (event: ErrorEvent) => {
            event.preventDefault?.();
            this.#active?.fail(
              new PowWorkerError(`A proof-of-work worker failed: ${event.message ?? "no message"}`),
            );
            this.#stopWorkers();
          };
          if (this.#control !== undefined) {
            slot.worker.postMessage(
              { control: this.#control.buffer as SharedArrayBuffer } satisfies WorkerInit,
            );
          }
          this.#slots.push(slot);
        }
      } catch (error) {
        this.#stopWorkers();
        throw new PowWorkerError(`Cannot start the proof-of-work workers: ${String(error)}`, {
          cause: error,
        });
      }
    }
    return this.#slots;
  }

  #stopWorkers(): void {
    clearTimeout(this.#idleTimer);
    for (const { worker } of this.#slots) worker.terminate();
    this.#slots = [];
  }

  async #run(request: SolveRequest): Promise<PowSolution> {
    // Measured once on this thread and shared, so a fresh worker need not calibrate
    const kernel = request.kernel ?? this.#kernel ??
      (await calibrate()).kernel.name as KernelName;
    const slots = this.#start();
    const { now, signal, onProgress } = request;
    const plan = new NoncePlan(request.prefix, request.encoding, request.zeroBits);
    const started = now();
    const generation = ++this.#generation;
    const pending = new Map<number, KernelJob>();
    let hashes = 0;
    let best: number | undefined;
    let kernelName = kernel;

    return await new Promise<PowSolution>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void, stopWorkers: boolean) => {
        if (settled) return;
        settled = true;
        this.#active = undefined;
        if (this.#control !== undefined) Atomics.store(this.#control, 0, generation + 1);
        clearInterval(progress);
        clearTimeout(deadline);
        signal?.removeEventListener("abort", onAbort);
        // Stopping the workers is the only way to end their jobs at once; after a
        // success the few jobs above the hit just finish and are ignored
        if (stopWorkers) this.#stopWorkers();
        else this.#idleTimer = setTimeout(() => this.#stopWorkers(), this.#idleMs);
        outcome();
      };
      const onAbort = () => finish(() => reject(abortedError(request, hashes)), true);
      const deadline = setTimeout(
        () => finish(() => reject(timeoutError(request, hashes)), true),
        Math.max(0, request.maxMs - (now() - started)),
      );
      const progress = onProgress === undefined
        ? undefined
        : setInterval(() => onProgress({ hashes, ms: now() - started }), 250);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });

      const dispatch = (slot: Slot) => {
        while (best === undefined && slot.busy < DEPTH) {
          const job = plan.take(CHUNK);
          if (job === undefined) return;
          const id = this.#nextId++;
          pending.set(id, job);
          slot.busy++;
          slot.worker.postMessage({ id, generation, job, kernel } satisfies WorkerRequest);
        }
      };
      this.#active = {
        fail: (error) => finish(() => reject(error), true),
        answer: (data, slot) => {
          const job = pending.get(data.id);
          // An answer from a finished solve frees its slot for this one
          if (job === undefined) return dispatch(slot);
          pending.delete(data.id);
          if (data.error !== undefined) {
            return finish(
              () => reject(new PowWorkerError(`A proof-of-work worker failed: ${data.error}`)),
              true,
            );
          }
          kernelName = data.kernel as KernelName;
          hashes += data.offset >= 0 ? data.offset + 1 : job.count;
          if (data.offset >= 0 && (best === undefined || job.start + data.offset < best)) {
            best = job.start + data.offset;
          }
          if (best !== undefined) {
            // Answer once no job below the best hit is still running
            for (const other of pending.values()) if (other.start < best) return;
            const nonce = formatNonce(best, request.encoding);
            return finish(
              () =>
                resolve({
                  nonce,
                  hashes,
                  ms: now() - started,
                  kernel: kernelName,
                  workers: slots.length,
                }),
              false,
            );
          }
          dispatch(slot);
        },
      };
      for (const slot of slots) dispatch(slot);
    });
  }
}

function defaultSize(): number {
  return Math.min(hardwareConcurrency() ?? 2, 64);
}
