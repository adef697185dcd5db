/**
 * {@linkcode EmitterSubscription}: the messages of one subscription as an
 * async iterator. Messages wait in a buffer bounded by count (the oldest is
 * dropped and counted when a reader falls behind); iteration ends when the
 * subscription is dropped or the client disconnects.
 *
 * @module
 */

import type { EmitterMessage } from "./message.ts";

/**
 * One subscription's messages, in arrival order.
 *
 * @example
 * ```ts
 * import { EmitterSubscription } from "./subscription.ts";
 * import { EmitterMessage } from "./message.ts";
 *
 * const subscription = new EmitterSubscription("chat/", 10);
 * subscription.deliver(new EmitterMessage("chat/", new Uint8Array([104, 105])));
 * subscription.end();
 * for await (const message of subscription) console.log(message.asString()); // "hi"
 * ```
 */
export class EmitterSubscription implements AsyncIterable<EmitterMessage> {
  /** The channel subscribed to, without key and options. */
  readonly channel: string;
  readonly #limit: number;
  readonly #buffer: EmitterMessage[] = [];
  /** The `next()` calls waiting for a message, oldest first (calls may overlap). */
  readonly #waiters: ((result: IteratorResult<EmitterMessage>) => void)[] = [];
  #ended = false;
  #dropped = 0;

  /**
   * Creates an empty subscription buffer.
   *
   * @param channel The channel subscribed to.
   * @param limit How many unread messages to keep.
   */
  constructor(channel: string, limit: number) {
    this.channel = channel;
    this.#limit = limit;
  }

  /** How many messages were dropped because nobody read them in time. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether the subscription ended: no more messages will come. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Hands a message to the reader, or buffers it.
   *
   * @param message The message.
   */
  deliver(message: EmitterMessage): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter({ value: message, done: false });
      return;
    }
    this.#buffer.push(message);
    if (this.#buffer.length > this.#limit) {
      this.#buffer.shift();
      this.#dropped++;
    }
  }

  /** Ends iteration once the buffered messages are read. */
  end(): void {
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  /**
   * Iterates the messages until the subscription ends.
   *
   * @returns The iterator.
   */
  [Symbol.asyncIterator](): AsyncIterator<EmitterMessage> {
    return {
      next: (): Promise<IteratorResult<EmitterMessage>> => {
        const message = this.#buffer.shift();
        if (message !== undefined) return Promise.resolve({ value: message, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<EmitterMessage>> => {
        this.#buffer.length = 0;
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
