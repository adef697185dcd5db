/**
 * The end of a Deno, Node or Bun process: a normal exit, an uncaught error
 * or unhandled rejection, and SIGINT / SIGTERM, with hooks that either take
 * the end over (`onError`, `onSignal`) or only watch it (`onCrash`).
 *
 * @module
 */

import { isObject } from "./_globals.ts";

/**
 * Hooks into the end of a program: a normal exit, an uncaught error, and
 * SIGINT / SIGTERM. Each registration returns a function that removes it.
 */
export interface ProcessLifecycle {
  /**
   * Runs `callback` once when the program is about to end normally; the
   * runtime waits for the promise it returns.
   */
  onExit?(callback: () => Promise<unknown>): () => void;
  /**
   * Runs `callback` on an uncaught error or unhandled rejection; once it
   * settles the error is printed and the program exits with code 1.
   */
  onError?(callback: (error: unknown) => Promise<unknown>): () => void;
  /**
   * Runs `callback` on SIGINT or SIGTERM; once it settles the program exits
   * with code 130 or 143.
   */
  onSignal?(callback: (signal: string) => Promise<unknown>): () => void;
  /**
   * Calls `callback` synchronously with an uncaught error, or an unhandled
   * rejection the runtime treats as one, before the runtime acts on it, and
   * changes nothing of what follows: the error is still printed and the
   * program ends with the runtime's own exit code. Since the program may end
   * as soon as `callback` returns, nothing it starts asynchronously is
   * awaited; an error it throws is ignored.
   */
  onCrash?(callback: (error: unknown, source: CrashSource) => void): () => void;
}

/**
 * What {@linkcode ProcessLifecycle.onCrash} saw: an uncaught `"exception"`,
 * or an `"unhandled_rejection"`.
 *
 * @example
 * ```ts
 * import type { CrashSource } from "./lifecycle.ts";
 *
 * const source: CrashSource = "unhandled_rejection";
 * ```
 */
export type CrashSource = "exception" | "unhandled_rejection";

interface ProcessGlobals {
  Bun?: unknown;
  Deno?: {
    addSignalListener?: (signal: string, handler: () => void) => void;
    removeSignalListener?: (signal: string, handler: () => void) => void;
    exit?: (code: number) => never;
  };
  process?: {
    on?: (event: string, handler: (...args: unknown[]) => void) => unknown;
    off?: (event: string, handler: (...args: unknown[]) => void) => unknown;
    listenerCount?: (event: string) => number;
    exit?: (code: number) => never;
  };
  addEventListener?: (type: string, listener: (event: Event) => void) => void;
  removeEventListener?: (type: string, listener: (event: Event) => void) => void;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** Calls an `onCrash` callback; what it throws must not turn into a second crash. */
function notifyCrash(
  callback: (error: unknown, source: CrashSource) => void,
  error: unknown,
  source: CrashSource,
): void {
  try {
    callback(error, source);
  } catch {
    // The crash the runtime is about to report matters more than the observer's failure.
  }
}

/**
 * The lifecycle hooks of a Deno, Node or Bun process (an empty object
 * elsewhere: browsers and Workers have no process to end). Used by migas'
 * `track()` to send its final breadcrumb at exit, on a crash or on a signal,
 * and by Honch's `installErrorHook()` to record crashes with `onCrash`.
 *
 * @param globals Where to look; tests pass fakes.
 * @returns The hooks this runtime supports.
 *
 * @example
 * ```ts
 * import { processLifecycle } from "./lifecycle.ts";
 *
 * const lifecycle = processLifecycle();
 * const remove = lifecycle.onExit?.(async () => console.log("bye"));
 * remove?.();
 * ```
 */
export function processLifecycle(globals: object = globalThis): ProcessLifecycle {
  const g = globals as ProcessGlobals;
  const deno = isObject(g.Deno) ? g.Deno : undefined;
  const proc = deno === undefined && typeof g.process?.on === "function" ? g.process : undefined;
  const exit = (code: number) => {
    if (typeof deno?.exit === "function") deno.exit(code);
    else proc?.exit?.(code);
  };
  const report = (error: unknown) => console.error(error);
  if (deno !== undefined && typeof g.addEventListener === "function") {
    const on = g.addEventListener.bind(globals);
    const off = (g.removeEventListener ?? (() => {})).bind(globals);
    return {
      onExit(callback) {
        // beforeunload fires when the event loop empties; cancelling it lets the work
        // scheduled here run, after which it fires again and the program ends
        let fired = false;
        const listener = (event: Event) => {
          if (!fired) {
            fired = true;
            event.preventDefault();
            void callback();
          }
        };
        on("beforeunload", listener);
        return () => off("beforeunload", listener);
      },
      onError(callback) {
        const listener = (event: Event) => {
          event.preventDefault();
          const error = (event as ErrorEvent).error ?? (event as PromiseRejectionEvent).reason;
          report(error);
          void callback(error).finally(() => exit(1));
        };
        on("error", listener);
        on("unhandledrejection", listener);
        return () => {
          off("error", listener);
          off("unhandledrejection", listener);
        };
      },
      onCrash(callback) {
        // Listening without preventDefault() leaves Deno to print the error and exit with 1
        const onError = (event: Event) =>
          notifyCrash(
            callback,
            (event as ErrorEvent).error ?? (event as ErrorEvent).message,
            "exception",
          );
        const onRejection = (event: Event) =>
          notifyCrash(callback, (event as PromiseRejectionEvent).reason, "unhandled_rejection");
        on("error", onError);
        on("unhandledrejection", onRejection);
        return () => {
          off("error", onError);
          off("unhandledrejection", onRejection);
        };
      },
      onSignal(callback) {
        const removers: (() => void)[] = [];
        for (const signal of SIGNALS) {
          const handler = () => void callback(signal).finally(() => exit(SIGNAL_EXIT[signal]));
          try {
            deno.addSignalListener?.(signal, handler);
            removers.push(() => deno.removeSignalListener?.(signal, handler));
          } catch {
            // Windows has no SIGTERM listener
          }
        }
        return () => removers.forEach((remove) => remove());
      },
    };
  }
  if (proc !== undefined) {
    const on = (event: string, handler: (...args: unknown[]) => void) => proc.on?.(event, handler);
    const off = (event: string, handler: (...args: unknown[]) => void) =>
      proc.off?.(event, handler);
    return {
      onExit(callback) {
        let fired = false;
        const handler = () => {
          if (!fired) {
            fired = true;
            void callback();
          }
        };
        on("beforeExit", handler);
        return () => off("beforeExit", handler);
      },
      onError(callback) {
        const handler = (error: unknown) => {
          report(error);
          void callback(error).finally(() => exit(1));
        };
        on("uncaughtException", handler);
        on("unhandledRejection", handler);
        return () => {
          off("uncaughtException", handler);
          off("unhandledRejection", handler);
        };
      },
      onCrash(callback) {
        // The monitor sees every uncaught exception, and in Node every unhandled rejection
        // raised as one (the default mode), without handling it: the crash goes on as before.
        // An `uncaughtException` or `unhandledRejection` listener would stop it instead.
        const monitor = (error: unknown, origin: unknown) =>
          notifyCrash(
            callback,
            error,
            origin === "unhandledRejection" ? "unhandled_rejection" : "exception",
          );
        on("uncaughtExceptionMonitor", monitor);
        if (!isObject(g.Bun)) return () => off("uncaughtExceptionMonitor", monitor);
        // Bun ends the program on an unhandled rejection only when nothing listens for it, and
        // tells the monitor nothing. So a listener that is alone reports the rejection, steps
        // aside and rejects again with the same reason, which Bun prints and exits on as usual;
        // beside other listeners it does nothing, as the program then goes on.
        const onRejection = (reason: unknown) => {
          if ((proc.listenerCount?.("unhandledRejection") ?? 1) > 1) return;
          notifyCrash(callback, reason, "unhandled_rejection");
          off("unhandledRejection", onRejection);
          void Promise.reject(reason);
        };
        on("unhandledRejection", onRejection);
        return () => {
          off("uncaughtExceptionMonitor", monitor);
          off("unhandledRejection", onRejection);
        };
      },
      onSignal(callback) {
        const handlers = SIGNALS.map((signal) => {
          const handler = () => void callback(signal).finally(() => exit(SIGNAL_EXIT[signal]));
          on(signal, handler);
          return [signal, handler] as const;
        });
        return () => handlers.forEach(([signal, handler]) => off(signal, handler));
      },
    };
  }
  return {};
}
