/**
 * The broker's shared state and its pub/sub primitives: the security context
 * (license cipher, contract, key bans), the subscription trie, the open
 * sessions, the fan-out that encodes a message once and hands the same bytes
 * to every subscriber, subscription bookkeeping with the presence events it
 * raises, and the store writes in flight. Sessions and request handlers work
 * through it. Internal.
 *
 * @module
 */

import { encodePacket } from "../../emitter/mqtt/encoder.ts";
import type { EmitterLicense } from "../../emitter/security/license.ts";
import { newLicense, parseLicense } from "../../emitter/security/license.ts";
import { singleContractProvider } from "../../emitter/security/contract.ts";
import type { KeyCipher } from "../../emitter/security/cipher.ts";
import type { ContractProvider } from "../../emitter/security/contract.ts";
import type { SecurityKey } from "../../emitter/security/key.ts";
import type { EmitterStore } from "./store.ts";
import type { ResolvedBrokerOptions } from "./options.ts";
import { SubscriptionTrie, type TrieSubscriber } from "./_trie.ts";
import { MessageIds } from "./_ids.ts";
import type { ContractQuota } from "./_store_quota.ts";
import type { EmitterCluster } from "./_cluster.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

/** The word that starts presence paths (`emitter/presence/` events). */
export const PRESENCE_WORD = 3869262148;
/** The topic presence events are delivered on. */
export const PRESENCE_TOPIC = "emitter/presence/";

/** What the core needs from a session. */
export interface CoreSession extends TrieSubscriber {
  /** The connection id. */
  readonly id: string;
  /** The MQTT user name, `""` when none was sent. */
  readonly username: string;
  /** The subscriptions, keyed by their words joined with `.`. */
  readonly subscriptions: Map<string, { ssid: readonly number[]; channel: string }>;
  /** Sends bytes unless the send buffer is over its limit; `false` when the session must close. */
  deliver(bytes: Uint8Array): boolean;
  /** Sends a JSON answer on a topic, with `req` set to a non-zero packet id. */
  sendJson(topic: string, body: Record<string, unknown>, packetId: number | undefined): void;
  /** Closes the connection from the broker's side. */
  terminate(): void;
}

/** The counters `EmitterBroker.stats()` reports. */
export interface CoreCounters {
  messagesIn: number;
  messagesOut: number;
  slowClosed: number;
  refusedConnections: number;
  malformedPackets: number;
  idleClosed: number;
  storeFailures: number;
  storeRefused: number;
  prunes: number;
}

const BAN_CACHE_LIMIT = 4096;
const KEY_CACHE_LIMIT = 4096;

/**
 * A cipher that remembers the keys it decrypted (and the texts that are not
 * keys): decrypting costs microseconds and every publish and subscribe does
 * it. The keys it returns are shared, so only read-only checks may use it.
 */
function cachingCipher(cipher: KeyCipher): KeyCipher {
  const cache = new Map<string, SecurityKey | undefined>();
  return {
    kind: cipher.kind,
    encryptKey: (key) => cipher.encryptKey(key),
    decryptKey(text) {
      const hit = cache.get(text);
      if (hit !== undefined || cache.has(text)) return hit;
      if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
      const key = cipher.decryptKey(text);
      cache.set(text, key);
      return key;
    },
  };
}
const encoder = new TextEncoder();

/** The broker's state. Internal. */
export class BrokerCore {
  /** The resolved options. */
  readonly options: ResolvedBrokerOptions;
  /** The license given or generated. */
  readonly license: EmitterLicense;
  /** The generated license's master key; `undefined` when a license was given. */
  readonly secret: string | undefined;
  /** The license's key cipher, uncached: keygen changes the keys it decrypts. */
  readonly cipher: KeyCipher;
  /** The license's one contract. */
  readonly contracts: ContractProvider;
  /** Where stored messages and bans go, if anywhere. */
  readonly store: EmitterStore | undefined;
  /** Every subscription. */
  readonly trie: SubscriptionTrie<CoreSession & TrieSubscriber> = new SubscriptionTrie();
  /** The open sessions. */
  readonly sessions: Set<CoreSession> = new Set();
  /** Open connections per remote address. */
  readonly addresses: Map<string, number> = new Map();
  /** What the broker knows of each contract's stored messages, for its quota. */
  readonly quotas: Map<number, ContractQuota> = new Map();
  /** The message id generator. */
  readonly ids: MessageIds;
  /** The counters `stats()` reports. */
  readonly counters: CoreCounters = {
    messagesIn: 0,
    messagesOut: 0,
    slowClosed: 0,
    refusedConnections: 0,
    malformedPackets: 0,
    idleClosed: 0,
    storeFailures: 0,
    storeRefused: 0,
    prunes: 0,
  };
  /** The other processes' subscriptions and deliveries, when a backplane is given. */
  cluster: EmitterCluster | undefined;
  readonly #bans = new Set<string>();
  readonly #banCache = new Map<string, string>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #targets: CoreSession[] = [];
  readonly #doomed: CoreSession[] = [];
  #fanning = false;

  /**
   * The security context of the read-only checks (`authorize`), with a
   * caching cipher; `keygen` changes the keys it decrypts, so it gets `cipher`.
   */
  readonly security: {
    readonly cipher: KeyCipher;
    readonly contracts: ContractProvider;
    readonly isBanned: (key: string) => boolean;
    readonly now: () => number;
  };

  /**
   * Sets the broker up from resolved options.
   *
   * @param options The resolved options.
   * @param store Where stored messages and bans go.
   * @throws {InvalidArgumentError} When the license text is not a license.
   */
  constructor(options: ResolvedBrokerOptions, store: EmitterStore | undefined) {
    this.options = options;
    this.store = store;
    if (options.license === undefined) {
      const fresh = options.randomBytes === undefined
        ? newLicense()
        : newLicense(options.randomBytes);
      this.license = fresh.license;
      this.secret = fresh.secret;
    } else {
      this.license = parseLicense(options.license);
      this.secret = undefined;
    }
    this.cipher = this.license.cipher();
    this.contracts = singleContractProvider(this.license);
    this.ids = new MessageIds(options.random);
    this.security = {
      cipher: cachingCipher(this.cipher),
      contracts: this.contracts,
      isBanned: (key) => this.isBanned(key),
      now: options.now,
    };
  }

  /** The current time in milliseconds. */
  now(): number {
    return this.options.now();
  }

  /** Whether a key text is banned; hashes only while some key is. */
  isBanned(key: string): boolean {
    if (this.#bans.size === 0) return false;
    let hash = this.#banCache.get(key);
    if (hash === undefined) {
      if (this.#banCache.size >= BAN_CACHE_LIMIT) this.#banCache.clear();
      hash = bytesToHex(sha256(utf8ToBytes(key)));
      this.#banCache.set(key, hash);
    }
    return this.#bans.has(hash);
  }

  /** Adds the bans the store lists. */
  loadBans(hashes: readonly string[]): void {
    for (const hash of hashes) this.#bans.add(hash);
  }

  /** Bans or unbans a key now, and keeps the change in the store. */
  setBan(key: string, banned: boolean): Promise<void> {
    const hash = bytesToHex(sha256(utf8ToBytes(key)));
    this.applyBan(hash, banned);
    this.cluster?.banned(hash, banned);
    if (this.store === undefined) return Promise.resolve();
    return this.track(this.store.setEmitterKeyBan(hash, banned, this.now()));
  }

  /** Bans or unbans a key's hash in memory only (another process keeps it in the store). */
  applyBan(hash: string, banned: boolean): void {
    if (banned) this.#bans.add(hash);
    else this.#bans.delete(hash);
  }

  /** Keeps a store promise until it settles, so `close()` can wait for it. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Waits for every store write in flight. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) {
      await Promise.allSettled([...this.#pending]);
    }
  }

  /**
   * Delivers a message to every subscriber of `ssid` (but `exclude`), encoded
   * once as a QoS 0 PUBLISH on `topic`. Subscribers whose send buffer is full
   * are closed after the loop.
   *
   * @returns How many subscribers got it.
   */
  fanOut(
    ssid: readonly number[],
    topic: string,
    payload: Uint8Array,
    exclude: CoreSession | undefined,
  ): number {
    const outer = !this.#fanning;
    const targets = outer ? this.#targets : [];
    this.#fanning = true;
    let sent = 0;
    try {
      this.trie.lookup(ssid, targets, exclude, this.options.random);
      if (targets.length === 0) return 0;
      const bytes = encodePacket({
        type: "publish",
        topic,
        payload,
        qos: 0,
        retain: false,
        dup: false,
      });
      for (let i = 0; i < targets.length; i++) {
        const target = targets[i];
        if (target.deliver(bytes)) sent++;
        else this.#doomed.push(target);
      }
      this.counters.messagesOut += sent;
      return sent;
    } finally {
      targets.length = 0;
      if (outer) {
        this.#fanning = false;
        // Deliveries to other processes go as one message each, once the walk is over
        if (this.cluster !== undefined) this.cluster.flush();
        this.#closeDoomed();
      }
    }
  }

  /** Closes the sessions a send found over their buffer limit. */
  doom(session: CoreSession): void {
    this.#doomed.push(session);
    if (!this.#fanning) this.#closeDoomed();
  }

  #closeDoomed(): void {
    while (this.#doomed.length > 0) {
      const session = this.#doomed.pop()!;
      this.counters.slowClosed++;
      session.terminate();
    }
  }

  /**
   * Adds a subscription and raises its presence event.
   *
   * @returns `"added"`, `"present"` when the session had it already, or
   * `"limit"` when it holds too many.
   */
  subscribe(
    session: CoreSession,
    ssid: readonly number[],
    channel: string,
  ): "added" | "present" | "limit" {
    const key = ssid.join(".");
    if (session.subscriptions.has(key)) return "present";
    if (session.subscriptions.size >= this.options.maxSubscriptionsPerConnection) return "limit";
    session.subscriptions.set(key, { ssid, channel });
    this.trie.subscribe(ssid, session);
    this.cluster?.subscribed(session, ssid, channel);
    this.notifyPresence("subscribe", session, ssid, channel);
    return "added";
  }

  /**
   * Drops a subscription and raises its presence event.
   *
   * @returns Whether the session had it.
   */
  unsubscribe(session: CoreSession, ssid: readonly number[]): boolean {
    const key = ssid.join(".");
    const entry = session.subscriptions.get(key);
    if (entry === undefined) return false;
    session.subscriptions.delete(key);
    this.trie.unsubscribe(entry.ssid, session);
    this.cluster?.unsubscribed(session, entry.ssid);
    this.notifyPresence("unsubscribe", session, entry.ssid, entry.channel);
    return true;
  }

  /** Sends a presence event to the sessions watching `ssid`'s channel. */
  notifyPresence(
    event: "subscribe" | "unsubscribe",
    session: CoreSession,
    ssid: readonly number[],
    channel: string,
  ): void {
    if (ssid[0] === 0) return; // a presence subscription itself raises nothing anyone watches
    const watch = [0, PRESENCE_WORD, ...ssid];
    const who = session.username === ""
      ? { id: session.id }
      : { id: session.id, username: session.username };
    const payload = encoder.encode(JSON.stringify({
      time: Math.floor(this.now() / 1000),
      event,
      channel,
      who,
    }));
    this.fanOut(watch, PRESENCE_TOPIC, payload, undefined);
  }

  /** Lists who is subscribed at `ssid`, as presence reports them. */
  whoIs(ssid: readonly number[]): { id: string; username?: string }[] {
    const found = this.trie.lookup(ssid, [], undefined, this.options.random);
    return found.map((s) => s.username === "" ? { id: s.id } : { id: s.id, username: s.username });
  }
}
