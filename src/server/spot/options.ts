/**
 * The options of the Spot relay ({@linkcode SpotRelayOptions}, the server's
 * `spot` option) and their checked form with every default applied.
 *
 * @module
 */

import { integer, invalidArgument, optionalFunction } from "../../core/validate.ts";
import { MAX_PACKET_BYTES } from "../../spot/proto/mod.ts";
import { SPOT_BLOB_MAX_BYTES } from "./store.ts";

/**
 * How the Spot relay behaves: its name in addresses, what discovery
 * answers, and the limits that keep one client from hurting the others.
 * Every limit that is passed closes the offending connection (a WebSocket
 * close code 1008 or 1009), except the blob limits, which answer an error.
 *
 * @example A relay with a name and a smaller blob quota
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 *
 * const server = createServer({ spot: { serverCode: "relay1", maxOwnerBytes: 65_536 } });
 * console.log(server.spot.serverCode); // "relay1"
 * await server.close();
 * ```
 */
export interface SpotRelayOptions {
  /**
   * The relay's code in `c.<code>.<client id>` addresses and the `srv` of its handshake.
   *
   * @default "edgewire"
   */
  serverCode?: string;
  /**
   * The hosts discovery answers (`host[:port]`, dialled as
   * `wss://<host>/_websocket`).
   *
   * @default the `Host` of the discovery request
   */
  hosts?: string[];
  /**
   * The `min_conn` discovery answers: how many connections a client keeps.
   *
   * @default 1
   */
  minConn?: number;
  /**
   * The largest WebSocket message accepted, in bytes; a larger one closes the connection (1009).
   *
   * @default 1048576, the clients' read limit
   */
  maxPacketBytes?: number;
  /**
   * How many bytes a connection may have waiting to be sent; past it the
   * connection is closed (1008), so a peer that never reads cannot grow the
   * relay's memory.
   *
   * @default 4194304 (4 MiB)
   */
  maxSendBufferBytes?: number;
  /**
   * How many bytes of received packets a connection may have waiting to be
   * handled (blob writes and bottled queries wait on the store and on
   * signature checks); past it the connection is closed (1008).
   *
   * @default 8388608 (8 MiB)
   */
  maxPendingBytes?: number;
  /**
   * How long a connection may take to finish the handshake, in milliseconds.
   *
   * @default 30000
   */
  handshakeTimeoutMs?: number;
  /**
   * How long a connection may pass with no packet in either direction, in
   * milliseconds, before the relay closes it (1001 `idle timeout`). The
   * real clients (spotlib) send no keepalives, but they check every 30 s
   * and dial again when below their connection count, so an idle close
   * costs a reconnect, not a lost peer; keep it well above the quietest
   * peer's gap between messages.
   *
   * @default 600000 (10 minutes)
   */
  idleTimeoutMs?: number;
  /**
   * How many connections the relay holds at once; a further one is closed at once (1013).
   *
   * @default 10000
   */
  maxConnections?: number;
  /**
   * How many connections one client address (an IPv6 one bucketed by /64, as
   * the server's rate limits) holds at once; a further one is closed at once
   * (1013). Applies when the upgrade knows the address.
   *
   * @default 64
   */
  maxConnectionsPerAddress?: number;
  /**
   * How many messages a connection may send in a burst; the bucket refills at
   * `messagesPerSecond`. Past it the connection is closed (1008).
   *
   * @default 200
   */
  messageBurst?: number;
  /**
   * How many messages per second a connection may send, sustained.
   *
   * @default 100
   */
  messagesPerSecond?: number;
  /**
   * How many messages to absent peers (each answered with an error) a
   * connection may send in a burst; the bucket refills at `absentPerSecond`.
   * Past it the connection is closed (1008).
   *
   * @default 20
   */
  absentBurst?: number;
  /**
   * How many messages to absent peers per second a connection may send, sustained.
   *
   * @default 5
   */
  absentPerSecond?: number;
  /**
   * The largest blob `@/store_blob` accepts, in bytes.
   *
   * @default 49152, the real service's limit
   */
  maxBlobBytes?: number;
  /**
   * How many blob bytes one key may keep in the store.
   *
   * @default 1048576 (1 MiB)
   */
  maxOwnerBytes?: number;
  /**
   * How many blobs one key may keep in the store.
   *
   * @default 256
   */
  maxOwnerBlobs?: number;
  /**
   * How many ID cards one connection may follow for `idcard_update` notifications.
   *
   * @default 1024
   */
  maxSubscriptionsPerConnection?: number;
  /**
   * How many ID cards the relay remembers for `@/idcard_find`; past it the
   * card seen longest ago whose holder is offline is forgotten.
   *
   * @default 100000
   */
  maxIdCards?: number;
  /**
   * The clock, in milliseconds.
   *
   * @default the server's `now`, else Date.now
   */
  now?: () => number;
}

/** The options with every default applied; the relay reads only these. */
export interface ResolvedSpotRelayOptions {
  /** The relay's code. */
  readonly serverCode: string;
  /** The discovery hosts, or `undefined` for the request's `Host`. */
  readonly hosts: readonly string[] | undefined;
  /** The discovery `min_conn`. */
  readonly minConn: number;
  /** The largest message, in bytes. */
  readonly maxPacketBytes: number;
  /** The send buffer limit, in bytes. */
  readonly maxSendBufferBytes: number;
  /** The limit of received bytes waiting to be handled. */
  readonly maxPendingBytes: number;
  /** The handshake deadline, in milliseconds. */
  readonly handshakeTimeoutMs: number;
  /** The idle deadline, in milliseconds. */
  readonly idleTimeoutMs: number;
  /** The most connections. */
  readonly maxConnections: number;
  /** The most connections from one client address. */
  readonly maxConnectionsPerAddress: number;
  /** The message burst. */
  readonly messageBurst: number;
  /** The sustained message rate, per second. */
  readonly messagesPerSecond: number;
  /** The burst of messages to absent peers. */
  readonly absentBurst: number;
  /** The sustained rate of messages to absent peers, per second. */
  readonly absentPerSecond: number;
  /** The largest blob, in bytes. */
  readonly maxBlobBytes: number;
  /** The per-key byte quota. */
  readonly maxOwnerBytes: number;
  /** The per-key blob count quota. */
  readonly maxOwnerBlobs: number;
  /** The most followed cards per connection. */
  readonly maxSubscriptionsPerConnection: number;
  /** The most remembered cards. */
  readonly maxIdCards: number;
  /** The clock, in milliseconds. */
  readonly now: () => number;
}

const ACTION = "create SpotRelay";
const SERVER_CODE = /^[A-Za-z0-9_-]{1,64}$/;
const HOST = /^[A-Za-z0-9.:[\]-]{1,261}$/;

/**
 * Checks the options and applies the defaults.
 *
 * @param options The options.
 * @returns Every option, resolved.
 * @throws {InvalidArgumentError} When an option is out of range.
 *
 * @example
 * ```ts
 * import { resolveSpotRelayOptions } from "./options.ts";
 *
 * console.log(resolveSpotRelayOptions({}).maxBlobBytes); // 49152
 * ```
 */
export function resolveSpotRelayOptions(options: SpotRelayOptions = {}): ResolvedSpotRelayOptions {
  const count = (field: keyof SpotRelayOptions, fallback: number, max?: number): number =>
    integer(ACTION, field, options[field], fallback, { min: 1, max });
  const serverCode = options.serverCode ?? "edgewire";
  if (typeof serverCode !== "string" || !SERVER_CODE.test(serverCode)) {
    throw invalidCode(serverCode);
  }
  const hosts = options.hosts;
  if (
    hosts !== undefined &&
    (!Array.isArray(hosts) || hosts.length === 0 || hosts.length > 10 ||
      !hosts.every((host) => typeof host === "string" && HOST.test(host)))
  ) {
    throw invalidHosts(hosts);
  }
  return {
    serverCode,
    hosts: hosts === undefined ? undefined : [...hosts],
    minConn: count("minConn", 1, 10),
    maxPacketBytes: count("maxPacketBytes", MAX_PACKET_BYTES, MAX_PACKET_BYTES),
    maxSendBufferBytes: count("maxSendBufferBytes", 4 * 1024 * 1024),
    maxPendingBytes: count("maxPendingBytes", 8 * 1024 * 1024),
    handshakeTimeoutMs: count("handshakeTimeoutMs", 30_000),
    idleTimeoutMs: count("idleTimeoutMs", 600_000, 2 ** 31 - 1),
    maxConnections: count("maxConnections", 10_000),
    maxConnectionsPerAddress: count("maxConnectionsPerAddress", 64),
    messageBurst: count("messageBurst", 200),
    messagesPerSecond: count("messagesPerSecond", 100),
    absentBurst: count("absentBurst", 20),
    absentPerSecond: count("absentPerSecond", 5),
    maxBlobBytes: count("maxBlobBytes", SPOT_BLOB_MAX_BYTES, MAX_PACKET_BYTES),
    maxOwnerBytes: count("maxOwnerBytes", 1024 * 1024),
    maxOwnerBlobs: count("maxOwnerBlobs", 256),
    maxSubscriptionsPerConnection: count("maxSubscriptionsPerConnection", 1024),
    maxIdCards: count("maxIdCards", 100_000),
    now: optionalFunction<() => number>(ACTION, "now", options.now) ?? Date.now,
  };
}

function invalidCode(value: unknown): Error {
  return invalidArgument(ACTION, "serverCode", "1 to 64 characters of [A-Za-z0-9_-]", value);
}

function invalidHosts(value: unknown): Error {
  return invalidArgument(ACTION, "hosts", "1 to 10 host names with optional ports", value);
}
