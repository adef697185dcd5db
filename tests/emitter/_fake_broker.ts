/**
 * A fake WebSocket class for the Emitter client's unit tests, with a broker
 * behind it that speaks MQTT through the real codec: it answers CONNECT,
 * SUBSCRIBE, UNSUBSCRIBE, QoS 1 PUBLISH and PINGREQ as told, records every
 * packet the client sends, and lets a test write raw bytes (split, joined or
 * malformed) into the client's socket. Like the real broker it answers the
 * API requests on `emitter/<name>/` to the asking socket, with no
 * subscription, `req` set to the packet id and before the PUBACK: keygen
 * through the real security module under a fresh license, the others in the
 * real broker's shapes (history from `stored`). With `behaviour.route` set it
 * also delivers publishes to the sockets subscribed to their channel (one
 * member per share group) and stores those with a `ttl`, and `serve()` puts it behind a real WebSocket
 * server on 127.0.0.1, for clients in other runtimes.
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
  /** Whether publishes reach the subscribed sockets (off: the test writes what arrives). */
  route: boolean;
}

/** A message the broker keeps for history requests: the id as base64, as the broker sends it. */
export interface FakeStoredMessage {
  id: string;
  channel: string;
  payload: Uint8Array;
}

/** A subscription the broker routes to: the channel's segments and the share group, if any. */
interface Route {
  socket: FakeSocket;
  topic: string;
  segments: string[];
  group: string | undefined;
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
    route: false,
  };
  /** The messages history answers with, oldest first. */
  readonly stored: FakeStoredMessage[] = [];
  readonly #routes: Route[] = [];
  #shareTurn = 0;
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
      for (const { topic } of packet.subscriptions) this.#subscribe(socket, topic);
      socket.reply({
        type: "suback",
        packetId: packet.packetId,
        granted: packet.subscriptions.map(() => b.suback),
      });
    } else if (packet.type === "unsubscribe") {
      for (let i = this.#routes.length - 1; i >= 0; i--) {
        const route = this.#routes[i];
        if (route.socket === socket && packet.topics.includes(route.topic)) {
          this.#routes.splice(i, 1);
        }
      }
      socket.reply({ type: "unsuback", packetId: packet.packetId });
    } else if (packet.type === "publish") {
      if (packet.topic.startsWith("emitter/")) this.#api(socket, packet.topic, packet);
      else if (b.route) this.#route(socket, packet.topic, packet.payload);
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
    } else if (name === "history") {
      const [key, ...rest] = String(body.channel).split("?")[0].split("/");
      const channel = rest.join("/");
      const last = Number(/[?&]last=(\d+)/.exec(String(body.channel))?.[1] ?? 1);
      let found = this.stored.filter((m) => key !== "" && m.channel === channel);
      const start = found.findIndex((m) => m.id === body.startFromID);
      if (start >= 0) found = found.slice(start + 1);
      const messages = found.slice(-last).map((m) => ({
        id: m.id,
        channel: m.channel,
        payload: btoa(String.fromCharCode(...m.payload)),
      }));
      answer = { messages };
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

  #subscribe(socket: FakeSocket, topic: string): void {
    const parts = topic.split("?")[0].split("/").filter((part) => part !== "");
    let group: string | undefined;
    let segments = parts.slice(1);
    if (segments[0] === "$share") {
      group = segments[1];
      segments = segments.slice(2);
    }
    this.#routes.push({ socket, topic, segments, group });
  }

  /** Delivers a publish as Emitter does: on its channel without key, to the matching sockets. */
  #route(sender: FakeSocket, topic: string, payload: Uint8Array): void {
    const [path, query = ""] = topic.split("?");
    const segments = path.split("/").filter((part) => part !== "").slice(1);
    const channel = `${segments.join("/")}/`;
    // A time to live stores the message for history, under an id in the broker's base64 form
    if (Number(/(?:^|&)ttl=(\d+)/.exec(query)?.[1] ?? 0) > 0) {
      const id = btoa(String.fromCharCode(0, 0, 0, this.stored.length + 1));
      this.stored.push({ id, channel, payload: payload.slice() });
    }
    const matching = this.#routes.filter((route) => {
      if (query.split("&").includes("me=0") && route.socket === sender) return false;
      return route.segments.every((want, i) =>
        want === "#" || (i < segments.length && (want === "+" || want === segments[i]))
      ) && (route.segments.at(-1) === "#" || route.segments.length === segments.length);
    });
    const chosen = new Set<FakeSocket>();
    const groups = new Map<string, Route[]>();
    for (const route of matching) {
      if (route.group === undefined) chosen.add(route.socket);
      else groups.set(route.group, [...(groups.get(route.group) ?? []), route]);
    }
    // One member of each group, in turn, so tests see the work shared deterministically
    for (const members of groups.values()) {
      chosen.add(members[this.#shareTurn++ % members.length].socket);
    }
    for (const socket of chosen) {
      if (socket.readyState !== 1) continue;
      socket.reply({ type: "publish", topic: channel, payload, qos: 0, retain: false, dup: false });
    }
  }

  /**
   * Serves the broker over real WebSockets on 127.0.0.1, any path, echoing
   * the `mqtt` subprotocol; each connection is a socket of `sockets`.
   *
   * @returns The `ws:` URL, and the server to dispose of.
   */
  serve(): { url: string } & AsyncDisposable {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",")
        .map((name) => name.trim());
      const protocol = ["mqttv3.1", "mqttv3", "mqtt"].find((name) => offered.includes(name));
      const { socket: ws, response } = Deno.upgradeWebSocket(request, { protocol });
      ws.binaryType = "arraybuffer";
      const fake = new FakeSocket(this, request.url, protocol ?? "");
      this.sockets.push(fake);
      fake.onmessage = (event) => ws.readyState === 1 && ws.send(event.data);
      fake.onclose = () => ws.close();
      ws.onopen = () => fake.accept();
      ws.onmessage = (event) => fake.send(new Uint8Array(event.data));
      ws.onclose = () => {
        fake.readyState = 3;
        for (let i = this.#routes.length - 1; i >= 0; i--) {
          if (this.#routes[i].socket === fake) this.#routes.splice(i, 1);
        }
      };
      return response;
    });
    return {
      url: `ws://127.0.0.1:${server.addr.port}/`,
      async [Symbol.asyncDispose]() {
        await server.shutdown();
      },
    };
  }
}
