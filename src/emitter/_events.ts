/**
 * A small typed event registry for the client: listeners per event name, and
 * an emit that keeps one listener's exception from reaching the socket code
 * (it is reported on the `error` event instead).
 *
 * @module
 */

import { EdgewireError } from "../core/errors.ts";

// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;

/** Listeners for the events of map `M` (event name to listener type). */
export class Events<M extends { error: (error: EdgewireError) => void }> {
  readonly #listeners = new Map<keyof M, Set<Listener>>();

  /** Adds a listener; returns the function that removes it. */
  on<E extends keyof M>(event: E, listener: M[E]): () => void {
    const set = this.#listeners.get(event) ?? new Set<Listener>();
    this.#listeners.set(event, set);
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  /** Calls the listeners of one event, in the order they were added. */
  emit<E extends keyof M>(
    event: E,
    ...args: M[E] extends Listener ? Parameters<M[E]> : never
  ): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        listener(...args);
      } catch (cause) {
        if (event !== "error") {
          this.#report(new EdgewireError(`A '${String(event)}' listener threw`, { cause }));
        }
      }
    }
  }

  #report(error: EdgewireError): void {
    for (const listener of this.#listeners.get("error") ?? []) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere left to report to
      }
    }
  }
}
