/**
 * The options of the Emitter broker ({@linkcode EmitterBrokerOptions}) and
 * their validation: every field is optional, with the real broker's value as
 * the default where it has one, and limits that keep one client from taking
 * the broker's memory.
 *
 * @module
 */

import { integer, nonEmptyString, optionalFunction, positiveNumber } from "../../core/validate.ts";
import { DEFAULT_MAX_PACKET_SIZE, MAX_REMAINING_LENGTH } from "../../emitter/mqtt/packets.ts";

/**
 * How the Emitter broker runs. Time, randomness and timers are injected with
 * their built-in types, so tests can drive deadlines without waiting.
 *
 * @example A broker for a test: small limits, a fixed clock
 * ```ts
 * import type { EmitterBrokerOptions } from "./options.ts";
 *
 * const options: EmitterBrokerOptions = {
 *   maxSubscriptionsPerConnection: 10,
 *   now: () => 1_700_000_000_000,
 * };
 * console.log(options.maxSubscriptionsPerConnection); // 10
 * ```
 */
export interface EmitterBrokerOptions {
  /**
   * The license text (`EMITTER_LICENSE` of the real broker): it names the
   * contract and the key cipher. Keys made under a license work on any broker
   * given the same one.
   *
   * @default a new license generated in memory (see `EmitterBroker.secret`)
   */
  license?: string;
  /**
   * The largest MQTT packet body accepted, in bytes; a larger one closes the
   * connection that sent it.
   *
   * @default 65536, the real broker's limit
   */
  maxMessageBytes?: number;
  /**
   * How many bytes a connection may have waiting in its transport's send
   * buffer; past it the connection is closed, so a slow subscriber never
   * stalls a channel or grows the broker's memory.
   *
   * @default 4194304 (4 MiB)
   */
  maxSendBufferBytes?: number;
  /**
   * How many subscriptions (presence ones included) one connection may hold;
   * a SUBSCRIBE past it is refused with `0x80` and a 403 on `emitter/error/`.
   *
   * @default 1000
   */
  maxSubscriptionsPerConnection?: number;
  /**
   * How many connections one remote address may hold at once; a further one
   * is closed as soon as it is accepted.
   *
   * @default 1000
   */
  maxConnectionsPerAddress?: number;
  /**
   * How many unexpired messages one contract may keep in the store. A message
   * published with a `ttl` (or retained) past it is still delivered live but
   * not stored; it is counted in `stats().storeRefused` and the publisher gets
   * a 429 on `emitter/error/`. The real broker has no quota.
   *
   * @default 100000
   */
  maxStoredMessagesPerContract?: number;
  /**
   * How many bytes (ids and payloads) of unexpired messages one contract may
   * keep in the store; past it a message is refused as past
   * `maxStoredMessagesPerContract`.
   *
   * @default 268435456 (256 MiB)
   */
  maxStoredBytesPerContract?: number;
  /**
   * How long a new connection may take to send CONNECT, in milliseconds.
   *
   * @default 120000, the real broker's read deadline
   */
  connectTimeoutMs?: number;
  /**
   * How long a connected client may stay silent when it asked for no
   * keepalive, in milliseconds. A client with a keepalive gets 1.5 times it.
   *
   * @default 120000, the real broker's read deadline
   */
  idleTimeoutMs?: number;
  /**
   * The clock, in milliseconds since the epoch: message times and ids, key
   * expiry, presence times and deadlines.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * A random number in `[0, 1)`: connection ids, share-group picks, key salts
   * and the message ids' node word.
   *
   * @default Math.random (key salts: crypto.getRandomValues)
   */
  random?: () => number;
  /**
   * Schedules the deadline sweep (once a second while connections are open).
   *
   * @default globalThis.setTimeout, unref'd
   */
  setTimeout?: typeof setTimeout;
  /**
   * Cancels the deadline sweep.
   *
   * @default globalThis.clearTimeout
   */
  clearTimeout?: typeof clearTimeout;
}

/**
 * The options with every default applied, as {@linkcode resolveBrokerOptions}
 * returns them; the broker reads only these.
 */
export interface ResolvedBrokerOptions {
  /** The license text, or `undefined` to generate one. */
  readonly license: string | undefined;
  /** The largest packet body accepted, in bytes. */
  readonly maxMessageBytes: number;
  /** The send buffer past which a connection is closed, in bytes. */
  readonly maxSendBufferBytes: number;
  /** The most subscriptions one connection holds. */
  readonly maxSubscriptionsPerConnection: number;
  /** The most connections one address holds. */
  readonly maxConnectionsPerAddress: number;
  /** The most unexpired messages one contract keeps in the store. */
  readonly maxStoredMessagesPerContract: number;
  /** The most bytes of unexpired messages one contract keeps in the store. */
  readonly maxStoredBytesPerContract: number;
  /** How long a connection may take to send CONNECT, in milliseconds. */
  readonly connectTimeoutMs: number;
  /** How long a client without keepalive may stay silent, in milliseconds. */
  readonly idleTimeoutMs: number;
  /** The clock, in milliseconds. */
  readonly now: () => number;
  /** A random number in `[0, 1)`. */
  readonly random: () => number;
  /** Random bytes from `random` when one was given, else `undefined` (crypto is used). */
  readonly randomBytes: ((length: number) => Uint8Array) | undefined;
  /** Schedules the deadline sweep. */
  readonly setTimeout: typeof setTimeout;
  /** Cancels the deadline sweep. */
  readonly clearTimeout: typeof clearTimeout;
}

const ACTION = "create EmitterBroker";

/**
 * Checks the options once and applies the defaults.
 *
 * @param options The caller's options.
 * @returns Every field resolved.
 * @throws {InvalidArgumentError} When a field has the wrong type or is out of range.
 * @example
 * ```ts
 * import { resolveBrokerOptions } from "./options.ts";
 *
 * console.log(resolveBrokerOptions({}).maxMessageBytes); // 65536
 * ```
 */
export function resolveBrokerOptions(options: EmitterBrokerOptions = {}): ResolvedBrokerOptions {
  const random = optionalFunction<() => number>(ACTION, "random", options.random);
  return {
    license: options.license === undefined
      ? undefined
      : nonEmptyString(ACTION, "license", options.license),
    maxMessageBytes: integer(
      ACTION,
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULT_MAX_PACKET_SIZE,
      {
        min: 16,
        max: MAX_REMAINING_LENGTH,
      },
    ),
    maxSendBufferBytes: integer(
      ACTION,
      "maxSendBufferBytes",
      options.maxSendBufferBytes,
      4_194_304,
      {
        min: 1,
      },
    ),
    maxSubscriptionsPerConnection: integer(
      ACTION,
      "maxSubscriptionsPerConnection",
      options.maxSubscriptionsPerConnection,
      1000,
      { min: 1 },
    ),
    maxConnectionsPerAddress: integer(
      ACTION,
      "maxConnectionsPerAddress",
      options.maxConnectionsPerAddress,
      1000,
      { min: 1 },
    ),
    maxStoredMessagesPerContract: integer(
      ACTION,
      "maxStoredMessagesPerContract",
      options.maxStoredMessagesPerContract,
      100_000,
      { min: 1 },
    ),
    maxStoredBytesPerContract: integer(
      ACTION,
      "maxStoredBytesPerContract",
      options.maxStoredBytesPerContract,
      268_435_456,
      { min: 1 },
    ),
    connectTimeoutMs: positiveNumber(ACTION, "connectTimeoutMs", options.connectTimeoutMs, 120_000),
    idleTimeoutMs: positiveNumber(ACTION, "idleTimeoutMs", options.idleTimeoutMs, 120_000),
    now: optionalFunction<() => number>(ACTION, "now", options.now) ?? (() => Date.now()),
    random: random ?? Math.random,
    randomBytes: random === undefined ? undefined : (length: number) => {
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256) & 0xff;
      return bytes;
    },
    setTimeout: optionalFunction<typeof setTimeout>(ACTION, "setTimeout", options.setTimeout) ??
      ((fn: () => void, ms?: number) => globalThis.setTimeout(fn, ms)) as typeof setTimeout,
    clearTimeout:
      optionalFunction<typeof clearTimeout>(ACTION, "clearTimeout", options.clearTimeout) ??
        ((id?: number) => globalThis.clearTimeout(id)) as typeof clearTimeout,
  };
}
