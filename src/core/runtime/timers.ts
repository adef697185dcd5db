/**
 * Timers that do not keep a process alive, for Deno's numeric timer ids and
 * Node's and Bun's timer objects.
 *
 * @module
 */

import { isObject } from "./_globals.ts";

/** The globals unref'ing may look at; optional and untrusted. */
interface TimerGlobals {
  Deno?: { unrefTimer?: (id: number) => void };
}

/**
 * Lets a timer run without keeping the process alive, so a pending flush or
 * heartbeat never stops a CLI from exiting. Uses `Deno.unrefTimer` for
 * Deno's numeric ids and `unref()` for Node and Bun timer objects; a no-op
 * elsewhere.
 *
 * @param id What `setTimeout` or `setInterval` returned.
 * @param globals Where to look for `Deno`; tests pass fakes.
 *
 * @example
 * ```ts
 * import { unrefTimer } from "./timers.ts";
 *
 * const timer = setInterval(() => console.log("heartbeat"), 60_000);
 * unrefTimer(timer);
 * clearInterval(timer);
 * ```
 */
export function unrefTimer(id: unknown, globals: object = globalThis): void {
  try {
    if (typeof id === "number") {
      const deno = (globals as TimerGlobals).Deno;
      if (typeof deno?.unrefTimer === "function") deno.unrefTimer(id);
      return;
    }
    if (isObject(id) && typeof (id as { unref?: unknown }).unref === "function") {
      (id as { unref: () => void }).unref();
    }
  } catch {
    // An unknown or already cleared timer: keeping it referenced is harmless.
  }
}

/** The globals {@linkcode afterIo} may look at. */
interface ImmediateGlobals {
  setImmediate?: (callback: () => void) => unknown;
}

/**
 * Runs `callback` once the I/O the runtime already has ready has been
 * handled: `setImmediate` in Deno, Node and Bun, which comes after the
 * turn's network callbacks and costs microseconds, where a zero-delay
 * `setTimeout` waits a millisecond or more; that timer elsewhere. A store
 * commits its group of writes there, so the requests that arrived together
 * share one commit without a timer's delay on every answer.
 *
 * @param callback What to run.
 * @param globals Where to look for `setImmediate`; tests pass fakes.
 * @returns Nothing.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { afterIo } from "./timers.ts";
 *
 * await new Promise<void>((resolve) => afterIo(resolve));
 * ```
 */
export function afterIo(callback: () => void, globals: object = globalThis): void {
  const immediate = (globals as ImmediateGlobals).setImmediate;
  if (typeof immediate === "function") immediate(callback);
  else setTimeout(callback, 0);
}
