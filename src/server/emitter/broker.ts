/**
 * The Emitter broker: MQTT 3.1 and 3.1.1 pub/sub with Emitter's channel keys,
 * share groups, message storage, presence and its `emitter/<name>/` API, as
 * the real Emitter broker behaves. It is transport-agnostic: a transport
 * (WebSocket, TCP) calls {@linkcode EmitterBroker.accept} once per
 * connection with a {@linkcode BrokerLink} and feeds the returned
 * {@linkcode BrokerSession} the bytes it reads.
 *
 * @module
 */

import { authorize } from "../../emitter/security/authorize.ts";
import { parseChannel } from "../../emitter/security/channel.ts";
import { EMITTER_STATUS, type EmitterStatus } from "../../emitter/security/errors.ts";
import type { EmitterLicense } from "../../emitter/security/license.ts";
import { PERMISSION } from "../../emitter/security/permissions.ts";
import { unrefTimer } from "../../core/runtime/timers.ts";
import { BrokerCore } from "./_core.ts";
import { EmitterCluster } from "./_cluster.ts";
import type { Backplane } from "../backplane.ts";
import { channelSsid } from "./_pubsub.ts";
import { pruneExpired, type PruneState } from "./_storage.ts";
import { type EmitterLiveChannels, liveChannels } from "./_live_channels.ts";

export type { EmitterLiveChannel, EmitterLiveChannels } from "./_live_channels.ts";
import { Session } from "./_session.ts";
import { type EmitterBrokerOptions, resolveBrokerOptions } from "./options.ts";
import type { EmitterStore } from "./store.ts";

/** One connection as the transport gives it to the broker. */
export interface BrokerLink {
  /** The peer's address (IP without port is best: connections are counted per address). */
  readonly remoteAddress: string;
  /** Sends bytes to the peer; the broker never reuses them. */
  send(bytes: Uint8Array): void;
  /** How many bytes wait in the transport's send buffer. */
  bufferedBytes(): number;
  /** Closes the connection; the transport need not call `closed()` after it. */
  close(): void;
}

/** The broker's side of one connection. */
export interface BrokerSession {
  /** Hands the broker the next bytes read; never throws. The broker keeps no reference to them. */
  receive(chunk: Uint8Array): void;
  /** Tells the broker the peer went away. */
  closed(): void;
}

/** What {@linkcode EmitterBroker.stats} reports. */
export interface EmitterBrokerStats {
  /** Open connections. */
  readonly connections: number;
  /** Subscriptions held (presence ones included). */
  readonly subscriptions: number;
  /**
   * Subscriptions of other servers' connections this broker delivers to
   * over a backplane, as it has heard of them (0 without one): another
   * server's new subscription is heard a moment after that server's SUBACK.
   */
  readonly remoteSubscriptions: number;
  /** PUBLISH packets received. */
  readonly messagesIn: number;
  /** Messages delivered to subscribers (a message to n subscribers counts n). */
  readonly messagesOut: number;
  /** Connections closed because their send buffer was full. */
  readonly slowClosed: number;
  /** Connections refused because their address had too many. */
  readonly refusedConnections: number;
  /** Connections closed for a malformed packet. */
  readonly malformedPackets: number;
  /** Connections closed for staying silent past their deadline. */
  readonly idleClosed: number;
  /** Store reads or writes that failed (the background prunes included). */
  readonly storeFailures: number;
  /**
   * Messages published with a `ttl` (or retained) that were delivered but not
   * stored, because their contract was past `maxStoredMessagesPerContract` or
   * `maxStoredBytesPerContract`.
   */
  readonly storeRefused: number;
  /** Background prunes of expired stored messages that completed. */
  readonly prunes: number;
}

/** A presence status, as `POST /presence` and the `emitter/presence/` request answer it. */
export interface EmitterPresence {
  /** The unix second of the answer. */
  readonly time: number;
  /** Always `"status"`. */
  readonly event: "status";
  /** The channel asked about. */
  readonly channel: string;
  /** The connections subscribed, with their MQTT user names. */
  readonly who: readonly { readonly id: string; readonly username?: string }[];
}

const SWEEP_MS = 1000;

/**
 * An Emitter broker in memory, with an optional store for stored messages and
 * key bans.
 *
 * @example Accept a connection and send CONNECT
 * ```ts
 * import { EmitterBroker } from "./broker.ts";
 * import { encodePacket } from "../../emitter/mqtt/encoder.ts";
 *
 * const broker = new EmitterBroker();
 * const sent: Uint8Array[] = [];
 * const session = broker.accept({
 *   remoteAddress: "127.0.0.1",
 *   send: (bytes) => sent.push(bytes),
 *   bufferedBytes: () => 0,
 *   close: () => {},
 * });
 * await broker.ready();
 * session.receive(encodePacket({ type: "connect", protocolVersion: 4, clientId: "", cleanSession: true, keepAlive: 30 }));
 * console.log(sent[0][0] === 0x20); // true: a CONNACK
 * await broker.close();
 * ```
 */
export class EmitterBroker {
  readonly #core: BrokerCore;
  readonly #ready: Promise<void>;
  #loaded = false;
  #closed = false;
  #timer: unknown;
  readonly #prune: PruneState;

  /**
   * Creates a broker; it loads the store's key bans before it handles any
   * client's bytes.
   *
   * @param options The broker options, the store for messages and bans, and
   * the backplane shared with the brokers of other processes (they need the
   * same `license`).
   * @throws {InvalidArgumentError} When an option is invalid.
   * @throws {InvalidArgumentError} When `license` is not a valid license.
   */
  constructor(
    options: EmitterBrokerOptions & { store?: EmitterStore; backplane?: Backplane } = {},
  ) {
    const core = new BrokerCore(resolveBrokerOptions(options), options.store);
    this.#core = core;
    const cluster = options.backplane === undefined
      ? undefined
      : new EmitterCluster(core, options.backplane);
    core.cluster = cluster;
    // The first prune comes a minute after the start; the server's own maintenance may run sooner
    this.#prune = { last: core.now(), running: false };
    const store = options.store;
    this.#ready = (async () => {
      if (store !== undefined) {
        try {
          core.loadBans(await store.listEmitterKeyBans());
        } catch {
          core.counters.storeFailures++;
        }
      }
      if (cluster !== undefined) {
        try {
          await cluster.node.start();
        } catch {
          // Cut off until the backplane is back: connections are refused, not left deaf
          cluster.cut = true;
          cluster.node.failures++;
        }
      }
      this.#loaded = true;
      for (const session of [...core.sessions] as Session[]) session.release();
    })();
  }

  /** The license: its contract and key cipher. */
  get license(): EmitterLicense {
    return this.#core.license;
  }

  /** The master (secret) key of a license generated in memory; `undefined` when one was given. */
  get secret(): string | undefined {
    return this.#core.secret;
  }

  /**
   * Resolves once the key bans are loaded from the store.
   *
   * @returns When the broker handles bytes straight away.
   * @throws Never: a store that fails to list the bans is counted in `storeFailures`.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Takes a new connection. A connection over `maxConnectionsPerAddress`, or
   * one accepted after `close()`, is closed at once.
   *
   * @param link The transport's side of the connection.
   * @returns The session to feed the bytes read and the close.
   * @throws Never.
   */
  accept(link: BrokerLink): BrokerSession {
    const core = this.#core;
    const address = link.remoteAddress;
    const count = core.addresses.get(address) ?? 0;
    if (
      this.#closed || count >= core.options.maxConnectionsPerAddress || core.cluster?.cut === true
    ) {
      core.counters.refusedConnections++;
      try {
        link.close();
      } catch {
        // Closed already
      }
      return { receive() {}, closed() {} };
    }
    core.addresses.set(address, count + 1);
    const session = new Session(core, link, (s) => this.#forget(s));
    if (!this.#loaded) session.holdUntilReady();
    core.sessions.add(session);
    this.#schedule();
    return session;
  }

  #forget(session: Session): void {
    const core = this.#core;
    if (!core.sessions.delete(session)) return;
    const address = session.remoteAddress;
    const count = (core.addresses.get(address) ?? 1) - 1;
    if (count <= 0) core.addresses.delete(address);
    else core.addresses.set(address, count);
    if (core.sessions.size === 0) this.#unschedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = this.#core.options.setTimeout(() => {
      this.#timer = undefined;
      this.#sweep();
      if (this.#core.sessions.size > 0) this.#schedule();
    }, SWEEP_MS);
    unrefTimer(this.#timer);
  }

  #unschedule(): void {
    if (this.#timer === undefined) return;
    this.#core.options.clearTimeout(this.#timer as number);
    this.#timer = undefined;
  }

  /**
   * Closes the connections silent past their deadline, and deletes the
   * expired stored messages once a minute: a server carrying only Emitter
   * traffic has no HTTP request to run its maintenance.
   */
  #sweep(): void {
    const now = this.#core.now();
    pruneExpired(this.#core, this.#prune, now);
    for (const session of [...this.#core.sessions] as Session[]) {
      if (now - session.lastRead > session.deadlineMs) {
        this.#core.counters.idleClosed++;
        session.terminate();
      }
    }
  }

  /**
   * Who is subscribed to a channel, as `POST /presence` answers it.
   *
   * @param key The channel key; it needs the presence permission.
   * @param channel The channel, such as `chat/`; a missing final `/` is added.
   * @returns The presence, or the refusal (400 for a bad channel, 401 for the key).
   * @throws Never.
   * @example
   * ```ts
   * import { EmitterBroker } from "./broker.ts";
   *
   * const broker = new EmitterBroker();
   * console.log(broker.presenceOf("not-a-key", "chat/")); // the 401 status and message
   * await broker.close();
   * ```
   */
  presenceOf(key: string, channel: string): EmitterPresence | EmitterStatus {
    const name = channel.endsWith("/") ? channel : `${channel}/`;
    const parsed = parseChannel(`${key}/${name}`);
    if (parsed.type === "invalid" || key === "emitter") return EMITTER_STATUS.badRequest;
    const granted = authorize(this.#core.security, parsed, PERMISSION.presence);
    if (granted === undefined) return EMITTER_STATUS.unauthorized;
    return {
      time: Math.floor(this.#core.now() / 1000),
      event: "status",
      channel: name,
      who: this.#core.whoIs(channelSsid(granted.key.contract, parsed)),
    };
  }

  /**
   * The broker's counters.
   *
   * @returns Connections, subscriptions and message counts.
   * @throws Never.
   */
  stats(): EmitterBrokerStats {
    const core = this.#core;
    const remote = core.cluster?.remoteSubscriptions ?? 0;
    return {
      connections: core.sessions.size,
      subscriptions: core.trie.size - remote,
      remoteSubscriptions: remote,
      ...core.counters,
    };
  }

  /**
   * The channels this broker's connections are subscribed to: how many, and
   * the busiest with their subscriber counts. A read of the live
   * subscriptions; it changes nothing.
   *
   * @param limit The most channels listed (at most 1000).
   * @returns The count of channels with live subscribers and the busiest ones.
   * @throws Never.
   * @example
   * ```ts
   * import { EmitterBroker, MemoryStore } from "@edgewire/sdk/server";
   *
   * const broker = new EmitterBroker({ store: new MemoryStore() });
   * console.log(broker.liveChannels(10)); // { channels: 0, top: [] }
   * await broker.close();
   * ```
   */
  liveChannels(limit: number): EmitterLiveChannels {
    return liveChannels(this.#core.sessions, limit);
  }

  /**
   * Closes every connection and waits for the store writes in flight. Later
   * connections are refused.
   *
   * @returns When everything is closed and written.
   * @throws Never: failed store writes are counted, not thrown.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#prune.stopped = true;
    this.#unschedule();
    for (const session of [...this.#core.sessions] as Session[]) session.terminate();
    await this.#ready;
    await this.#core.cluster?.node.close();
    await this.#core.settle();
  }
}
