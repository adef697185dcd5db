/**
 * The options of `SpotClient` and the shapes its calls take and give:
 * queries, incoming messages and their handlers, and the connection count.
 * Every field of the client options is optional and checked once, at
 * construction.
 *
 * @module
 */

import type { BackoffOption } from "../core/_backoff_option.ts";
import type { Storage } from "../core/storage/types.ts";
import type { PrivateKey } from "./crypto/mod.ts";
import type { IDCard } from "./bottle/mod.ts";

/**
 * How a `SpotClient` finds its relays, which key it signs with, and how it
 * retries.
 *
 * @example
 * ```ts
 * import type { SpotClientOptions } from "./options.ts";
 *
 * const options: SpotClientOptions = { url: "ws://127.0.0.1:8080/_websocket", timeoutMs: 5000 };
 * ```
 */
export interface SpotClientOptions {
  /**
   * The relay's WebSocket URL (`ws:` or `wss:`), for a self-hosted relay: no
   * discovery, `minConnections` connections to it.
   *
   * @default undefined (discovery through `endpoint`)
   */
  url?: string;
  /**
   * The service's base URL for discovery: the client GETs
   * `<endpoint>/_special/rest/Spot:connect` and dials `wss://<host>/_websocket`
   * for each host answered (`ws://` when the endpoint is `http:`).
   *
   * @default "https://ws.atonline.com"
   */
  endpoint?: string;
  /**
   * How many connections to keep to `url`, 1 to 10 (discovery uses `min_conn`).
   *
   * @default 1
   */
  minConnections?: number;
  /**
   * The signing key. Without it the key comes from `storage`, or is a new
   * ephemeral ECDSA P-256 key marked "ephemeral" in the IDCard.
   *
   * @default undefined
   */
  key?: PrivateKey;
  /**
   * Where the key is kept across restarts, as PKCS#8 PEM under `storageKey`.
   *
   * @default undefined (an ephemeral key)
   */
  storage?: Storage;
  /**
   * The storage key of the private key.
   *
   * @default "edgewire:spot:key"
   */
  storageKey?: string;
  /**
   * Free text metadata of the IDCard, such as `{ name: "worker-1" }`.
   *
   * @default {}
   */
  meta?: Record<string, string>;
  /**
   * The deadline, in milliseconds, of a query (and of `waitOnline()` and of
   * one connection's WebSocket opening and handshake).
   *
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * The delays between attempts after a connection is lost or fails.
   *
   * @default { initialMs: 1000, maxMs: 300000, jitter: "full" }
   */
  backoff?: BackoffOption;
  /**
   * The most messages kept while no connection is online; more are refused.
   *
   * @default 1000
   */
  maxQueuedEvents?: number;
  /**
   * The most IDCards kept in the cache; the oldest go first.
   *
   * @default 1024
   */
  maxCachedIDCards?: number;
  /**
   * The WebSocket class to dial with.
   *
   * @default globalThis.WebSocket
   */
  WebSocket?: typeof WebSocket;
  /**
   * The fetch function of discovery.
   *
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * The clock, in epoch milliseconds, for the IDCard's issue time.
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

/** Options of one query. */
export interface SpotQueryOptions {
  /**
   * The deadline in milliseconds.
   *
   * @default the client's `timeoutMs`
   */
  timeoutMs?: number;
  /** Stops waiting when it aborts. */
  signal?: AbortSignal;
}

/** Options of `SpotClient.sendTo`. */
export interface SpotSendOptions extends SpotQueryOptions {
  /**
   * The sender endpoint, starting with `/`, where the peer's replies go.
   *
   * @default "/<message id>"
   */
  from?: string;
}

/** A message a handler receives, decrypted and verified when it was a bottle. */
export interface SpotIncomingMessage {
  /** The message id (16 bytes). */
  id: Uint8Array;
  /** The flags as sent. */
  flags: number;
  /** The address it was sent to, such as `k.<hash>/ping`. */
  recipient: string;
  /** Where it came from, as the relay rewrote it: `k.<hash>/<path>`. */
  sender: string;
  /** The content: decrypted and verified unless `bottled` is false. */
  body: Uint8Array;
  /** Whether the body came as a bottle (then `encrypted` and `senderCard` say more). */
  bottled: boolean;
  /** Whether the bottle was encrypted to this client. */
  encrypted: boolean;
  /** The sender's IDCard, which signed the bottle, when it was a bottle. */
  senderCard?: IDCard;
}

/**
 * Answers an incoming message: bytes or text to answer, `null` or
 * `undefined` for no answer; a throw answers its message as an error.
 */
export type SpotHandler = (
  message: SpotIncomingMessage,
) =>
  | Uint8Array
  | string
  | null
  | undefined
  | void
  | Promise<Uint8Array | string | null | undefined | void>;

/** How many connections the client has. */
export interface SpotConnectionCount {
  /** Connections open or being opened. */
  total: number;
  /** Connections past the handshake. */
  online: number;
}

/** Options of `waitOnline()`. */
export interface SpotWaitOptions {
  /**
   * The deadline in milliseconds.
   *
   * @default the client's `timeoutMs`
   */
  timeoutMs?: number;
  /** Stops waiting when it aborts. */
  signal?: AbortSignal;
}
