/**
 * The backplane: what several server processes share so they act as one
 * server. It is a narrow interface (publish bytes on a channel, subscribe to
 * a channel, atomic counters that expire, and a status the processes
 * follow), which `RedisBackplane` (`@edgewire/sdk/server/redis`) implements
 * over Redis and {@linkcode MemoryBackplane} within one process. Without a
 * backplane the server keeps every live state in its own process, exactly as
 * before: nothing here is on that path.
 *
 * @module
 */

import { EdgewireError } from "../core/errors.ts";

/** Called with each message published on a channel. */
export type BackplaneHandler = (message: Uint8Array) => void;

/** The backplane's connection, as {@linkcode Backplane.onStatus} reports it. */
export type BackplaneStatus = "up" | "down";

/** A subscription to one channel of a {@linkcode Backplane}. */
export interface BackplaneSubscription {
  /**
   * Stops the handler; calling it again does nothing.
   *
   * @returns Once the backplane has stopped delivering.
   */
  unsubscribe(): Promise<void>;
}

/**
 * What the server processes of one deployment share. Messages on a channel
 * reach every process subscribed to it (the publisher's own handlers
 * included), in the order one process published them; a message published
 * while a process was cut off is lost to that process, which learns it
 * through {@linkcode Backplane.onStatus} and asks the others again.
 *
 * @example Publish and receive within one process
 * ```ts
 * import { type Backplane, MemoryBackplane } from "@edgewire/sdk/server";
 *
 * const backplane: Backplane = new MemoryBackplane();
 * const got: number[] = [];
 * await backplane.subscribe("news", (message) => got.push(message[0]));
 * await backplane.publish("news", new Uint8Array([7]));
 * console.log(got); // [ 7 ]
 * await backplane.close();
 * ```
 */
export interface Backplane {
  /**
   * Sends bytes to every subscriber of a channel, in every process.
   *
   * @param channel The channel's name.
   * @param message The bytes; the backplane does not keep a reference.
   * @returns Once the backplane took the message.
   * @throws {BackplaneError} When the backplane cannot be reached or is closed.
   */
  publish(channel: string, message: Uint8Array): Promise<void>;
  /**
   * Calls `handler` with each message published on a channel from now on.
   *
   * @param channel The channel's name.
   * @param handler Called with each message; it must not throw.
   * @returns The subscription, once messages flow.
   * @throws {BackplaneError} When the backplane cannot be reached or is closed.
   */
  subscribe(channel: string, handler: BackplaneHandler): Promise<BackplaneSubscription>;
  /**
   * Adds `by` to a counter shared by every process, atomically. A counter
   * that did not exist starts at 0 and is deleted `ttlMs` later.
   *
   * @param key The counter's name.
   * @param by What to add (an integer, negative to take away).
   * @param ttlMs How long a new counter lives, in milliseconds.
   * @returns The counter's value after the addition.
   * @throws {BackplaneError} When the backplane cannot be reached or is closed.
   */
  increment(key: string, by: number, ttlMs: number): Promise<number>;
  /**
   * Follows the connection: `"down"` when it is lost (messages may have been
   * missed), `"up"` when it is back.
   *
   * @param listener Called on each change; it must not throw.
   * @returns A function that stops the listener.
   */
  onStatus(listener: (status: BackplaneStatus, error?: BackplaneError) => void): () => void;
  /**
   * Closes the connection; later calls reject with a {@linkcode BackplaneError}.
   *
   * @returns Once closed.
   */
  close(): Promise<void>;
}

/**
 * The backplane could not be reached in time, lost its connection, or was
 * closed. `code` is `backplane_unavailable`, `backplane_timeout` or
 * `backplane_closed`. The message names the backplane's host, never its
 * password.
 *
 * @example
 * ```ts
 * import { BackplaneError } from "@edgewire/sdk/server";
 *
 * const error = new BackplaneError("Cannot reach the backplane at 127.0.0.1:6379: start it or check the URL", "backplane_unavailable");
 * console.log(error.code); // "backplane_unavailable"
 * ```
 */
export class BackplaneError extends EdgewireError {
  /** The class name, a literal so it survives minification. */
  override readonly name: string = "BackplaneError";

  /**
   * Creates an error.
   *
   * @param message What went wrong and what to do, without credentials.
   * @param code `backplane_unavailable`, `backplane_timeout` or `backplane_closed`.
   * @param cause The client's own error.
   */
  constructor(
    message: string,
    code: "backplane_unavailable" | "backplane_timeout" | "backplane_closed",
    cause?: unknown,
  ) {
    super(message, { code, cause });
  }
}

/**
 * Whether a value has the methods of a {@linkcode Backplane}.
 *
 * @param value What to check.
 * @returns The names of the methods it lacks; empty when it has them all.
 */
export function missingBackplaneMethods(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return ["publish"];
  const names = ["publish", "subscribe", "increment", "onStatus", "close"] as const;
  return names.filter((name) => typeof (value as Record<string, unknown>)[name] !== "function");
}

interface Counter {
  value: number;
  expiresAt: number;
}

/**
 * A {@linkcode Backplane} within one process: several servers created with
 * the same one act as one, as processes sharing a `RedisBackplane` do. Its
 * handlers run after the current turn, as a network backplane's would.
 * Useful in tests and to run several servers in one process; it never goes
 * down.
 *
 * @example Two servers in one process, one Emitter broker
 * ```ts
 * import { createServer, MemoryBackplane } from "@edgewire/sdk/server";
 *
 * const backplane = new MemoryBackplane();
 * const a = createServer({ backplane });
 * const b = createServer({ backplane, emitter: { license: a.emitter.license.toString() } });
 * await a.close();
 * await b.close();
 * ```
 */
export class MemoryBackplane implements Backplane {
  readonly #channels = new Map<string, Set<BackplaneHandler>>();
  readonly #counters = new Map<string, Counter>();
  readonly #now: () => number;
  #closed = false;

  /**
   * Creates an empty backplane.
   *
   * @param now The clock counters expire by, in milliseconds.
   * @throws Never.
   */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Sends bytes to every subscriber of a channel once the current turn ends.
   *
   * @param channel The channel's name.
   * @param message The bytes; copied.
   * @returns Once queued.
   * @throws {BackplaneError} When closed.
   */
  publish(channel: string, message: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    const handlers = this.#channels.get(channel);
    if (handlers === undefined) return Promise.resolve();
    const copy = message.slice();
    const targets = [...handlers];
    queueMicrotask(() => {
      for (const handler of targets) handler(copy);
    });
    return Promise.resolve();
  }

  /**
   * Calls `handler` with each message published on a channel from now on.
   *
   * @param channel The channel's name.
   * @param handler Called with each message.
   * @returns The subscription.
   * @throws {BackplaneError} When closed.
   */
  subscribe(channel: string, handler: BackplaneHandler): Promise<BackplaneSubscription> {
    if (this.#closed) return Promise.reject(closedError());
    let handlers = this.#channels.get(channel);
    if (handlers === undefined) this.#channels.set(channel, handlers = new Set());
    // A wrapper, so one handler subscribed twice is two subscriptions
    const own: BackplaneHandler = (message) => handler(message);
    handlers.add(own);
    return Promise.resolve({
      unsubscribe: () => {
        handlers.delete(own);
        if (handlers.size === 0 && this.#channels.get(channel) === handlers) {
          this.#channels.delete(channel);
        }
        return Promise.resolve();
      },
    });
  }

  /**
   * Adds to a counter, which a first addition creates with an expiry.
   *
   * @param key The counter's name.
   * @param by What to add.
   * @param ttlMs How long a new counter lives, in milliseconds.
   * @returns The value after the addition.
   * @throws {BackplaneError} When closed.
   */
  increment(key: string, by: number, ttlMs: number): Promise<number> {
    if (this.#closed) return Promise.reject(closedError());
    const now = this.#now();
    let counter = this.#counters.get(key);
    if (counter === undefined || counter.expiresAt <= now) {
      if (this.#counters.size >= 100_000) this.#sweep(now);
      counter = { value: 0, expiresAt: now + ttlMs };
      this.#counters.set(key, counter);
    }
    counter.value += by;
    return Promise.resolve(counter.value);
  }

  /**
   * Never reports a change: an in-process backplane cannot go down.
   *
   * @param _listener Not called.
   * @returns A function that does nothing.
   */
  onStatus(_listener: (status: BackplaneStatus, error?: BackplaneError) => void): () => void {
    return () => {};
  }

  /**
   * Drops every subscription and counter.
   *
   * @returns Once closed.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    this.#counters.clear();
    return Promise.resolve();
  }

  #sweep(now: number): void {
    for (const [key, counter] of this.#counters) {
      if (counter.expiresAt <= now) this.#counters.delete(key);
    }
  }
}

function closedError(): BackplaneError {
  return new BackplaneError(
    "Cannot use the backplane as it is closed: create a new one",
    "backplane_closed",
  );
}
