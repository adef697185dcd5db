/**
 * The options of `EmitterClient` and the shapes of its requests: publish,
 * subscribe (alone or in a share group) and unsubscribe, the broker's API
 * calls (`keygen`, `keyban`, `link`, `me`, `presence`, `history`) and their
 * answers, and the events it emits. Every field of
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
   * QoS 1 publish (its PUBACK), of subscribe and unsubscribe (their acks) and
   * of the API calls (their answers).
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

/**
 * A subscription in a share group (`key/$share/group/channel/`): the broker
 * hands each message of the channel to one member of each group, so a group
 * of consumers shares the work.
 */
export interface EmitterShareSubscribeRequest extends EmitterSubscribeRequest {
  /** The group's name: one channel segment (letters, digits, `-._:`; no `/`, no wildcard). */
  group: string;
}

/** A subscription to drop. */
export interface EmitterUnsubscribeRequest {
  /** The channel key it was made with. */
  key: string;
  /** The channel it was made with. */
  channel: string;
  /** The share group it was made in, for one made with `subscribeWithGroup()`. */
  group?: string;
}

/** The events of `EmitterClient` and what their listeners get. */
export interface EmitterEvents {
  /** A connection was accepted (CONNACK 0), the first or a reconnection. */
  connect: () => void;
  /** The connection was lost (with why) or closed by `disconnect()` (no error). */
  disconnect: (error: EdgewireError | undefined) => void;
  /** A message arrived on any subscription. */
  message: (message: EmitterMessage) => void;
  /** Someone subscribed to or unsubscribed from a channel whose changes were asked for. */
  presence: (event: EmitterPresenceEvent) => void;
  /**
   * Something went wrong outside any call: a malformed packet, a failed
   * reconnection, the broker's refusal of a QoS 0 publish or of a
   * subscription made again after a reconnection.
   */
  error: (error: EdgewireError) => void;
}

/** How long one API call waits for its answer, and what stops it. */
export interface EmitterCallOptions {
  /** Stops waiting (`AbortedError`) when it aborts. */
  signal?: AbortSignal;
  /** The deadline of the answer, in milliseconds; the client's `timeoutMs` by default. */
  timeoutMs?: number;
}

/** A key to generate (`emitter/keygen/`). */
export interface EmitterKeygenRequest extends EmitterCallOptions {
  /** The master (secret) key, or a key with the extend permission for a private channel. */
  key: string;
  /** The channel the key is for, such as `chat/` or `chat/#/`. */
  channel: string;
  /** The rights, letters of `rwslpex` (read, write, store, load, presence, extend, execute). */
  type: string;
  /** Seconds until the key expires; 0 (default) for never. */
  ttl?: number;
}

/** The broker's answer to keygen. */
export interface EmitterKeygenResponse {
  /** 200. */
  status: number;
  /** The new key. */
  key: string;
  /** The channel it is for (for a private channel, with the connection's id). */
  channel: string;
}

/** A key to ban or unban (`emitter/keyban/`). */
export interface EmitterKeybanRequest extends EmitterCallOptions {
  /** The master (secret) key. */
  secret: string;
  /** The key to ban or unban. */
  target: string;
  /** `true` bans it, `false` lifts the ban. */
  banned: boolean;
}

/** The broker's answer to keyban. */
export interface EmitterKeybanResponse {
  /** 200. */
  status: number;
  /** Whether the key is now banned. */
  banned: boolean;
}

/** A link to make (`emitter/link/`): a 1 or 2 character alias of a channel for this connection. */
export interface EmitterLinkRequest extends EmitterCallOptions {
  /** The channel key. */
  key: string;
  /** The channel, such as `chat/room1/`; a missing final `/` is added. */
  channel: string;
  /** The link's name, 1 or 2 letters or digits. */
  name: string;
  /** Whether the connection also subscribes to the channel. */
  subscribe: boolean;
  /** Whether the link is to this connection's private channel (the key needs extend). */
  private?: boolean;
  /** How long the broker stores messages published through the link, in seconds. */
  ttl?: number;
  /** `false` asks the broker not to echo messages published through the link. */
  me?: boolean;
}

/** The broker's answer to link. */
export interface EmitterLinkResponse {
  /** 200. */
  status: number;
  /** The link's name. */
  name: string;
  /** The linked channel, without its key. */
  channel: string;
}

/** The broker's answer to me: who this connection is. */
export interface EmitterMeResponse {
  /** 200 (left out by some brokers). */
  status?: number;
  /** The connection's id, which names its private channels. */
  id: string;
  /** The connection's links, name to channel. */
  links: Record<string, string>;
}

/** A presence request (`emitter/presence/`). */
export interface EmitterPresenceRequest extends EmitterCallOptions {
  /** A channel key with the presence permission (and without extend). */
  key: string;
  /** The channel. */
  channel: string;
  /** Whether to get who is subscribed now. @default true */
  status?: boolean;
  /** `true` starts, `false` stops the `presence` events of this channel; left out, no change. */
  changes?: boolean;
}

/** One connection present on a channel. */
export interface EmitterPresenceMember {
  /** The connection's id. */
  id: string;
  /** The MQTT user name it connected with, when it gave one. */
  username?: string;
}

/** The broker's answer to presence; with `status: false` asked, only `status`. */
export interface EmitterPresenceResponse {
  /** 200. */
  status: number;
  /** `"status"` when the members are listed. */
  event?: "status";
  /** The unix second of the answer. */
  time?: number;
  /** The channel. */
  channel?: string;
  /** Who is subscribed. */
  who?: EmitterPresenceMember[];
}

/** A presence change the broker announces on `emitter/presence/`. */
export interface EmitterPresenceEvent {
  /** Whether someone subscribed or unsubscribed. */
  event: "subscribe" | "unsubscribe";
  /** The unix second of the change. */
  time: number;
  /** The channel. */
  channel: string;
  /** Who. */
  who: EmitterPresenceMember;
}

/** A history request (`emitter/history/`): the stored messages of a channel. */
export interface EmitterHistoryRequest extends EmitterCallOptions {
  /** A channel key with the load permission. */
  key: string;
  /** The channel, wildcards `+` and `#` allowed; a missing final `/` is added. */
  channel: string;
  /** How many of the newest stored messages to get (`last=`); the broker's default is 1. */
  last?: number;
  /** Only messages stored from this unix second (`from=`). */
  from?: number;
  /** Only messages stored until this unix second (`until=`). */
  until?: number;
  /** The `id` of a message of an earlier answer, to page on from it (`startFromID`). */
  startFromId?: string;
}

/** A message to publish through a link made with `link()`. */
export interface EmitterLinkPublishRequest {
  /** The link's name, 1 or 2 letters or digits. */
  link: string;
  /** The payload: text as UTF-8, bytes as they are, anything else as JSON. */
  message: string | Uint8Array | object;
  /** Whether the broker keeps it as the channel's retained message. */
  retain?: boolean;
  /** 0 (default) or 1: resolve on the broker's PUBACK. */
  qos?: 0 | 1;
}
