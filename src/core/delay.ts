/**
 * A cancellable wait, optionally one that does not keep a process alive: the
 * small stand-in for `@std/async`'s `delay` that every client uses.
 *
 * @module
 */

import { AbortedError } from "./errors.ts";
import { unrefTimer } from "./runtime/timers.ts";

/** Options of {@linkcode delay}. */
export interface DelayOptions {
  /**
   * Ends the wait early, rejecting with {@linkcode AbortedError}.
   *
   * @default undefined
   */
  signal?: AbortSignal;
  /**
   * Lets a Deno, Node or Bun process exit while the wait is pending. Set it
   * for background work nobody awaits; leave it off for a wait the program
   * awaits, or the runtime may end the program mid-wait.
   *
   * @default false
   */
  unref?: boolean;
}

/**
 * Waits `ms` milliseconds.
 *
 * @param ms How long to wait.
 * @param options A signal that cancels the wait, and whether the timer keeps the process alive.
 * @returns A promise that resolves after the wait.
 * @throws {AbortedError} When the signal aborts, before or during the wait.
 *
 * @example
 * ```ts
 * import { delay } from "@edgewire/sdk";
 *
 * const controller = new AbortController();
 * await delay(10, { signal: controller.signal });
 * ```
 */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) {
    return Promise.reject(new AbortedError("The wait was aborted", { cause: signal.reason }));
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(id);
      reject(new AbortedError("The wait was aborted", { cause: signal?.reason }));
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    if (options.unref) unrefTimer(id);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
