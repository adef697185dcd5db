/**
 * The options of `EmitterClient` and the shapes of its requests:
 * publish, subscribe and unsubscribe, and the events it emits. Every field of
 * the client options is optional and checked once, at construction.
 *
 * @module
 */

import type { BackoffOption } from "../core/_backoff_option.ts";
import type { EdgewireError } from "../core/errors.ts";
import type { EmitterMessage } from "./message.ts";

/**
 * How an `EmitterClient` connects, keeps the connection and queues.
 *
 * @example
 * ```ts
 * import type { EmitterClientOptions } from "./options.ts";
 *
 * const options: EmitterClientOptions = { endpoint: "ws://127.0.0.1:8080/", keepaliveSeconds: 30 };
 * ```
 */
export interface EmitterClientOptions {
  /**
   * The broker's WebSocket URL, `ws:` or `wss:`.
   *
   * @default "wss://api.emitter.io:443/"
   */
  endpoint?: string;
  /**
   * The MQTT client identifier; empty asks the broker to assign one.
   *
   * @default ""
   */
  clientId?: string;
  /**
   * The MQTT user name; Emitter shows it in presence.
   *
   * @default undefined (none sent)
   */
  username?: string;
  /**
   * The keepalive in seconds, 1 to 65535: a PINGREQ goes out this often, and
   * a connection that receives nothing for 1.5 times as long is closed.
   *
   * @default 30
   */
  keepaliveSeconds?: number;
  /**
   * The deadline, in milliseconds, of `connect()` (socket and CONNACK), of a
   * QoS 1 publish (its PUBACK) and of subscribe and unsubscribe (their acks).
   *
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * The delays between reconnection attempts after a connection is lost.
   *
   * @default { initialMs: 1000, maxMs: 300000, jitter: "full" }
   */
  backoff?: BackoffOption;
  /**
   * The most publishes kept while offline; more drops the oldest, counted as `overflow`.
   *
   * @default 1000
   */
  maxQueuedEvents?: number;
  /**
   * The most bytes (topic and payload) of publishes kept while offline.
   *
   * @default 1048576
   */
  maxQueuedBytes?: number;
  /**
   * The WebSocket class to dial with (subprotocol `mqtt`).
   *
   * @default globalThis.WebSocket
   */
  WebSocket?: typeof WebSocket;
  /**
   * The clock, in epoch milliseconds, for keepalive and backoff.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * A source of uniform numbers in [0, 1), for backoff jitter.
   *
   * @default Math.random
   */
  random?: () => number;
}

/** Options of `EmitterClient.connect()`. */
export interface EmitterConnectOptions {
  /** Stops waiting and closes the socket when it aborts. */
  signal?: AbortSignal;
}

/** A message to publish. */
export interface EmitterPublishRequest {
  /** The channel key (for a plain MQTT broker, the first topic segment). */
  key: string;
  /** The channel, such as `chat/room1/`; a missing final `/` is added. */
  channel: string;
  /** The payload: text as UTF-8, bytes as they are, anything else as JSON. */
  message: string | Uint8Array | object;
  /** How long the broker stores the message, in seconds (`ttl=`). */
  ttl?: number;
  /** `false` asks the broker not to echo the message to this connection (`me=0`). */
  me?: boolean;
  /** Whether the broker keeps it as the channel's retained message. */
  retain?: boolean;
  /** 0 (default) or 1: resolve on the broker's PUBACK. */
  qos?: 0 | 1;
}

/** A subscription to make. */
export interface EmitterSubscribeRequest {
  /** The channel key. */
  key: string;
  /** The channel, wildcards `+` and `#` allowed; a missing final `/` is added. */
  channel: string;
  /** How many stored messages to replay on subscribe (`last=`). */
  last?: number;
  /** Replay stored messages from this unix second (`from=`). */
  from?: number;
  /** Replay stored messages until this unix second (`until=`). */
  until?: number;
}

/** A subscription to drop. */
export interface EmitterUnsubscribeRequest {
  /** The channel key it was made with. */
  key: string;
  /** The channel it was made with. */
  channel: string;
}

/** The events of `EmitterClient` and what their listeners get. */
export interface EmitterEvents {
  /** A connection was accepted (CONNACK 0), the first or a reconnection. */
  connect: () => void;
  /** The connection was lost (with why) or closed by `disconnect()` (no error). */
  disconnect: (error: EdgewireError | undefined) => void;
  /** A message arrived on any subscription. */
  message: (message: EmitterMessage) => void;
  /** Something went wrong outside any call: a malformed packet, a failed reconnection. */
  error: (error: EdgewireError) => void;
}
