/**
 * Test peers for the Spot relay: a server with the relay on a real
 * `Deno.serve` at 127.0.0.1 port 0, and raw peers with real keys and signed
 * ID cards that speak the protocol packet by packet through
 * `src/spot/proto` (no client library), so every byte the relay sees is
 * chosen by the test.
 *
 * @module
 */

import {
  createServer,
  type EdgewireServer,
  MemoryStore,
  type ServerStore,
} from "../../../src/server/mod.ts";
import type { SpotRelayOptions } from "../../../src/server/spot/options.ts";
import { PrivateKey, sign } from "../../../src/spot/crypto/mod.ts";
import { Bottle, IDCard } from "../../../src/spot/bottle/mod.ts";
import {
  type DecodedSpotPacket,
  decodePacket,
  encodePacket,
  type InstantMessage,
  MESSAGE_FLAG_NOT_BOTTLE,
} from "../../../src/spot/proto/mod.ts";

/** A running relay. */
export interface RelayHarness {
  readonly server: EdgewireServer;
  /** `ws://127.0.0.1:<port>/_websocket`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Starts a server with the relay on 127.0.0.1, port 0.
 *
 * @param spot The relay's options.
 * @param store The store (a new memory store by default).
 * @returns The harness.
 */
export function startRelay(
  spot: SpotRelayOptions = {},
  store: ServerStore = new MemoryStore(),
): RelayHarness {
  const server = createServer({ store, spot });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) => server.fetch(request, info),
  );
  const origin = `http://127.0.0.1:${http.addr.port}`;
  return {
    server,
    url: `ws://127.0.0.1:${http.addr.port}/_websocket`,
    origin,
    async close() {
      await server.close();
      await http.shutdown();
    },
  };
}

/** A key and its signed card. */
export interface Identity {
  readonly key: PrivateKey;
  readonly card: IDCard;
  readonly signed: Uint8Array;
}

/**
 * Makes a P-256 key and its signed card.
 *
 * @returns The identity.
 */
export async function makeIdentity(): Promise<Identity> {
  const key = await PrivateKey.generate("p256");
  const card = IDCard.create(key);
  card.addKeyPurpose(key, ["decrypt"]);
  return { key, card, signed: await card.sign(key) };
}

/** How a test answers the relay's challenge. */
export type Answerer = (
  raw: Uint8Array,
  identity: Identity,
) => Promise<Uint8Array>;

/** The honest answer: the card, the key, and a signature over the request CBOR. */
export async function honestAnswer(raw: Uint8Array, identity: Identity): Promise<Uint8Array> {
  return encodePacket({
    type: "handshake_response",
    response: {
      id: identity.signed,
      key: identity.key.publicKey.pkix,
      sig: await sign(identity.key, raw.subarray(1)),
    },
  });
}

/** One raw connection. */
export class RawPeer {
  readonly socket: WebSocket;
  readonly #queue: Uint8Array[] = [];
  readonly #waiters: (() => void)[] = [];
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  identity: Identity | undefined;
  /** The `cid` the relay gave. */
  clientId = "";

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => {
      this.#queue.push(new Uint8Array(event.data as ArrayBuffer));
      this.#waiters.splice(0).forEach((wake) => wake());
    });
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        resolve({ code: event.code, reason: event.reason });
        this.#waiters.splice(0).forEach((wake) => wake());
      });
    });
  }

  /**
   * Opens a connection without a handshake.
   *
   * @param url The relay URL.
   * @returns The open peer.
   */
  static async open(url: string): Promise<RawPeer> {
    const socket = new WebSocket(url);
    const peer = new RawPeer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error("cannot connect")), { once: true });
    });
    return peer;
  }

  /**
   * Opens a connection and completes the handshake.
   *
   * @param url The relay URL.
   * @param identity The key and card (a new one by default).
   * @returns The peer, past `rdy`.
   */
  static async connect(url: string, identity?: Identity): Promise<RawPeer> {
    const peer = await RawPeer.open(url);
    await peer.handshake(identity ?? await makeIdentity());
    return peer;
  }

  /** The `k.` address of the peer's card. */
  get address(): string {
    return this.identity!.card.address;
  }

  /**
   * Answers challenges until `rdy`, re-signing the card with offered groups.
   *
   * @param identity The key and card.
   * @param answer How to answer.
   */
  async handshake(identity: Identity, answer: Answerer = honestAnswer): Promise<void> {
    this.identity = identity;
    for (;;) {
      const raw = await this.nextRaw();
      const packet = decodePacket(raw, "client");
      if (packet.type !== "handshake_request") throw new Error(`got ${packet.type} in handshake`);
      this.clientId = packet.request.clientId;
      if (packet.request.ready) return;
      if (packet.request.groups !== null) {
        await identity.card.updateGroups(packet.request.groups);
        (identity as { signed: Uint8Array }).signed = await identity.card.sign(identity.key);
      }
      this.socket.send(await answer(raw, identity));
    }
  }

  /**
   * The next packet's bytes.
   *
   * @param timeoutMs How long to wait.
   * @returns The bytes.
   */
  async nextRaw(timeoutMs = 5_000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length === 0) {
      if (this.socket.readyState >= WebSocket.CLOSING) throw new Error("connection closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no packet in time");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.#queue.shift()!;
  }

  /**
   * The next packet, decoded.
   *
   * @returns The packet.
   */
  async next(): Promise<DecodedSpotPacket> {
    return decodePacket(await this.nextRaw(), "client");
  }

  /**
   * The next instant message.
   *
   * @returns The message.
   */
  async nextMessage(): Promise<InstantMessage> {
    const packet = await this.next();
    if (packet.type !== "message") throw new Error(`expected a message, got ${packet.type}`);
    return packet.message;
  }

  /**
   * Sends a message.
   *
   * @param message The message; `id` defaults to random bytes.
   * @returns The message id.
   */
  send(message: Omit<InstantMessage, "id"> & { id?: Uint8Array }): Uint8Array {
    const id = message.id ?? crypto.getRandomValues(new Uint8Array(16));
    this.socket.send(encodePacket({ type: "message", message: { ...message, id } }));
    return id;
  }

  /**
   * Queries a system endpoint with a not-bottle body and waits for the answer.
   *
   * @param endpoint Such as `time`.
   * @param body The payload.
   * @returns The answer message.
   */
  async system(endpoint: string, body: Uint8Array = new Uint8Array()): Promise<InstantMessage> {
    this.send({
      flags: MESSAGE_FLAG_NOT_BOTTLE,
      recipient: `@/${endpoint}`,
      sender: "/q1",
      body,
    });
    return await this.nextMessage();
  }

  /**
   * Queries a system endpoint with a signed cleartext bottle, as spotlib does.
   *
   * @param endpoint Such as `idcard_find`.
   * @param body The payload.
   * @returns The answer message.
   */
  async systemBottled(endpoint: string, body: Uint8Array): Promise<InstantMessage> {
    const bottle = await new Bottle(body).sign(this.identity!.key);
    this.send({ flags: 0, recipient: `@/${endpoint}`, sender: "/q2", body: bottle.encode() });
    return await this.nextMessage();
  }

  /**
   * Waits for the relay to close the connection, failing after a while rather than hanging.
   *
   * @param timeoutMs How long to wait.
   * @returns The close code and reason.
   */
  async closedSoon(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("the relay did not close the connection")),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection and waits for the close. */
  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close();
    await this.closed;
  }
}

/** Text of a body. */
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/**
 * An in-memory server end of a WebSocket, for a peer the test controls
 * byte by byte: what the relay sends is kept in `sent` and counted in
 * `bufferedAmount` until `drain()`, as a peer that never reads would leave it.
 */
export class MemorySocket {
  // Its own listener table rather than EventTarget's, whose types differ when
  // @types/node (brought by the MQTT tests' packages) is in the same program
  readonly #listeners = new Map<string, ((event: Event) => void)[]>();
  binaryType = "blob";
  bufferedAmount = 0;
  readyState = 1;
  readonly sent: Uint8Array[] = [];
  closedWith: { code?: number; reason?: string } | undefined;

  /** Registers a listener, as the relay does for `message`, `close` and `error`. */
  addEventListener(type: string, listener: (event: Event) => void): void {
    const list = this.#listeners.get(type) ?? [];
    list.push(listener);
    this.#listeners.set(type, list);
  }

  #dispatch(event: Event): void {
    for (const listener of this.#listeners.get(event.type) ?? []) listener(event);
  }

  /** Keeps one message the relay sends. */
  send(data: Uint8Array): void {
    if (this.readyState !== 1) throw new Error("socket not open");
    this.sent.push(data.slice());
    this.bufferedAmount += data.length;
  }

  /** Records the relay's close. */
  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.closedWith = { code, reason };
    this.readyState = 3;
    this.#dispatch(new Event("close"));
  }

  /** Delivers bytes from the peer to the relay. */
  deliver(bytes: Uint8Array): void {
    const copy = bytes.slice();
    this.#dispatch(new MessageEvent("message", { data: copy.buffer }));
  }

  /** Waits until the relay has sent `count` messages. */
  async waitSent(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sent.length < count && this.readyState === 1) {
      if (Date.now() > deadline) throw new Error("the relay sent nothing in time");
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}
