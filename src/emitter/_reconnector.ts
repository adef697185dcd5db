/**
 * The client's reconnection loop: after a lost connection it waits the
 * backoff gate's next delay (capped, jittered), dials again, reports each
 * failed attempt, and goes on until a dial succeeds or the client stops it.
 * One loop at a time; `stop()` ends the wait or the dial under way.
 *
 * @module
 */

import type { BackoffGate } from "../core/backoff.ts";
import { delay } from "../core/delay.ts";
import { EdgewireError, NetworkError } from "../core/errors.ts";

/** What the loop needs from the client. */
export interface ReconnectHooks {
  /** The delays between attempts; the client resets it on success. */
  gate: BackoffGate;
  /** Whether to stop trying: connected again, or stopped by `disconnect()`. */
  done(): boolean;
  /** One attempt; it aborts with the signal. */
  dial(signal: AbortSignal): Promise<void>;
  /** Where a failed attempt is reported. */
  failed(error: EdgewireError): void;
}

/** Runs at most one reconnection loop. */
export class Reconnector {
  readonly #hooks: ReconnectHooks;
  #controller: AbortController | undefined;

  /**
   * @param hooks The gate, the end condition, the dial and the report of failures.
   */
  constructor(hooks: ReconnectHooks) {
    this.#hooks = hooks;
  }

  /** Starts the loop, unless one is running. */
  start(): void {
    if (this.#controller !== undefined) return;
    const controller = new AbortController();
    this.#controller = controller;
    void this.#run(controller).finally(() => {
      if (this.#controller === controller) this.#controller = undefined;
    });
  }

  /** Ends the loop: its wait or its dial under way is aborted. */
  stop(): void {
    this.#controller?.abort();
    this.#controller = undefined;
  }

  async #run(controller: AbortController): Promise<void> {
    const { signal } = controller;
    try {
      while (!this.#hooks.done()) {
        await delay(this.#hooks.gate.failed(), { signal });
        if (this.#hooks.done()) return;
        try {
          await this.#hooks.dial(signal);
        } catch (error) {
          if (signal.aborted) return;
          this.#hooks.failed(
            error instanceof EdgewireError
              ? error
              : new NetworkError("Cannot reconnect to Emitter", { cause: error }),
          );
        }
      }
    } catch {
      // The wait was aborted by stop()
    }
  }
}
