/**
 * The Spot relay of the reference server: clients connect over WebSocket,
 * prove the key of their ID card in the handshake, then exchange messages
 * addressed to each other's `k.<hash>` (or one connection's
 * `c.<srv>.<cid>`, or every online member of a group, `g.<hash>` with the
 * SHA-256 of the group key) and query the relay's own `@/` endpoints. The relay
 * reads no message body it routes: it only rewrites each sender to the
 * verified address, so a client cannot speak for another key.
 *
 * @module
 */

import type { UpgradedWebSocket } from "../../core/runtime/websocket_upgrade.ts";
import { openBottle } from "../../spot/bottle/mod.ts";
import {
  encodePacket,
  type InstantMessage,
  keyTarget,
  MESSAGE_FLAG_ERROR,
  MESSAGE_FLAG_NOT_BOTTLE,
  MESSAGE_FLAG_RESPONSE,
  parseAddress,
  type SpotAddress,
} from "../../spot/proto/mod.ts";
import { TokenBucketLimiter } from "../rate_limit.ts";
import { CardRegistry } from "./_registry.ts";
import { SpotCluster } from "./_cluster.ts";
import type { Backplane } from "../backplane.ts";
import { MAX_VERIFIED_SIGNATURES, withinSignatureBudget } from "./_signature_budget.ts";
import { CLOSE, type SessionHost, SpotSession } from "./_session.ts";
import { answerSystem, type SystemContext } from "./_system.ts";
import {
  type ResolvedSpotRelayOptions,
  resolveSpotRelayOptions,
  type SpotRelayOptions,
} from "./options.ts";
import type { SpotStore } from "./store.ts";

/** What discovery answers, in the shape of the real service. */
export interface SpotDiscoveryAnswer {
  /** Always `"success"`. */
  result: "success";
  /** The hosts to dial as `wss://<host>/_websocket`, how many connections to keep, and this relay's full URLs. */
  data: { hosts: string[]; min_conn: number; urls: string[] };
}

const GOING_AWAY = 1001;
const HOST = /^[A-Za-z0-9.:[\]-]{1,261}$/;

/**
 * The Spot relay. `createServer` makes one (`server.spot`) and routes
 * `GET /_special/rest/Spot:connect` and the WebSocket `/_websocket` to it.
 *
 * @example Start a server with the relay and ask discovery
 * ```ts
 * import { createServer } from "@edgewire/sdk/server";
 *
 * const server = createServer();
 * const answer = await server.fetch(new Request("http://relay.example/_special/rest/Spot:connect"));
 * console.log((await answer.json()).data.hosts); // [ "relay.example" ]
 * await server.close();
 * ```
 */
export class SpotRelay {
  readonly #options: ResolvedSpotRelayOptions;
  readonly #store: SpotStore;
  readonly #sessions = new Map<string, SpotSession>();
  /** Open connections per client address, and each counted session's address. */
  readonly #perAddress = new Map<string, number>();
  readonly #addressOf = new Map<string, string>();
  readonly #byKey = new Map<string, Set<SpotSession>>();
  readonly #registry: CardRegistry;
  readonly #messages: TokenBucketLimiter;
  readonly #absent: TokenBucketLimiter;
  readonly #system: SystemContext;
  readonly #host: SessionHost;
  readonly #cluster: SpotCluster | undefined;
  readonly #ready: Promise<void>;
  #closed = false;

  /**
   * Creates a relay.
   *
   * @param options The relay's options, the store its blobs go to, and the
   * backplane shared with the relays of other processes.
   * @throws {InvalidArgumentError} When an option is out of range.
   */
  constructor(options: SpotRelayOptions & { store: SpotStore; backplane?: Backplane }) {
    this.#options = resolveSpotRelayOptions(options);
    this.#store = options.store;
    const o = this.#options;
    this.#registry = new CardRegistry(
      o.maxIdCards,
      (address) => this.#byKey.has(address) || this.#cluster?.hasKey(address) === true,
    );
    const bucket = (capacity: number, refillPerSecond: number) =>
      new TokenBucketLimiter({
        capacity,
        refillPerSecond,
        maxBuckets: o.maxConnections,
        now: o.now,
      });
    this.#messages = bucket(o.messageBurst, o.messagesPerSecond);
    this.#absent = bucket(o.absentBurst, o.absentPerSecond);
    this.#system = { store: this.#store, options: o, registry: this.#registry };
    this.#host = {
      serverCode: o.serverCode,
      maxPacketBytes: o.maxPacketBytes,
      maxSendBufferBytes: o.maxSendBufferBytes,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      idleTimeoutMs: o.idleTimeoutMs,
      maxPendingBytes: o.maxPendingBytes,
      allowMessage: (session) => this.#messages.take(session.clientId).allowed,
      takeGroups: (address) => this.#registry.takeGroups(address),
      online: (session) => this.#online(session),
      route: (session, message) => this.#route(session, message),
      offline: (session) => this.#offline(session),
    };
    if (options.backplane === undefined) {
      this.#cluster = undefined;
      this.#ready = Promise.resolve();
      return;
    }
    const cluster = new SpotCluster({
      registry: this.#registry,
      readySessions: () => [...this.#sessions.values()].filter((s) => s.ready),
      readyOfKey: (address) => lastReady(this.#byKey.get(address)),
      readyById: (clientId) => {
        const session = this.#sessions.get(clientId);
        return session?.ready === true ? session : undefined;
      },
      closeAll: () => {
        for (const session of [...this.#sessions.values()]) {
          session.close(CLOSE.tryAgainLater, "relay cut off from its cluster");
        }
      },
    }, options.backplane);
    this.#cluster = cluster;
    this.#ready = cluster.node.start().catch(() => {
      // Cut off until the backplane is back: connections are refused, not left deaf
      cluster.cut = true;
      cluster.node.failures++;
    });
  }

  /**
   * Resolves once the relay has joined the other processes on its backplane
   * (at once without one).
   *
   * @returns When connections are routed everywhere.
   * @throws Never: a backplane that cannot be reached leaves the relay refusing connections until it is back.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The relay's code, the `srv` of its handshake and of `c.` addresses. */
  get serverCode(): string {
    return this.#options.serverCode;
  }

  /** How many connections are open, the handshake done or not. */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** How many ID cards the relay remembers. */
  get idCardCount(): number {
    return this.#registry.size;
  }

  /**
   * Takes over an upgraded WebSocket: the handshake starts once it is open.
   *
   * @param socket The server end of the socket.
   * @param address The client's address (an IPv6 one bucketed by /64), to
   * hold it to `maxConnectionsPerAddress`; `undefined` when unknown.
   * @returns Nothing; a relay that is closed, full or holding the address's
   * most connections closes the socket (1001, 1013).
   */
  accept(socket: UpgradedWebSocket, address?: string): void {
    const session = new SpotSession(this.#host, socket, crypto.randomUUID());
    if (this.#closed) return session.close(GOING_AWAY, "relay closed");
    if (this.#cluster?.cut === true) {
      return session.close(CLOSE.tryAgainLater, "relay cut off from its cluster");
    }
    if (this.#sessions.size >= this.#options.maxConnections) {
      return session.close(CLOSE.tryAgainLater, "relay full");
    }
    if (address !== undefined) {
      const open = this.#perAddress.get(address) ?? 0;
      if (open >= this.#options.maxConnectionsPerAddress) {
        return session.close(CLOSE.tryAgainLater, "too many connections from this address");
      }
      this.#perAddress.set(address, open + 1);
      this.#addressOf.set(session.clientId, address);
    }
    this.#sessions.set(session.clientId, session);
  }

  /**
   * The discovery answer for a request: the configured hosts, or the request's own.
   *
   * @param request The discovery request.
   * @returns The answer, in the shape of the real service.
   */
  discovery(request: Request): SpotDiscoveryAnswer {
    const url = new URL(request.url);
    const header = request.headers.get("host");
    const own = header !== null && HOST.test(header) ? header : url.host;
    const hosts = this.#options.hosts === undefined ? [own] : [...this.#options.hosts];
    const scheme = url.protocol === "https:" ? "wss" : "ws";
    return {
      result: "success",
      data: {
        hosts,
        min_conn: Math.min(this.#options.minConn, hosts.length),
        urls: hosts.map((host) => `${scheme}://${host}/_websocket`),
      },
    };
  }

  /**
   * Offers group memberships to a card's holder: sent in its next handshake
   * (`grp`), after which the client re-signs its card with them.
   *
   * @param address The card's `k.<hash>` address.
   * @param memberships Each membership's CBOR, signed by its group key.
   * @returns Nothing.
   */
  offerGroups(address: string, memberships: readonly Uint8Array[]): void {
    this.#registry.offerGroups(address, memberships);
  }

  /**
   * Closes every connection (1001); later connections are closed at once.
   *
   * @returns Once closed.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const session of [...this.#sessions.values()]) session.close(GOING_AWAY, "relay closed");
    await this.#ready;
    await this.#cluster?.node.close();
  }

  #online(session: SpotSession): void {
    const peer = session.peer!;
    let set = this.#byKey.get(peer.address);
    if (set === undefined) this.#byKey.set(peer.address, set = new Set());
    set.add(session);
    for (const follower of this.#registry.put(peer)) follower.cardUpdated(peer.signed);
    this.#cluster?.online(session);
  }

  #offline(session: SpotSession): void {
    this.#sessions.delete(session.clientId);
    const from = this.#addressOf.get(session.clientId);
    if (from !== undefined) {
      this.#addressOf.delete(session.clientId);
      const left = (this.#perAddress.get(from) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(from, left);
      else this.#perAddress.delete(from);
    }
    const address = session.peer?.address;
    if (address !== undefined) {
      const set = this.#byKey.get(address);
      set?.delete(session);
      if (set?.size === 0) this.#byKey.delete(address);
    }
    this.#registry.unfollow(session.following, session);
    this.#cluster?.offline(session);
  }

  async #route(session: SpotSession, message: InstantMessage): Promise<void> {
    let target: SpotAddress;
    try {
      target = parseAddress(message.recipient);
    } catch {
      return this.#reply(session, message, "invalid recipient address");
    }
    switch (target.kind) {
      case "system":
        return await this.#systemRequest(session, message, target.endpoint);
      case "key": {
        const address = keyTarget(target.hash);
        const local = this.#byKey.get(address);
        if (this.#cluster !== undefined && lastReady(local) === undefined) {
          if (this.#forward(session, message, (p) => this.#cluster!.toKey(address, p))) return;
        }
        return this.#deliver(session, message, local);
      }
      case "connection": {
        const mine = target.server === this.#options.serverCode;
        const peer = mine ? this.#sessions.get(target.clientId) : undefined;
        if (this.#cluster !== undefined && mine && peer === undefined) {
          const id = target.clientId;
          if (this.#forward(session, message, (p) => this.#cluster!.toConnection(id, p))) return;
        }
        return this.#deliver(session, message, peer === undefined ? undefined : [peer]);
      }
      case "group":
        return this.#deliverToGroup(session, message, target.hash);
      default:
        return this.#reply(session, message, "recipient has no target");
    }
  }

  #deliver(
    session: SpotSession,
    message: InstantMessage,
    candidates: Iterable<SpotSession> | undefined,
  ): void {
    let target: SpotSession | undefined;
    for (const candidate of candidates ?? []) {
      if (candidate.ready) target = candidate;
    }
    if (target === undefined) {
      if (!this.#absent.take(session.clientId).allowed) {
        return session.close(CLOSE.policyViolation, "too many messages to absent peers");
      }
      const head = message.recipient.split("/")[0];
      return this.#reply(session, message, `peer ${head} is not connected`);
    }
    let packet: Uint8Array;
    try {
      packet = encodePacket({ type: "message", message });
    } catch {
      return this.#reply(session, message, "message cannot be forwarded (sender too long)");
    }
    target.send(packet);
  }

  /**
   * Forwards a message to another process when `send` finds its target there.
   *
   * @returns Whether it is handled (forwarded, or answered as too long to encode).
   */
  #forward(
    session: SpotSession,
    message: InstantMessage,
    send: (packet: Uint8Array) => boolean,
  ): boolean {
    let packet: Uint8Array;
    try {
      packet = encodePacket({ type: "message", message });
    } catch {
      this.#reply(session, message, "message cannot be forwarded (sender too long)");
      return true;
    }
    return send(packet);
  }

  /** A `g.<hash>` message goes to one connection of each member key but the sender's. */
  #deliverToGroup(session: SpotSession, message: InstantMessage, hash: Uint8Array): void {
    const targets: SpotSession[] = [];
    const elsewhere: string[] = [];
    for (const address of this.#registry.groupAddresses(hash)) {
      if (address === session.peer?.address) continue;
      const last = lastReady(this.#byKey.get(address));
      if (last !== undefined) targets.push(last);
      else if (this.#cluster?.hasKey(address) === true) elsewhere.push(address);
    }
    if (targets.length === 0 && elsewhere.length === 0) {
      return this.#deliver(session, message, undefined);
    }
    let packet: Uint8Array;
    try {
      packet = encodePacket({ type: "message", message });
    } catch {
      return this.#reply(session, message, "message cannot be forwarded (sender too long)");
    }
    for (const target of targets) target.send(packet);
    for (const address of elsewhere) this.#cluster!.toKey(address, packet);
  }

  async #systemRequest(session: SpotSession, message: InstantMessage, endpoint: string) {
    // An answer to the relay (say, to an idcard_update) is dropped
    if ((message.flags & MESSAGE_FLAG_RESPONSE) !== 0) return;
    let payload: Uint8Array;
    if ((message.flags & MESSAGE_FLAG_NOT_BOTTLE) !== 0) {
      payload = message.body;
    } else {
      if (!withinSignatureBudget(message.body)) {
        return this.#reply(
          session,
          message,
          `request body has more than ${MAX_VERIFIED_SIGNATURES} signatures`,
        );
      }
      try {
        payload = (await openBottle(message.body)).message;
      } catch {
        return this.#reply(session, message, "request body is not a bottle the relay can open");
      }
    }
    const peer = session.peer!;
    const answer = await answerSystem(
      this.#system,
      {
        address: peer.address,
        follow: (hash) => this.#follow(session, hash),
      },
      endpoint,
      payload,
    );
    if (answer.ok) this.#reply(session, message, undefined, answer.body);
    else this.#reply(session, message, answer.error);
  }

  #follow(session: SpotSession, hash: Uint8Array): boolean {
    const text = keyTarget(hash);
    if (session.following.some((known) => keyTarget(known) === text)) return true;
    if (session.following.length >= this.#options.maxSubscriptionsPerConnection) return false;
    session.following.push(hash);
    this.#registry.follow(hash, session);
    return true;
  }

  /** Answers a message: a body, or an error text; never an answer to an answer. */
  #reply(session: SpotSession, message: InstantMessage, error?: string, body?: Uint8Array): void {
    if ((message.flags & MESSAGE_FLAG_RESPONSE) !== 0) return;
    const flags = MESSAGE_FLAG_RESPONSE | MESSAGE_FLAG_NOT_BOTTLE |
      (error === undefined ? 0 : MESSAGE_FLAG_ERROR);
    try {
      session.send(encodePacket({
        type: "message",
        message: {
          id: message.id,
          flags,
          recipient: message.sender,
          sender: message.recipient,
          body: error === undefined ? body! : new TextEncoder().encode(error),
        },
      }));
    } catch {
      // The sender's own path is too long to answer to: nothing can reach it
    }
  }
}

/** The last ready connection of a set, as a key's newest connection gets its messages. */
function lastReady(candidates: Iterable<SpotSession> | undefined): SpotSession | undefined {
  let last: SpotSession | undefined;
  for (const candidate of candidates ?? []) {
    if (candidate.ready) last = candidate;
  }
  return last;
}
