/**
 * `SpotClient`: a Spot peer over the standard WebSocket. It finds its
 * relays by discovery (or takes one `url`), keeps one or more connections
 * with the handshake signed by its IDCard and reconnects with capped,
 * jittered backoff; it sends queries encrypted to `k.` peers (signed only
 * for the relay's `@/` endpoints) and matches their answers, answers
 * incoming messages through handlers, and uses the relay's blob store,
 * clock, IDCard directory and group lists.
 *
 * @module
 */

import { Deadline } from "../core/deadline.ts";
import { AbortedError, type EdgewireError, TimeoutError } from "../core/errors.ts";
import { invalidArgument, nonEmptyString } from "../core/validate.ts";
import type { IDCard } from "./bottle/mod.ts";
import { SpotClientStateError, SpotMessageError, SpotRemoteError } from "./errors.ts";
import type {
  SpotClientOptions,
  SpotConnectionCount,
  SpotHandler,
  SpotQueryOptions,
  SpotSendOptions,
  SpotWaitOptions,
} from "./options.ts";
import { SpotPacketConn } from "./packet_conn.ts";
import {
  encodeFetchBlobBody,
  encodePacket,
  encodeStoreBlobBody,
  keyTarget,
  MESSAGE_FLAG_ERROR,
  MESSAGE_FLAG_NOT_BOTTLE,
  parseGroupList,
  parseTimeAnswer,
  type SpotTime,
} from "./proto/mod.ts";
import { checkEndpoint, checkSendTarget } from "./_arguments.ts";
import { relayUrls } from "./_discovery.ts";
import { Dispatcher, newMessageId } from "./_dispatch.ts";
import { SpotIdentity } from "./_identity.ts";
import { IDCardDirectory, keyHashOf } from "./_idcard_cache.ts";
import { openBlob, sealBlob } from "./_blob.ts";
import { defaultHandlers, handleIncoming } from "./_inbound.ts";
import { type ResolvedSpotOptions, resolveSpotOptions } from "./_resolve_options.ts";
import { bytesOf, openMessage, sealMessage } from "./_seal.ts";
import { ConnectionSlot } from "./_slot.ts";

const decoder = new TextDecoder();

/**
 * A Spot client: end-to-end encrypted queries and messages between keys
 * through a relay that can read none of them.
 *
 * @example Two peers through a self-hosted relay
 * ```ts
 * import { SpotClient } from "./client.ts";
 *
 * const url = "ws://127.0.0.1:8080/_websocket";
 * const alice = new SpotClient({ url });
 * const bob = new SpotClient({ url });
 * bob.setHandler("hello", (message) => `hi, ${new TextDecoder().decode(message.body)}`);
 * await Promise.all([alice.waitOnline(), bob.waitOnline()]);
 * const answer = await alice.query(`${bob.address}/hello`, "alice");
 * console.log(new TextDecoder().decode(answer)); // "hi, alice"
 * alice.close();
 * bob.close();
 * ```
 */
export class SpotClient {
  readonly #o: ResolvedSpotOptions;
  readonly #dispatcher: Dispatcher;
  readonly #cards: IDCardDirectory;
  readonly #handlers: Map<string, SpotHandler>;
  readonly #slots: ConnectionSlot[] = [];
  readonly #onlineWaiters = new Set<() => void>();
  readonly #packetConns = new Set<SpotPacketConn>();
  readonly #closing = new AbortController();
  readonly #closed: Promise<never>;
  readonly #ready: Promise<SpotIdentity>;
  #identity: SpotIdentity | undefined;
  #lastError: EdgewireError | undefined;

  /**
   * Creates the client and starts connecting: it loads or makes its key,
   * then discovers relays (or dials `url`).
   *
   * @param options The relay, key, deadline and backoff.
   * @throws {InvalidArgumentError} When an option is not of its type or range.
   */
  constructor(options: SpotClientOptions = {}) {
    this.#o = resolveSpotOptions(options);
    this.#dispatcher = new Dispatcher(this.#o.maxQueuedEvents);
    this.#cards = new IDCardDirectory(
      this.#o.maxCachedIDCards,
      (hash) => this.query("@/idcard_find", hash),
    );
    this.#handlers = defaultHandlers({
      signedIDCard: () => this.#identity!.signed,
      updateIDCard: (card) => this.#cards.cache.set(card),
      checkUpdate: () => {},
    });
    this.#closed = new Promise<never>((_resolve, reject) => {
      this.#closing.signal.addEventListener("abort", () => reject(this.#closedError("answer")));
    });
    this.#closed.catch(() => {});
    this.#ready = SpotIdentity.load(this.#o);
    this.#ready.catch((error) => (this.#lastError = error));
    void this.#ready.then((identity) => {
      this.#identity = identity;
      if (!this.#closing.signal.aborted) void this.#connect(identity);
    }, () => {});
  }

  /**
   * Waits until the key and the IDCard are loaded (not for a connection).
   *
   * @returns Once `address` and `idCard` can be read.
   * @throws {StorageError} When the key storage fails.
   * @throws {SpotKeyError} When the stored key does not import.
   */
  async ready(): Promise<void> {
    await this.#ready;
  }

  /** This client's `k.<hash>` address; peers query `<address>/<endpoint>`. */
  get address(): string {
    return this.#me("read the address").address;
  }

  /** This client's IDCard. */
  get idCard(): IDCard {
    return this.#me("read the IDCard").card;
  }

  /** The last connection or handling error, for diagnosis. */
  get lastError(): EdgewireError | undefined {
    return this.#lastError;
  }

  /**
   * How many connections the client has, and how many are past the handshake.
   *
   * @returns The counts.
   */
  connectionCount(): SpotConnectionCount {
    return {
      total: this.#slots.filter((slot) => !slot.stopped).length,
      online: this.#dispatcher.onlineCount,
    };
  }

  /**
   * Waits until at least one connection is past the handshake.
   *
   * @param options A deadline (the client's `timeoutMs` by default) and a signal.
   * @returns Once online.
   * @throws {TimeoutError} When no connection is online in time.
   * @throws {AbortedError} When `signal` aborts.
   * @throws {SpotClientStateError} With code `closed` when the client is closed.
   * @throws {StorageError} When the key storage fails.
   */
  async waitOnline(options: SpotWaitOptions = {}): Promise<void> {
    this.#open("wait online");
    if (this.#dispatcher.onlineCount > 0) return;
    const deadline = this.#deadline("go online", options);
    let wake: () => void = () => {};
    const online = new Promise<void>((resolve) => (wake = resolve));
    this.#onlineWaiters.add(wake);
    try {
      // A key that cannot load (storage failure) fails the wait rather than timing it out
      await deadline.race(this.#ready);
      if (this.#dispatcher.onlineCount > 0) return;
      await deadline.race(Promise.race([online, this.#closed]));
    } finally {
      this.#onlineWaiters.delete(wake);
      deadline.end();
    }
  }

  /**
   * Sends a query and waits for its answer. A `k.` target gets the body
   * encrypted to its IDCard (fetched through `@/idcard_find`) and signed,
   * and must answer encrypted and signed; any other target (`@/time`) gets
   * it signed only.
   *
   * @param target Such as `k.<hash>/echo` or `@/time`.
   * @param body The content: bytes, or text as UTF-8.
   * @param options A deadline and a signal.
   * @returns The answer's content.
   * @throws {SpotRemoteError} When the target answers an error.
   * @throws {SpotMessageError} When the answer is not encrypted or not signed by the target.
   * @throws {TimeoutError} When no answer comes in time.
   * @throws {AbortedError} When `signal` aborts.
   * @throws {SpotClientStateError} With code `closed` when the client is closed.
   * @throws {InvalidArgumentError} When the target is not an address.
   */
  async query(
    target: string,
    body?: Uint8Array | string,
    options: SpotQueryOptions = {},
  ): Promise<Uint8Array> {
    const payload = bytesOf("send Spot query", body);
    nonEmptyString("send Spot query", "target", target, undefined, { reveal: true });
    this.#open("query");
    const deadline = this.#deadline(`get an answer from ${target}`, options);
    const { bytes: idBytes, text: id } = newMessageId();
    try {
      const identity = await deadline.race(this.#ready);
      const card = target.startsWith("k.")
        ? await deadline.race(this.getIDCard(target, { signal: deadline.signal }))
        : undefined;
      const sealed = await sealMessage(identity.key, card, payload);
      const packet = encodePacket({
        type: "message",
        message: { id: idBytes, flags: 0, recipient: target, sender: `/${id}`, body: sealed },
      });
      const answer = await deadline.race(
        Promise.race([this.#dispatcher.request(id, packet), this.#closed]),
      );
      let content = answer.body;
      if ((answer.flags & MESSAGE_FLAG_NOT_BOTTLE) === 0) {
        content = (await openMessage(identity.key, card, answer.body, target)).body;
      } else if (card !== undefined && (answer.flags & MESSAGE_FLAG_ERROR) === 0) {
        // An error in clear (the relay's "peer not connected") can only fail the query
        throw new SpotMessageError(
          "not_encrypted",
          `Cannot accept the answer of ${target} as it is not encrypted: the peer must answer with a bottle`,
        );
      }
      if ((answer.flags & MESSAGE_FLAG_ERROR) !== 0) {
        throw new SpotRemoteError(target, decoder.decode(content));
      }
      return content.slice();
    } finally {
      this.#dispatcher.forget(id);
      deadline.end();
    }
  }

  /**
   * Sends a message to a `k.` address without waiting for an answer:
   * encrypted to the peer's IDCard and signed.
   *
   * @param target Such as `k.<hash>/inbox`.
   * @param body The content.
   * @param options The sender endpoint, a deadline for finding the IDCard, and a signal.
   * @returns Once handed to a connection (or queued until one is online).
   * @throws {InvalidArgumentError} When the target is not a `k.` address or `from` does not start with `/`.
   * @throws {SpotRemoteError} When the peer's IDCard cannot be found.
   * @throws {TimeoutError} When the peer's IDCard does not come in time.
   * @throws {NetworkError} When no connection is online and the queue is full.
   * @throws {SpotClientStateError} With code `closed` when the client is or gets closed.
   */
  async sendTo(
    target: string,
    body: Uint8Array | string,
    options: SpotSendOptions = {},
  ): Promise<void> {
    const payload = bytesOf("send Spot message", body);
    checkSendTarget(target, options.from);
    this.#open("send");
    const identity = await this.#ready;
    const card = await this.getIDCard(target, options);
    const sealed = await sealMessage(identity.key, card, payload);
    // Closed meanwhile: the queue is gone, so say so rather than keep the message
    this.#open("send");
    const { bytes, text } = newMessageId();
    this.#dispatcher.post(encodePacket({
      type: "message",
      message: {
        id: bytes,
        flags: 0,
        recipient: target,
        sender: options.from ?? `/${text}`,
        body: sealed,
      },
    }));
  }

  /**
   * Registers the handler of an endpoint (`k.<me>/<endpoint>`), replacing
   * any, or removes it with `null`. The defaults `ping`, `version`,
   * `finger`, `check_update` and `idcard_update` can be replaced too.
   *
   * @param endpoint The endpoint, without `/`.
   * @param handler The handler, or `null`.
   * @returns Nothing.
   * @throws {InvalidArgumentError} When the endpoint is empty or holds `/`, or the handler is not a function.
   */
  setHandler(endpoint: string, handler: SpotHandler | null): void {
    checkEndpoint(endpoint);
    if (handler === null) this.#handlers.delete(endpoint);
    else if (typeof handler === "function") this.#handlers.set(endpoint, handler);
    else throw invalidArgument("set Spot handler", "handler", "a function or null", handler);
  }

  /**
   * The verified IDCard of a key, from the cache or `@/idcard_find` (which
   * also subscribes this client to the card's updates).
   *
   * @param target A `k.<hash>[/endpoint]` address, or the 32-byte key hash.
   * @param options A deadline and a signal.
   * @returns The card.
   * @throws {InvalidArgumentError} When the target is not a key address or hash.
   * @throws {SpotRemoteError} When the relay knows no such card.
   * @throws {SpotMessageError} When the answer is not that key's self-signed card.
   * @throws {TimeoutError} When the card does not come within this caller's deadline.
   * @throws {AbortedError} When this caller's `signal` aborts (other callers still get the card).
   */
  getIDCard(target: string | Uint8Array, options: SpotQueryOptions = {}): Promise<IDCard> {
    const hash = keyHashOf(target);
    // One fetch per card serves every caller; each caller's deadline and signal bound its own wait
    const deadline = this.#deadline(`get the IDCard of ${keyTarget(hash)}`, options);
    return deadline.race(this.#cards.find(hash)).finally(() => deadline.end());
  }

  /**
   * The relay's clock (`@/time`).
   *
   * @param options A deadline and a signal.
   * @returns Seconds, nanoseconds and epoch milliseconds.
   * @throws {SpotProtocolError} When the answer is shorter than 12 bytes.
   * @throws {TimeoutError} When no answer comes in time.
   */
  async getTime(options: SpotQueryOptions = {}): Promise<SpotTime> {
    return parseTimeAnswer(await this.query("@/time", undefined, options));
  }

  /**
   * The members of a group (`@/group_list`), as `k.` addresses.
   *
   * @param groupKey The group's key, as its memberships name it.
   * @param options A deadline and a signal.
   * @returns The members' addresses.
   * @throws {SpotProtocolError} When the answer is not whole 32-byte hashes.
   * @throws {SpotRemoteError} When the relay refuses.
   */
  async getGroupMembers(groupKey: Uint8Array, options: SpotQueryOptions = {}): Promise<string[]> {
    if (!(groupKey instanceof Uint8Array)) {
      throw invalidArgument("get Spot group members", "groupKey", "a Uint8Array", groupKey);
    }
    return parseGroupList(await this.query("@/group_list", groupKey, options));
  }

  /**
   * Stores a blob on the relay, encrypted to this client's own IDCard and
   * signed, so only this key reads it back. An empty value deletes it.
   *
   * @param key The blob's name (no U+0000).
   * @param value The content; the relay limits the stored bottle to about 49 kB.
   * @param options A deadline and a signal.
   * @returns Once the relay confirmed.
   * @throws {SpotRemoteError} When the relay refuses (too large, say).
   * @throws {InvalidArgumentError} When the key holds U+0000.
   */
  async storeBlob(
    key: string,
    value: Uint8Array | string,
    options: SpotQueryOptions = {},
  ): Promise<void> {
    const content = bytesOf("store Spot blob", value);
    if (content.length === 0) {
      await this.query("@/store_blob", encodeStoreBlobBody(key, null), options);
      return;
    }
    encodeFetchBlobBody(key);
    const identity = await this.#ready;
    const sealed = await sealBlob(identity.key, identity.card, content);
    await this.query("@/store_blob", encodeStoreBlobBody(key, sealed), options);
  }

  /**
   * Fetches a blob stored by this key, decrypted and verified.
   *
   * @param key The blob's name.
   * @param options A deadline and a signal.
   * @returns The content.
   * @throws {SpotRemoteError} When the relay has no such blob.
   * @throws {SpotMessageError} When it is not encrypted to and signed by this client.
   */
  async fetchBlob(key: string, options: SpotQueryOptions = {}): Promise<Uint8Array> {
    const stored = await this.query("@/fetch_blob", encodeFetchBlobBody(key), options);
    const identity = await this.#ready;
    return await openBlob(identity.key, identity.card, stored, key);
  }

  /**
   * Deletes a blob (stores an empty value).
   *
   * @param key The blob's name.
   * @param options A deadline and a signal.
   * @returns Once the relay confirmed.
   * @throws {SpotRemoteError} When the relay refuses.
   */
  async deleteBlob(key: string, options: SpotQueryOptions = {}): Promise<void> {
    await this.storeBlob(key, new Uint8Array(), options);
  }

  /**
   * Opens a packet endpoint: encrypted packets to `k.<me>/<name>` are read
   * with `readFrom`, and `writeTo` sends from it.
   *
   * @param name The endpoint.
   * @returns The packet connection.
   * @throws {InvalidArgumentError} When the name is empty or holds `/`.
   * @throws {SpotClientStateError} With code `closed` once the client is closed.
   */
  listenPacket(name: string): SpotPacketConn {
    this.#open("listen for packets");
    this.setHandler(name, null);
    const conn: SpotPacketConn = new SpotPacketConn({
      address: () => this.address,
      setHandler: (endpoint, handler) => {
        // The connection removes its handler once, when it closes
        if (handler === null) this.#packetConns.delete(conn);
        this.setHandler(endpoint, handler);
      },
      sendTo: (target, body, options) => this.sendTo(target, body, options),
    }, name);
    this.#packetConns.add(conn);
    return conn;
  }

  /**
   * Closes every connection and packet connection; queries in flight and
   * pending `readFrom` calls fail with `SpotClientStateError`.
   *
   * @returns Nothing.
   */
  close(): void {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    for (const slot of this.#slots) slot.stop();
    this.#dispatcher.closeAll(this.#closedError("answer"));
    for (const conn of [...this.#packetConns]) conn.close();
  }

  #me(what: string): SpotIdentity {
    if (this.#identity === undefined) {
      throw new SpotClientStateError(
        "not_ready",
        `Cannot ${what} of the Spot client before its key is loaded: await ready() first`,
      );
    }
    return this.#identity;
  }

  #open(what: string): void {
    if (this.#closing.signal.aborted) throw this.#closedError(what);
  }

  #closedError(what: string): SpotClientStateError {
    return new SpotClientStateError(
      "closed",
      `Cannot ${what} as the Spot client is closed: create a new one`,
    );
  }

  #deadline(what: string, options: SpotQueryOptions): Deadline {
    return new Deadline(options.timeoutMs ?? this.#o.timeoutMs, {
      signal: options.signal,
      onTimeout: (ms) => new TimeoutError(`Cannot ${what} within ${ms} ms`, ms),
      onAbort: (reason) => new AbortedError(`Spot call to ${what} was aborted`, { cause: reason }),
    });
  }

  async #connect(identity: SpotIdentity): Promise<void> {
    const signal = this.#closing.signal;
    const urls = await relayUrls(this.#o, signal, (error) => (this.#lastError = error));
    // close() may come after discovery answered: a slot started now would never stop
    if (urls === undefined || signal.aborted) return;
    for (const url of urls) {
      const slot = new ConnectionSlot(url, this.#o, identity, {
        online: (slot) => {
          this.#dispatcher.slotOnline(slot);
          for (const wake of this.#onlineWaiters) wake();
        },
        offline: (slot) => this.#dispatcher.slotOffline(slot),
        message: (_slot, message) => {
          if (this.#dispatcher.deliver(message)) return;
          void handleIncoming({
            key: identity.key,
            handler: (endpoint) => this.#handlers.get(endpoint),
            idcard: (address) => this.getIDCard(address),
            forget: (address) => this.#cards.cache.delete(address),
            post: (bytes) => this.#dispatcher.post(bytes),
            failed: (error) => (this.#lastError = error as EdgewireError),
          }, message);
        },
        failed: (_slot, error) => (this.#lastError = error),
      });
      this.#slots.push(slot);
      slot.start();
    }
  }
}
