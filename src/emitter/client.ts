/**
 * {@linkcode EmitterClient}: Emitter's publish and subscribe over MQTT 3.1.1
 * on the standard `WebSocket`, so it runs unchanged in Deno, Bun, Node 22,
 * browsers and Workers. It keeps the connection alive, notices a dead one,
 * reconnects with capped jittered backoff and then resubscribes, resends
 * unacknowledged QoS 1 publishes and flushes the bounded offline queue, in
 * that order. Subscriptions may join a share group. The broker's API calls
 * (`keygen`, `keyban`, `link`, `me`, `presence`, `history`) return promises of
 * their answers, correlated by packet id.
 *
 * @module
 */

import { BackoffGate } from "../core/backoff.ts";
import { EdgewireError, NetworkError } from "../core/errors.ts";
import type { QueueStats } from "../core/queue.ts";
import { integer } from "../core/validate.ts";
import { AckTable } from "./_acks.ts";
import type { MqttConnection } from "./_connection.ts";
import { deferred, within } from "./_deferred.ts";
import { dialMqtt } from "./_dial.ts";
import { Events } from "./_events.ts";
import { Outbox, type Outgoing } from "./_outbox.ts";
import {
  type ApiBody,
  type ApiName,
  ApiRequests,
  historyBody,
  historyMessages,
  keybanBody,
  keygenBody,
  linkBody,
  linkName,
  presenceBody,
} from "./_requests.ts";
import { type ResolvedEmitterOptions, resolveEmitterOptions } from "./_resolve_options.ts";
import { Reconnector } from "./_reconnector.ts";
import { type SubscriptionEntry, Subscriptions } from "./_subscriptions.ts";
import { messagePayload, publishTopic, shareTopic, subscribeTopic } from "./_topic.ts";
import { type EmitterHistoryMessage, EmitterMessage } from "./message.ts";
import { MqttProtocolError } from "./mqtt/errors.ts";
import type { MqttPacket, MqttPublishPacket } from "./mqtt/packets.ts";
import type {
  EmitterCallOptions,
  EmitterClientOptions,
  EmitterConnectOptions,
  EmitterEvents,
  EmitterHistoryRequest,
  EmitterKeybanRequest,
  EmitterKeybanResponse,
  EmitterKeygenRequest,
  EmitterKeygenResponse,
  EmitterLinkPublishRequest,
  EmitterLinkRequest,
  EmitterLinkResponse,
  EmitterMeResponse,
  EmitterPresenceRequest,
  EmitterPresenceResponse,
  EmitterPublishRequest,
  EmitterShareSubscribeRequest,
  EmitterSubscribeRequest,
  EmitterUnsubscribeRequest,
} from "./options.ts";
import type { EmitterSubscription } from "./subscription.ts";

/**
 * An Emitter client on one WebSocket at a time.
 *
 * @example Publish and receive on one channel
 * ```ts
 * import { EmitterClient } from "./client.ts";
 *
 * const client = new EmitterClient({ endpoint: "ws://127.0.0.1:8080/" });
 * await client.connect();
 * const chat = await client.subscribe({ key: "CHANNEL_KEY", channel: "chat/" });
 * await client.publish({ key: "CHANNEL_KEY", channel: "chat/", message: { hi: 1 }, qos: 1 });
 * for await (const message of chat) console.log(message.asObject());
 * ```
 */
export class EmitterClient {
  readonly #o: ResolvedEmitterOptions;
  readonly #gate: BackoffGate;
  readonly #outbox: Outbox;
  readonly #events = new Events<EmitterEvents>();
  /** SUBACK and UNSUBACK waiters, and the packet ids. */
  readonly #acks: AckTable;
  readonly #subscriptions: Subscriptions;
  readonly #requests: ApiRequests;
  #connection: MqttConnection | undefined;
  #connected = false;
  #stopped = true;
  readonly #reconnector: Reconnector;
  #dialing: Promise<void> | undefined;

  /**
   * Creates a client; nothing is dialled until {@linkcode EmitterClient.connect}.
   *
   * @param options The endpoint, keepalive, deadlines, backoff, queue bounds and injected services.
   * @throws {InvalidArgumentError} When an option is unusable, naming it.
   */
  constructor(options: EmitterClientOptions = {}) {
    this.#o = resolveEmitterOptions(options);
    this.#gate = new BackoffGate({ ...this.#o.backoff, random: this.#o.random, now: this.#o.now });
    this.#outbox = new Outbox(this.#o.maxQueuedEvents, this.#o.maxQueuedBytes);
    this.#subscriptions = new Subscriptions(this.#o.maxQueuedEvents);
    this.#acks = new AckTable((id) => this.#outbox.holds(id) || this.#requests.holds(id));
    this.#requests = new ApiRequests(
      (topic, payload) => {
        const packetId = this.#connected ? this.#acks.allocate() : 0;
        const packet = {
          type: "publish",
          topic,
          payload,
          qos: 1,
          retain: false,
          dup: false,
        } as const;
        return packetId > 0 && this.#send({ ...packet, packetId }) ? packetId : undefined;
      },
      this.#o.timeoutMs,
      (event) => this.#events.emit("presence", event),
      (req, error) => {
        // A refused QoS 1 publish rejects; a SUBSCRIBE's refusal comes with its SUBACK 0x80
        if (req !== undefined && (this.#outbox.fail(req, error) || this.#acks.has(req))) return;
        this.#events.emit("error", error);
      },
    );
    this.#reconnector = new Reconnector({
      gate: this.#gate,
      done: () => this.#stopped || this.#connected,
      dial: (signal) => this.#dialOnce(signal),
      failed: (error) => this.#events.emit("error", error),
    });
  }

  /** Whether the broker accepted the current connection. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Adds a listener for one event.
   *
   * @param event `connect`, `disconnect`, `message`, `presence` or `error`.
   * @param listener Called with the event's arguments; what it throws goes to `error`.
   * @returns A function that removes the listener.
   * @throws Never.
   */
  on<E extends keyof EmitterEvents>(event: E, listener: EmitterEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Dials the endpoint and sends CONNECT; resolves on CONNACK 0. After a
   * connection once succeeded, losing it starts reconnection until
   * {@linkcode EmitterClient.disconnect}.
   *
   * @param options A signal that stops the attempt.
   * @returns Once connected.
   * @throws {EmitterConnectError} When CONNACK is not 0.
   * @throws {TimeoutError} When the socket or CONNACK takes longer than `timeoutMs`.
   * @throws {AbortedError} When the signal aborts.
   * @throws {NetworkError} When the socket cannot open, or closes (or `disconnect()` is called) first.
   * @throws {MqttProtocolError} When a malformed packet ends the connection, even right after CONNACK.
   */
  async connect(options: EmitterConnectOptions = {}): Promise<void> {
    if (this.#connected) return;
    this.#stopped = false;
    await this.#dialOnce(options.signal);
  }

  /**
   * Sends DISCONNECT and closes the socket; stops reconnection, ends every
   * subscription's iterator and fails outstanding QoS 1 publishes. Queued
   * QoS 0 publishes stay queued for the next `connect()`.
   *
   * @returns Once closed.
   * @throws Never.
   */
  disconnect(): Promise<void> {
    this.#stopped = true;
    this.#reconnector.stop();
    const connection = this.#connection;
    this.#connection = undefined;
    const wasConnected = this.#connected;
    this.#connected = false;
    connection?.send({ type: "disconnect" });
    connection?.close();
    const stopped = new NetworkError("Cannot finish as the client disconnected", {
      code: "disconnected",
    });
    this.#outbox.failWaiting(stopped);
    this.#requests.failAll(stopped);
    this.#acks.failAll(stopped);
    this.#subscriptions.clear(stopped);
    if (wasConnected) this.#events.emit("disconnect", undefined);
    return Promise.resolve();
  }

  /**
   * Publishes a message. Offline, it waits in the bounded queue.
   *
   * @param request Key, channel, message and options (`ttl`, `me`, `retain`, `qos`).
   * @returns For QoS 0 once sent or queued; for QoS 1 once the broker's PUBACK arrives.
   * @throws {EmitterError} When the key or channel breaks Emitter's rules (its own status and text),
   * or the broker refuses a QoS 1 publish (its status and message; a refused QoS 0 one comes as an
   * `error` event).
   * @throws {InvalidArgumentError} When `ttl` or `qos` is out of range.
   * @throws {TimeoutError} When a QoS 1 PUBACK takes longer than `timeoutMs`.
   */
  async publish(request: EmitterPublishRequest): Promise<void> {
    await this.#publish(publishTopic(request).topic, request);
  }

  /**
   * Publishes a message through a link made with {@linkcode EmitterClient.link}
   * (its topic is the link's name); offline, it waits in the bounded queue.
   *
   * @param request The link's name, the message, `retain` and `qos`.
   * @returns For QoS 0 once sent or queued; for QoS 1 once the broker's PUBACK arrives.
   * @throws {EmitterError} 400 with the broker's text when the link is not 1 or 2 letters or digits;
   * the broker's refusal of a QoS 1 publish.
   * @throws {TimeoutError} When a QoS 1 PUBACK takes longer than `timeoutMs`.
   */
  async publishWithLink(request: EmitterLinkPublishRequest): Promise<void> {
    await this.#publish(linkName(request.link), request);
  }

  async #publish(topic: string, request: EmitterPublishRequest | EmitterLinkPublishRequest) {
    const qos = integer("publish", "qos", request.qos, 0, { min: 0, max: 1 }) as 0 | 1;
    const packet: MqttPublishPacket = {
      type: "publish",
      topic,
      payload: messagePayload(request.message),
      qos,
      retain: request.retain === true,
      dup: false,
    };
    if (qos === 0) {
      if (!this.#connected || !this.#connection?.send(packet)) this.#outbox.enqueue({ packet });
      return;
    }
    const done = deferred();
    const item: Outgoing = { packet, settle: done.settle };
    if (this.#connected) this.#outbox.sendQos1(item, this.#acks.allocate(), this.#send);
    else if (!this.#outbox.enqueue(item)) {
      throw new EdgewireError(
        `Cannot queue a ${packet.payload.length}-byte publish as it exceeds 'maxQueuedBytes'`,
        { code: "oversize" },
      );
    }
    await within(done.promise, this.#o.timeoutMs, "a PUBACK", () => this.#outbox.cancel(item));
  }

  /**
   * Subscribes to a channel; resolves on the broker's SUBACK (made again on
   * every reconnection). Offline, it is sent once connected.
   *
   * @param request Key, channel and replay options (`last`, `from`, `until`).
   * @returns The subscription, an async iterator of its messages.
   * @throws {EmitterError} When the key or channel breaks Emitter's rules.
   * @throws {EmitterSubscribeError} When the broker refuses it (SUBACK 0x80).
   * @throws {TimeoutError} When SUBACK takes longer than `timeoutMs`.
   */
  async subscribe(request: EmitterSubscribeRequest): Promise<EmitterSubscription> {
    const { topic, channel } = subscribeTopic(request);
    return await this.#subscribe(request.key, channel, topic, undefined);
  }

  /**
   * Subscribes in a share group (`key/$share/group/channel/`): the broker hands
   * each message of the channel to one member of the group, so the group's
   * members share the work. Emitter checks the key against the share topic, so
   * make it for `$share/<group>/<channel>/`. Otherwise as {@linkcode EmitterClient.subscribe}.
   *
   * @param request Key, channel, group (one channel segment) and replay options.
   * @returns The subscription, an async iterator of the messages this member gets.
   * @throws {EmitterError} 400 with the broker's text for a group that is not one
   * channel segment, else as for subscribe.
   * @throws {EmitterSubscribeError} When the broker refuses it (SUBACK 0x80).
   * @throws {TimeoutError} When SUBACK takes longer than `timeoutMs`.
   */
  async subscribeWithGroup(request: EmitterShareSubscribeRequest): Promise<EmitterSubscription> {
    const { topic, channel } = shareTopic(request);
    return await this.#subscribe(request.key, channel, topic, request.group);
  }

  async #subscribe(key: string, channel: string, topic: string, group: string | undefined) {
    const { entry, made } = this.#subscriptions.open(key, channel, topic, group);
    if (made && this.#connected) this.#sendSubscribe(entry);
    const drop = () => this.#subscriptions.drop(entry);
    await within(entry.acked, this.#o.timeoutMs, "a SUBACK", drop);
    return entry.subscription;
  }

  /**
   * Drops a subscription and ends its iterator; resolves on UNSUBACK, or at
   * once when offline.
   *
   * @param request The key and channel it was made with, and its share group if any.
   * @returns Once the broker acknowledged it.
   * @throws {EmitterError} When the key, channel or group breaks Emitter's rules.
   * @throws {TimeoutError} When UNSUBACK takes longer than `timeoutMs`.
   * @throws {NetworkError} When the connection ends, or `disconnect()` is called, before UNSUBACK.
   */
  async unsubscribe(request: EmitterUnsubscribeRequest): Promise<void> {
    const { key, group } = request;
    const { topic, channel } = group === undefined
      ? subscribeTopic({ key, channel: request.channel })
      : shareTopic({ key, channel: request.channel, group });
    const entry = this.#subscriptions.find(key, channel, group);
    if (entry !== undefined) this.#subscriptions.drop(entry);
    if (!this.#connected) return;
    const packetId = this.#acks.allocate();
    const done = deferred();
    this.#acks.expect(
      packetId,
      (answer) => done.settle(answer instanceof Error ? answer : undefined),
    );
    this.#connection?.send({ type: "unsubscribe", packetId, topics: [entry?.topic ?? topic] });
    await within(done.promise, this.#o.timeoutMs, "an UNSUBACK", () => this.#acks.forget(packetId));
  }

  /**
   * Asks the broker for a new key (`emitter/keygen/`). The calls below share
   * these rules: they need a connection, and wait for the answer whose `req`
   * is their packet id for `timeoutMs`.
   *
   * @param request The master key or a key with extend, channel, rights (`rwslpex`), ttl, signal.
   * @returns The new key and its channel.
   * @throws {EmitterError} With the broker's status and message (never the key) when it refuses.
   * @throws {TimeoutError} When no answer comes within `timeoutMs`.
   * @throws {AbortedError} When the signal aborts.
   * @throws {NetworkError} When not connected, or the connection ends first.
   */
  keygen(request: EmitterKeygenRequest): Promise<EmitterKeygenResponse> {
    return this.#call("keygen", () => keygenBody(request), request);
  }

  /**
   * Bans or unbans a key (`emitter/keyban/`), as {@linkcode EmitterClient.keygen} calls.
   *
   * @param request The master key, the target key, `banned`, and the call's signal and timeout.
   * @returns Whether the target is now banned.
   * @throws {EmitterError} With the broker's status and message when it refuses.
   * @throws {TimeoutError | AbortedError | NetworkError} As for keygen.
   */
  keyban(request: EmitterKeybanRequest): Promise<EmitterKeybanResponse> {
    return this.#call("keyban", () => keybanBody(request), request);
  }

  /**
   * Makes a 1 or 2 character link to a channel for this connection (`emitter/link/`).
   *
   * @param request Key, channel, link name, `subscribe`, `private`, `ttl`, `me`, signal, timeout.
   * @returns The link's name and channel.
   * @throws {EmitterError} 400 for a bad link name before sending; the broker's refusals.
   * @throws {TimeoutError | AbortedError | NetworkError} As for keygen.
   */
  link(request: EmitterLinkRequest): Promise<EmitterLinkResponse> {
    return this.#call("link", () => linkBody(request), request);
  }

  /**
   * Asks who this connection is (`emitter/me/`).
   *
   * @param options The call's signal and timeout.
   * @returns The connection's id and its links.
   * @throws {EmitterError} With the broker's status and message when it refuses.
   * @throws {TimeoutError | AbortedError | NetworkError} As for keygen.
   */
  me(options: EmitterCallOptions = {}): Promise<EmitterMeResponse> {
    return this.#call("me", () => ({ secrets: [] }), options);
  }

  /**
   * Asks who is on a channel and starts or stops its `presence` events (`emitter/presence/`).
   *
   * @param request Key (with presence), channel, `status`, `changes`, signal, timeout.
   * @returns The members when `status` is true, else only the status.
   * @throws {EmitterError} With the broker's status and message when it refuses.
   * @throws {TimeoutError | AbortedError | NetworkError} As for keygen.
   */
  presence(request: EmitterPresenceRequest): Promise<EmitterPresenceResponse> {
    return this.#call("presence", () => presenceBody(request), request);
  }

  /**
   * Gets a channel's stored messages (`emitter/history/`), as {@linkcode EmitterClient.keygen} calls.
   *
   * @param request Key (with load), channel, `last` (the broker's default is 1), `from`,
   * `until`, `startFromId` (an `id` from an earlier answer), signal, timeout.
   * @returns The messages, with their ids, in the broker's order.
   * @throws {EmitterError} With the broker's status and message when it refuses.
   * @throws {InvalidArgumentError} When `last`, `from`, `until` or `startFromId` is unusable.
   * @throws {EdgewireError} `invalid_answer` when the answer is not history's.
   * @throws {TimeoutError | AbortedError | NetworkError} As for keygen.
   */
  async history(request: EmitterHistoryRequest): Promise<EmitterHistoryMessage[]> {
    const answer = await this.#call<Record<string, unknown>>(
      "history",
      () => historyBody(request),
      request,
    );
    return historyMessages(answer);
  }

  /** Builds the body first, so a refusal before sending rejects rather than throws. */
  async #call<T>(name: ApiName, body: () => ApiBody, options: EmitterCallOptions): Promise<T> {
    return await this.#requests.call<T>(name, body(), options);
  }

  /**
   * The offline queue's counts: queued publishes and bytes, and drops by reason.
   *
   * @returns The statistics.
   * @throws Never.
   */
  queueStats(): QueueStats {
    return this.#outbox.stats();
  }

  /** One dial at a time: a second caller waits for the one under way. */
  #dialOnce(signal: AbortSignal | undefined): Promise<void> {
    this.#dialing ??= this.#dial(signal).finally(() => (this.#dialing = undefined));
    return this.#dialing;
  }

  async #dial(signal: AbortSignal | undefined): Promise<void> {
    let made: MqttConnection | undefined;
    const connection = await dialMqtt(this.#o, signal, {
      created: (c) => (this.#connection = made = c),
      packet: (c, packet) => this.#onPacket(c, packet),
      closed: (c, error) => this.#onClosed(c, error),
    }).catch((error) => {
      if (made !== undefined && this.#connection === made) this.#connection = undefined;
      throw error;
    });
    if (this.#stopped || this.#connection !== connection || !connection.open) {
      // disconnect() (or a close) came between the CONNACK and this continuation
      connection.close();
      throw new NetworkError("Cannot finish connecting as the client disconnected", {
        code: "disconnected",
      });
    }
    this.#connected = true;
    this.#gate.succeeded();
    connection.startKeepalive();
    this.#resume(connection);
    this.#events.emit("connect");
  }

  /** After CONNACK: resubscribe, resend unacknowledged QoS 1, flush the queue, in order. */
  #resume(connection: MqttConnection): void {
    for (const entry of this.#subscriptions.all()) this.#sendSubscribe(entry);
    this.#outbox.resume((packet) => connection.send(packet), () => this.#acks.allocate());
  }

  readonly #send = (packet: MqttPublishPacket): boolean => this.#connection?.send(packet) ?? false;

  #sendSubscribe(entry: SubscriptionEntry): void {
    const packetId = this.#acks.allocate();
    this.#acks.expect(packetId, (answer) => {
      // A SUBSCRIBE lost with its connection is sent again on the next one
      if (answer instanceof Error) return;
      if (answer.type !== "suback") return;
      const unseen = this.#subscriptions.acknowledge(entry, answer.granted[0]);
      if (unseen !== undefined) this.#events.emit("error", unseen);
    });
    this.#connection?.send({
      type: "subscribe",
      packetId,
      subscriptions: [{ topic: entry.topic, qos: 0 }],
    });
  }

  #onPacket(connection: MqttConnection, packet: MqttPacket): void {
    if (connection !== this.#connection) return;
    switch (packet.type) {
      case "publish": {
        if (packet.qos === 1 && packet.packetId !== undefined) {
          connection.send({ type: "puback", packetId: packet.packetId });
        }
        if (this.#requests.receive(packet.topic, packet.payload)) return;
        const message = new EmitterMessage(packet.topic, packet.payload);
        this.#events.emit("message", message);
        this.#subscriptions.deliver(message, packet.topic);
        return;
      }
      case "puback":
        this.#outbox.acknowledge(packet.packetId);
        return;
      case "suback":
      case "unsuback":
        this.#acks.settle(packet);
        return;
      default:
        // PINGRESP and anything else only proves the peer alive, which the connection noted
        return;
    }
  }

  #onClosed(connection: MqttConnection, error: EdgewireError | undefined): void {
    if (connection !== this.#connection) return;
    this.#connection = undefined;
    const lost = error ?? new NetworkError("The Emitter connection closed");
    this.#acks.failAll(lost);
    this.#requests.failAll(lost);
    const wasConnected = this.#connected;
    this.#connected = false;
    if (error instanceof MqttProtocolError) this.#events.emit("error", error);
    if (!wasConnected || this.#stopped) return;
    this.#events.emit("disconnect", error);
    this.#reconnector.start();
  }
}
