/**
 * A fake WebSocket class for the Emitter client's unit tests, with a broker
 * behind it that speaks MQTT through the real codec: it answers CONNECT,
 * SUBSCRIBE, UNSUBSCRIBE, QoS 1 PUBLISH and PINGREQ as told, records every
 * packet the client sends, and lets a test write raw bytes (split, joined or
 * malformed) into the client's socket. Like the real broker it answers the
 * API requests on `emitter/<name>/` to the asking socket, with no
 * subscription, `req` set to the packet id and before the PUBACK: keygen
 * through the real security module under a fresh license, the others in the
 * real broker's shapes.
 *
 * @module
 */

import { MqttDecoder } from "../../src/emitter/mqtt/decoder.ts";
import {
  EMITTER_STATUS,
  keygen,
  newLicense,
  readKeygenRequest,
  singleContractProvider,
} from "../../src/emitter/security/mod.ts";
import { encodePacket } from "../../src/emitter/mqtt/encoder.ts";
import type {
  MqttConnackCode,
  MqttPacket,
  MqttSubackCode,
} from "../../src/emitter/mqtt/packets.ts";

/** How the fake broker answers; change the fields between steps. */
export interface FakeBrokerBehaviour {
  /** The CONNACK code, or `undefined` to never answer CONNECT. */
  connack: MqttConnackCode | undefined;
  /** The SUBACK code given to each filter. */
  suback: MqttSubackCode;
  /** Whether QoS 1 publishes get a PUBACK. */
  puback: boolean;
  /** Whether PINGREQ gets a PINGRESP. */
  pingresp: boolean;
  /** Whether API answers wait in `held` until the test sends them. */
  holdAnswers: boolean;
}

/** An API answer the broker holds back. */
export interface HeldAnswer {
  socket: FakeSocket;
  topic: string;
  answer: Record<string, unknown>;
}

/** One socket the client opened. */
export class FakeSocket {
  readyState = 0;
  binaryType = "blob";
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  /** What the client sent, decoded, in order. */
  readonly received: MqttPacket[] = [];
  /** The close code the client used, when it closed. */
  closedWith: number | undefined;
  readonly url: string;
  readonly protocol: string;
  readonly #decoder = new MqttDecoder();
  readonly #broker: FakeBroker;

  constructor(broker: FakeBroker, url: string, protocol: string) {
    this.#broker = broker;
    this.url = url;
    this.protocol = protocol;
  }

  /** Opens the socket, as the server accepting the upgrade. */
  accept(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }

  /** Client side: takes the bytes the client sends. */
  send(data: Uint8Array): void {
    for (const packet of this.#decoder.push(data)) {
      this.received.push(packet);
      this.#broker.answer(this, packet);
    }
  }

  /** Client side: the client closes the socket. */
  close(code?: number): void {
    this.closedWith = code ?? 1005;
    this.readyState = 3;
  }

  /** Writes raw bytes into the client, as one WebSocket frame. */
  write(bytes: Uint8Array): void {
    this.onmessage?.(new MessageEvent("message", { data: bytes.slice().buffer }));
  }

  /** Writes packets into the client, one frame each. */
  reply(...packets: MqttPacket[]): void {
    for (const packet of packets) this.write(encodePacket(packet));
  }

  /** The server drops the connection. */
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code }));
  }
}

/** The fake broker and the WebSocket class to inject. */
export class FakeBroker {
  readonly sockets: FakeSocket[] = [];
  readonly behaviour: FakeBrokerBehaviour = {
    connack: 0,
    suback: 0,
    puback: true,
    pingresp: true,
    holdAnswers: false,
  };
  /** The license the broker's keys are made under, and its master key. */
  readonly license = newLicense();
  /** API answers held back while `behaviour.holdAnswers` is set. */
  readonly held: HeldAnswer[] = [];
  readonly #links = new Map<FakeSocket, Record<string, string>>();
  /** Whether new sockets open at once (else the test calls `accept()`). */
  autoAccept = true;
  readonly WebSocket: typeof WebSocket;
  #waiters: ((socket: FakeSocket) => void)[] = [];

  constructor() {
    // deno-lint-ignore no-this-alias
    const broker = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string | URL, protocol?: string) {
        super(broker, String(url), String(protocol));
        broker.sockets.push(this);
        if (broker.autoAccept) queueMicrotask(() => this.accept());
        for (const waiter of broker.#waiters.splice(0)) waiter(this);
      }
    } as unknown as typeof WebSocket;
  }

  /** The latest socket. */
  get socket(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error("No socket was opened");
    return socket;
  }

  /** Resolves with the next socket the client opens. */
  nextSocket(): Promise<FakeSocket> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Answers one packet the client sent. */
  answer(socket: FakeSocket, packet: MqttPacket): void {
    // Like a network, the answer comes after the send returns
    queueMicrotask(() => this.#answerNow(socket, packet));
  }

  #answerNow(socket: FakeSocket, packet: MqttPacket): void {
    if (socket.readyState !== 1) return;
    const b = this.behaviour;
    if (packet.type === "connect" && b.connack !== undefined) {
      socket.reply({ type: "connack", sessionPresent: false, returnCode: b.connack });
    } else if (packet.type === "subscribe") {
      socket.reply({
        type: "suback",
        packetId: packet.packetId,
        granted: packet.subscriptions.map(() => b.suback),
      });
    } else if (packet.type === "unsubscribe") {
      socket.reply({ type: "unsuback", packetId: packet.packetId });
    } else if (packet.type === "publish") {
      if (packet.topic.startsWith("emitter/")) this.#api(socket, packet.topic, packet);
      if (packet.qos === 1 && b.puback) {
        socket.reply({ type: "puback", packetId: packet.packetId! });
      }
    } else if (packet.type === "pingreq" && b.pingresp) {
      socket.reply({ type: "pingresp" });
    }
  }

  /** Sends a held answer. */
  send(held: HeldAnswer): void {
    held.socket.reply({
      type: "publish",
      topic: held.topic,
      payload: new TextEncoder().encode(JSON.stringify(held.answer)),
      qos: 0,
      retain: false,
      dup: false,
    });
  }

  #api(socket: FakeSocket, topic: string, packet: { payload: Uint8Array; packetId?: number }) {
    const name = topic.split("/")[1];
    const text = new TextDecoder().decode(packet.payload);
    const body = text === "" ? {} : JSON.parse(text);
    const connectionId = `conn-${this.sockets.indexOf(socket) + 1}`;
    let answer: Record<string, unknown>;
    if (name === "keygen") {
      const request = readKeygenRequest(packet.payload);
      const { license } = this.license;
      const result = request === undefined
        ? { ok: false as const, error: EMITTER_STATUS.badRequest }
        : keygen({
          cipher: license.cipher(),
          contracts: singleContractProvider(license),
          connectionId,
        }, request);
      answer = result.ok
        ? { status: 200, key: result.key, channel: result.channel }
        : { ...result.error };
    } else if (name === "me") {
      answer = { status: 200, id: connectionId, links: this.#links.get(socket) ?? {} };
    } else if (name === "link") {
      const links = this.#links.get(socket) ?? {};
      this.#links.set(socket, links);
      links[body.name] = body.channel;
      answer = { status: 200, name: body.name, channel: body.channel };
    } else if (name === "keyban") {
      answer = { status: 200, banned: body.banned };
    } else if (name === "presence") {
      const who = [{ id: connectionId, username: "ana" }];
      answer = body.status === false
        ? { status: 200 }
        : { status: 200, time: 1700000000, event: "status", channel: body.channel, who };
    } else {
      answer = { ...EMITTER_STATUS.notFound };
      topic = "emitter/error/";
    }
    // The real broker leaves `req` out for a QoS 0 request (packet id 0)
    if (packet.packetId !== undefined) answer = { req: packet.packetId, ...answer };
    const held = { socket, topic, answer };
    if (this.behaviour.holdAnswers) this.held.push(held);
    else this.send(held);
  }
}
