/**
 * The client's two small waiting tools: a promise settled from outside (an
 * acknowledgement that a later packet brings), and a wait for one under the
 * client's `timeoutMs`, on the core `Deadline`.
 *
 * @module
 */

import { Deadline } from "../core/deadline.ts";
import { TimeoutError } from "../core/errors.ts";

/** A promise and the function that settles it: with an error, it rejects. */
export interface Deferred {
  promise: Promise<void>;
  settle: (error?: Error) => void;
}

/** Creates a {@linkcode Deferred}; an unawaited rejection is not reported as unhandled. */
export function deferred(): Deferred {
  let settle: (error?: Error) => void = () => {};
  const promise = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  promise.catch(() => {});
  return { promise, settle };
}

/**
 * Waits for `work` at most `timeoutMs`.
 *
 * @param work The promise.
 * @param timeoutMs The deadline, in milliseconds.
 * @param what What is awaited, for the message (`a PUBACK`).
 * @param onTimeout Called when the time passed, to forget the wait.
 * @throws {TimeoutError} When the time passes; else what `work` rejects with.
 */
export async function within(
  work: Promise<void>,
  timeoutMs: number,
  what: string,
  onTimeout: () => void,
): Promise<void> {
  const deadline = new Deadline(timeoutMs, {
    onTimeout: (ms) =>
      new TimeoutError(`Cannot get ${what} from the Emitter broker within ${ms} ms`, ms),
  });
  try {
    await deadline.race(work);
  } catch (error) {
    if (deadline.timedOut) onTimeout();
    throw error;
  } finally {
    deadline.end();
  }
}
