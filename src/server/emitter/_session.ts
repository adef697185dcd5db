/**
 * One client connection of the broker: it decodes the bytes the transport
 * hands it, answers each MQTT packet in order as the real Emitter broker does
 * (CONNECT, PUBLISH with its API requests, SUBSCRIBE with its replay,
 * UNSUBSCRIBE, PINGREQ, DISCONNECT), and tears everything down on close. A
 * packet whose answer waits on the store holds the packets after it, so
 * answers never overtake each other. Nothing the client sends throws out of
 * `receive()`: a malformed or unexpected packet closes this connection only.
 * Internal.
 *
 * @module
 */

import { MqttDecoder } from "../../emitter/mqtt/decoder.ts";
import { encodePacket } from "../../emitter/mqtt/encoder.ts";
import { MqttProtocolError } from "../../emitter/mqtt/errors.ts";
import type {
  MqttConnectPacket,
  MqttPacket,
  MqttPublishPacket,
  MqttSubackCode,
  MqttSubscribePacket,
  MqttUnsubscribePacket,
  MqttWill,
} from "../../emitter/mqtt/packets.ts";
import { channelString, parseChannel } from "../../emitter/security/channel.ts";
import { EMITTER_STATUS, type EmitterStatus } from "../../emitter/security/errors.ts";
import type { BrokerCore, CoreSession } from "./_core.ts";
import { connectionId } from "./_ids.ts";
import { publishMessage, subscribeTopic, unsubscribeTopic } from "./_pubsub.ts";
import { handleRequest } from "./_requests.ts";
import { loadMessages } from "./_storage.ts";
import type { BrokerLink, BrokerSession } from "./broker.ts";

const WAITING = 0;
const CONNECTED = 1;
const CLOSED = 2;
/**
 * The most packets held behind one waiting on the store before the connection
 * is closed (their bytes are capped by `maxSendBufferBytes` too).
 */
const MAX_HELD = 4096;
const ERROR_TOPIC = "emitter/error/";
const encoder = new TextEncoder();
const PINGRESP = encodePacket({ type: "pingresp" });
const CONNACK_OK = encodePacket({ type: "connack", sessionPresent: false, returnCode: 0 });

/** What a held packet costs toward the limit: its topics and payload. */
function heldSize(packet: MqttPacket): number {
  switch (packet.type) {
    case "publish":
      return packet.payload.length + packet.topic.length;
    case "subscribe": {
      let size = 0;
      for (const s of packet.subscriptions) size += s.topic.length;
      return size;
    }
    case "unsubscribe": {
      let size = 0;
      for (const topic of packet.topics) size += topic.length;
      return size;
    }
    default:
      return 0;
  }
}

/** One connection. Internal. */
export class Session implements CoreSession, BrokerSession {
  readonly id: string;
  username = "";
  clientId = "";
  mark = 0;
  readonly subscriptions: Map<string, { ssid: readonly number[]; channel: string }> = new Map();
  readonly links: Map<string, string> = new Map();
  /** When the client last sent bytes, in milliseconds. */
  lastRead: number;
  /** How long it may stay silent, in milliseconds. */
  deadlineMs: number;
  readonly #core: BrokerCore;
  readonly #link: BrokerLink;
  readonly #decoder: MqttDecoder;
  readonly #incoming: MqttPacket[] = [];
  readonly #held: MqttPacket[] = [];
  #heldBytes = 0;
  #early: Uint8Array[] | undefined;
  #earlyBytes = 0;
  #state = WAITING;
  #waiting = false;
  #will: MqttWill | undefined;
  readonly #onClose: (session: Session) => void;

  /**
   * Opens a session on a link.
   *
   * @param core The broker.
   * @param link The transport's side.
   * @param onClose Called once when the session closes.
   */
  constructor(core: BrokerCore, link: BrokerLink, onClose: (session: Session) => void) {
    this.#core = core;
    this.#link = link;
    this.#onClose = onClose;
    this.id = connectionId(core.options.random);
    this.#decoder = new MqttDecoder({ maxPacketSize: core.options.maxMessageBytes });
    this.lastRead = core.now();
    this.deadlineMs = core.options.connectTimeoutMs;
  }

  /** Whether the session is closed. */
  get isClosed(): boolean {
    return this.#state === CLOSED;
  }

  /** The transport's remote address. */
  get remoteAddress(): string {
    return this.#link.remoteAddress;
  }

  /** Holds bytes until the broker has loaded its key bans. */
  holdUntilReady(): void {
    this.#early = [];
  }

  /** Handles the bytes held while the broker loaded its key bans. */
  release(): void {
    const early = this.#early;
    this.#early = undefined;
    if (early !== undefined) { for (const chunk of early) this.receive(chunk); }
  }

  /** Decodes and answers the bytes read; closes the connection on a malformed packet. */
  receive(chunk: Uint8Array): void {
    if (this.#state === CLOSED) return;
    try {
      this.lastRead = this.#core.now();
      if (this.#early !== undefined) {
        this.#earlyBytes += chunk.length;
        if (this.#earlyBytes > this.#core.options.maxSendBufferBytes) this.terminate();
        else this.#early.push(chunk.slice());
        return;
      }
      let failure: unknown;
      const incoming = this.#incoming;
      try {
        this.#decoder.push(chunk, incoming);
      } catch (error) {
        failure = error;
      }
      for (let i = 0; i < incoming.length && this.#state !== CLOSED; i++) this.#accept(incoming[i]);
      incoming.length = 0;
      if (failure !== undefined && this.#state !== CLOSED) {
        this.#core.counters.malformedPackets++;
        if (
          failure instanceof MqttProtocolError && failure.code === "unsupported_protocol" &&
          this.#state === WAITING
        ) {
          this.#send(encodePacket({ type: "connack", sessionPresent: false, returnCode: 1 }));
        }
        this.terminate();
      }
    } catch {
      this.terminate();
    }
  }

  /** The peer went away. */
  closed(): void {
    this.#close(false);
  }

  /** Closes the connection from the broker's side. */
  terminate(): void {
    this.#close(true);
  }

  /** Sends bytes unless the send buffer is over its limit; `false` when the session must close. */
  deliver(bytes: Uint8Array): boolean {
    if (this.#state === CLOSED) return true;
    try {
      if (this.#link.bufferedBytes() > this.#core.options.maxSendBufferBytes) return false;
      this.#link.send(bytes);
      return true;
    } catch {
      return false;
    }
  }

  /** Sends bytes of our own (acks, answers); closes the connection when its buffer is full. */
  #send(bytes: Uint8Array): void {
    if (!this.deliver(bytes)) this.#core.doom(this);
  }

  /** Sends a JSON answer on a topic, as the real broker's `sendResponse`. */
  sendJson(topic: string, body: Record<string, unknown>, packetId: number | undefined): void {
    const answer = packetId ? { req: packetId, ...body } : body;
    this.#send(encodePacket({
      type: "publish",
      topic,
      payload: encoder.encode(JSON.stringify(answer)),
      qos: 0,
      retain: false,
      dup: false,
    }));
  }

  #notifyError(status: EmitterStatus, packetId: number | undefined): void {
    this.sendJson(ERROR_TOPIC, { status: status.status, message: status.message }, packetId);
  }

  /** Queues a packet, or handles it now when nothing is waiting on the store. */
  #accept(packet: MqttPacket): void {
    if (this.#waiting) {
      // The payload may alias the transport's buffer, which it may reuse
      if (packet.type === "publish") packet = { ...packet, payload: packet.payload.slice() };
      this.#heldBytes += heldSize(packet);
      if (
        this.#held.length >= MAX_HELD ||
        this.#heldBytes > this.#core.options.maxSendBufferBytes
      ) {
        this.terminate();
        return;
      }
      this.#held.push(packet);
      return;
    }
    this.#run(packet);
  }

  #run(packet: MqttPacket): void {
    let pending: void | Promise<void>;
    try {
      pending = this.#handle(packet);
    } catch {
      this.terminate();
      return;
    }
    if (pending === undefined) return;
    this.#waiting = true;
    pending.then(() => this.#resume(), () => this.terminate());
  }

  #resume(): void {
    this.#waiting = false;
    while (!this.#waiting && this.#held.length > 0 && this.#state !== CLOSED) {
      const packet = this.#held.shift()!;
      this.#heldBytes -= heldSize(packet);
      this.#run(packet);
    }
  }

  #handle(packet: MqttPacket): void | Promise<void> {
    if (this.#state === WAITING) {
      if (packet.type !== "connect") return this.terminate();
      return this.#onConnect(packet);
    }
    switch (packet.type) {
      case "connect":
        return this.terminate();
      case "publish":
        return this.#onPublish(packet);
      case "subscribe":
        return this.#onSubscribe(packet, [], 0);
      case "unsubscribe":
        return this.#onUnsubscribe(packet);
      case "pingreq":
        return this.#send(PINGRESP);
      case "disconnect":
        return this.terminate();
      default:
        // Acknowledgements and broker-side packets from a client: ignored, as the real broker does
        return;
    }
  }

  #onConnect(packet: MqttConnectPacket): void {
    this.#state = CONNECTED;
    this.username = packet.username ?? "";
    this.clientId = packet.clientId === "" ? this.id : packet.clientId;
    this.#will = packet.will === undefined
      ? undefined
      : { ...packet.will, payload: packet.will.payload.slice() };
    this.deadlineMs = packet.keepAlive > 0
      ? packet.keepAlive * 1500
      : this.#core.options.idleTimeoutMs;
    this.#send(CONNACK_OK);
  }

  #onPublish(packet: MqttPublishPacket): void | Promise<void> {
    this.#core.counters.messagesIn++;
    const topic = packet.topic.length <= 2 ? this.links.get(packet.topic) ?? "" : packet.topic;
    const channel = parseChannel(topic);
    const ack = packet.qos > 0 ? packet.packetId : undefined;
    let status: EmitterStatus | undefined;
    if (channel.type === "invalid") status = EMITTER_STATUS.badRequest;
    else if (channel.type !== "static") status = EMITTER_STATUS.forbidden;
    else if (channel.key === "emitter") {
      const answer = handleRequest(this.#core, this, channel, packet.payload);
      const respond = (body: Record<string, unknown>) => {
        this.sendJson(channelString(channel), body, packet.packetId);
        if (ack !== undefined) this.#send(encodePacket({ type: "puback", packetId: ack }));
      };
      const cluster = this.#core.cluster;
      if (cluster !== undefined) {
        // Answered once the other processes were sent what it changed (a link, presence watch)
        return Promise.resolve(answer).then((body) =>
          cluster.node.flushed().then(() => respond(body))
        );
      }
      if (answer instanceof Promise) return answer.then(respond);
      respond(answer);
      return;
    } else {
      let stored: Promise<boolean> | undefined;
      status = publishMessage(
        this.#core,
        this,
        channel,
        packet.payload,
        packet.retain,
        packet.packetId,
        ack === undefined ? undefined : (outcome) => stored = outcome,
      );
      if (stored !== undefined) {
        // Acknowledged once committed, so a crash cannot lose an acknowledged message; one
        // the store failed is not acknowledged, and the client sends it again.
        return stored.then((ok) => {
          if (ok && this.#state !== CLOSED) {
            this.#send(encodePacket({ type: "puback", packetId: ack! }));
          }
        });
      }
    }
    if (status !== undefined) this.#notifyError(status, packet.packetId);
    if (ack !== undefined) this.#send(encodePacket({ type: "puback", packetId: ack }));
  }

  #onSubscribe(
    packet: MqttSubscribePacket,
    granted: MqttSubackCode[],
    start: number,
  ): void | Promise<void> {
    const list = packet.subscriptions;
    // The connection may close meanwhile (a replay settling late, an error answer over the send
    // buffer): subscribing the rest then would leave them in the trie for good
    for (let i = start; i < list.length && this.#state !== CLOSED; i++) {
      const outcome = subscribeTopic(this.#core, this, list[i].topic);
      if ("status" in outcome) {
        granted.push(0x80);
        this.#notifyError(outcome, packet.packetId);
      } else if (outcome.replay !== undefined) {
        const query = outcome.replay;
        return loadMessages(this.#core, query).then(
          (messages) => {
            for (const m of messages) this.#sendPublish(m.channel, m.payload);
            granted.push(list[i].qos);
          },
          () => {
            this.#core.counters.storeFailures++;
            granted.push(0x80);
            this.#notifyError(EMITTER_STATUS.serverError, packet.packetId);
          },
        ).then(() => this.#onSubscribe(packet, granted, i + 1));
      } else {
        granted.push(list[i].qos);
      }
    }
    if (this.#state === CLOSED) return;
    const suback = encodePacket({ type: "suback", packetId: packet.packetId, granted });
    const cluster = this.#core.cluster;
    if (cluster === undefined) return this.#send(suback);
    // Acknowledged once the other processes have been sent the subscription, so a message
    // published anywhere after the SUBACK reaches it
    return cluster.node.flushed().then(() => {
      if (this.#state !== CLOSED) this.#send(suback);
    });
  }

  #sendPublish(topic: string, payload: Uint8Array): void {
    if (this.#state === CLOSED) return;
    this.#send(
      encodePacket({ type: "publish", topic, payload, qos: 0, retain: false, dup: false }),
    );
  }

  #onUnsubscribe(packet: MqttUnsubscribePacket): void {
    for (const topic of packet.topics) {
      const status = unsubscribeTopic(this.#core, this, topic);
      if (status !== undefined) this.#notifyError(status, packet.packetId);
    }
    this.#send(encodePacket({ type: "unsuback", packetId: packet.packetId }));
  }

  #close(closeLink: boolean): void {
    if (this.#state === CLOSED) return;
    const wasConnected = this.#state === CONNECTED;
    this.#state = CLOSED;
    this.#held.length = 0;
    this.#early = undefined;
    this.#onClose(this);
    for (const { ssid } of [...this.subscriptions.values()]) this.#core.unsubscribe(this, ssid);
    if (wasConnected && this.#will !== undefined) {
      const will = this.#will;
      this.#will = undefined;
      const channel = parseChannel(will.topic);
      if (channel.type === "static" && channel.key !== "emitter") {
        publishMessage(this.#core, undefined, channel, will.payload, will.retain);
      }
    }
    if (closeLink) {
      try {
        this.#link.close();
      } catch {
        // Already closed by the peer: nothing to do
      }
    }
  }
}
