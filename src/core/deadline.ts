/**
 * A deadline for one operation that holds even when the work ignores its
 * abort signal: {@linkcode Deadline.signal} aborts when the time passes or a
 * caller's signal aborts, and {@linkcode Deadline.race} stops waiting at that
 * moment whatever the awaited promise does. `postRaw` and Honch's transport
 * calls both run under one, so "a request keeps its deadline" is written once.
 *
 * @module
 */

import { positiveNumber } from "./validate.ts";

/** How a {@linkcode Deadline} names its two causes of stopping. */
export interface DeadlineOptions {
  /** A caller's signal; its abort stops the operation too. */
  signal?: AbortSignal;
  /**
   * Builds the error the waiters get when the time passes.
   *
   * @param timeoutMs The deadline, in milliseconds.
   */
  onTimeout: (timeoutMs: number) => Error;
  /**
   * Builds the error the waiters get when the caller's signal aborts.
   *
   * @param reason The signal's reason.
   */
  onAbort?: (reason: unknown) => Error;
}

/**
 * One operation's deadline. Call {@linkcode Deadline.prototype.end} when the
 * operation ends (in a `finally`), so its timer and listener go. It has no
 * `[Symbol.dispose]`: `using` is not in every runtime the clients support
 * (Node 20 and 22 refuse the syntax), so the package does not rely on it.
 *
 * @example
 * ```ts
 * import { Deadline } from "./deadline.ts";
 *
 * const deadline = new Deadline(50, { onTimeout: (ms) => new Error(`over ${ms} ms`) });
 * try {
 *   const stuck = new Promise<never>(() => {}); // work that ignores every signal
 *   await deadline.race(stuck).catch((error) => console.log(error.message)); // "over 50 ms"
 * } finally {
 *   deadline.end();
 * }
 * ```
 */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #stopped: Promise<never>;
  readonly #parent: AbortSignal | undefined;
  readonly #onParentAbort: () => void;
  #timedOut = false;

  /**
   * Starts the clock.
   *
   * @param timeoutMs How long the operation may take, in milliseconds.
   * @param options The caller's signal and the errors to stop with.
   * @throws {InvalidArgumentError} When `timeoutMs` is not a positive finite number.
   */
  constructor(timeoutMs: number, options: DeadlineOptions) {
    positiveNumber("start a deadline", "timeoutMs", timeoutMs);
    let stop: (error: Error) => void = () => {};
    this.#stopped = new Promise<never>((_resolve, reject) => (stop = reject));
    // Nobody may be racing at the moment it fires: that is not an unhandled rejection
    this.#stopped.catch(() => {});
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      const error = options.onTimeout(timeoutMs);
      this.#controller.abort(error);
      stop(error);
    }, timeoutMs);
    this.#parent = options.signal;
    this.#onParentAbort = () => {
      const reason = this.#parent?.reason;
      const error = options.onAbort?.(reason) ??
        (reason instanceof Error ? reason : new Error(String(reason)));
      this.#controller.abort(error);
      stop(error);
    };
    if (this.#parent?.aborted) this.#onParentAbort();
    else this.#parent?.addEventListener("abort", this.#onParentAbort, { once: true });
  }

  /** Aborted when the time passes or the caller's signal aborts: hand it to the work. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the time passed (rather than the caller aborting). */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /**
   * Waits for `work`, but no longer than the deadline.
   *
   * @param work The promise to wait for.
   * @returns What `work` resolves to.
   * @throws {Error} What `work` rejects with, or the deadline's timeout or abort error.
   */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#stopped]);
  }

  /** Stops the timer and the listener on the caller's signal; call it once the operation ends. */
  end(): void {
    clearTimeout(this.#timer);
    this.#parent?.removeEventListener("abort", this.#onParentAbort);
  }
}
