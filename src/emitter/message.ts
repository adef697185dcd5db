/**
 * {@linkcode EmitterMessage}: one message delivered on a subscription, with
 * its channel and its payload readable as text, JSON or bytes; and
 * {@linkcode EmitterHistoryMessage}, a stored message a history request
 * returned, which also has the broker's id.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * A message received from the broker.
 *
 * @example
 * ```ts
 * import { EmitterMessage } from "./message.ts";
 *
 * const message = new EmitterMessage("chat/", new TextEncoder().encode('{"hi":1}'));
 * console.log(message.channel, message.asString(), message.asObject()); // "chat/" '{"hi":1}' { hi: 1 }
 * ```
 */
export class EmitterMessage {
  /**
   * The topic the broker delivered it on: for Emitter the channel without its
   * key (`chat/`); a plain MQTT broker gives the whole topic.
   */
  readonly channel: string;
  readonly #payload: Uint8Array;

  /**
   * Wraps a delivered payload; the bytes are copied, so the message owns them.
   *
   * @param channel The topic it arrived on.
   * @param payload Its bytes.
   */
  constructor(channel: string, payload: Uint8Array) {
    this.channel = channel;
    this.#payload = payload.slice();
  }

  /**
   * The payload as UTF-8 text; invalid sequences become U+FFFD.
   *
   * @returns The text.
   * @throws Never.
   * @example
   * ```ts
   * import { EmitterMessage } from "./message.ts";
   *
   * console.log(new EmitterMessage("a/", new Uint8Array([104, 105])).asString()); // "hi"
   * ```
   */
  asString(): string {
    return decoder.decode(this.#payload);
  }

  /**
   * The payload parsed as JSON.
   *
   * @returns The parsed value.
   * @throws {SyntaxError} When the payload is not JSON.
   * @example
   * ```ts
   * import { EmitterMessage } from "./message.ts";
   *
   * console.log(new EmitterMessage("a/", new TextEncoder().encode("[1]")).asObject()); // [1]
   * ```
   */
  asObject<T = unknown>(): T {
    return JSON.parse(this.asString()) as T;
  }

  /**
   * The payload bytes, a copy the caller may change.
   *
   * @returns The bytes.
   * @throws Never.
   * @example
   * ```ts
   * import { EmitterMessage } from "./message.ts";
   *
   * console.log(new EmitterMessage("a/", new Uint8Array([1, 2])).asBinary()); // Uint8Array(2) [1, 2]
   * ```
   */
  asBinary(): Uint8Array {
    return this.#payload.slice();
  }
}

/**
 * A stored message from `EmitterClient.history()`: a message with the
 * broker's id, which a later request passes as `startFromId` to page on.
 *
 * @example
 * ```ts
 * import { EmitterHistoryMessage } from "./message.ts";
 *
 * const message = new EmitterHistoryMessage("AAECAw==", "chat/", new Uint8Array([104, 105]));
 * console.log(message.id, message.channel, message.asString()); // "AAECAw==" "chat/" "hi"
 * ```
 */
export class EmitterHistoryMessage extends EmitterMessage {
  /** The broker's id of the message, as it sent it (base64 text); opaque to the client. */
  readonly id: string;

  /**
   * Wraps a stored message; the bytes are copied, so the message owns them.
   *
   * @param id The broker's id of the message.
   * @param channel The channel it was published on, without its key.
   * @param payload Its bytes.
   */
  constructor(id: string, channel: string, payload: Uint8Array) {
    super(channel, payload);
    this.id = id;
  }
}
