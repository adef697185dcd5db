/**
 * A fake Spot relay for the client's unit tests, behind a fake WebSocket
 * class, speaking the real codec (src/spot/proto) and checking what a relay
 * checks: the handshake signature over the exact challenge bytes against
 * the IDCard, the sender rewritten to the verified `k.` address, routing
 * between connected keys, and the system endpoints `@/time`,
 * `@/idcard_find` (with update notifications to subscribers), `@/group_list`,
 * `@/store_blob` (empty deletes) and `@/fetch_blob`, answered not-bottle.
 * Tests can drop connections, refuse new ones, swallow messages, inject
 * messages and read what was routed.
 *
 * @module
 */

import { IDCard, openBottle } from "../../src/spot/bottle/mod.ts";
import { SpotClient } from "../../src/spot/client.ts";
import type { SpotClientOptions } from "../../src/spot/options.ts";
import { PublicKey, verify } from "../../src/spot/crypto/mod.ts";
import {
  type DecodedSpotPacket,
  decodePacket,
  encodeGroupList,
  encodePacket,
  encodeTimeAnswer,
  type InstantMessage,
  KEY_HASH_BYTES,
  keyTarget,
  MESSAGE_FLAG_ERROR,
  MESSAGE_FLAG_NOT_BOTTLE,
  MESSAGE_FLAG_RESPONSE,
  parseFetchBlobBody,
  parseStoreBlobBody,
  routingSegment,
} from "../../src/spot/proto/mod.ts";

/** The real service's blob size limit, about 49 kB. */
export const BLOB_LIMIT = 49 * 1024;

/** One socket a client opened, seen from both ends. */
export class FakeSocket {
  readyState = 0;
  binaryType = "blob";
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  /** The verified `k.` address, once the handshake passed. */
  address: string | undefined;
  /** The connection's client id. */
  readonly clientId: string;
  /** The challenge bytes the client must sign. */
  challenge: Uint8Array = new Uint8Array();
  /** How many handshake responses came. */
  responses = 0;
  readonly #relay: FakeRelay;

  constructor(relay: FakeRelay, readonly url: string) {
    this.#relay = relay;
    this.clientId = `conn-${relay.dials}`;
  }

  /** Client side: sends a frame to the relay. */
  send(data: Uint8Array | ArrayBuffer): void {
    if (this.readyState !== 1) throw new Error("socket not open");
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : Uint8Array.from(data);
    queueMicrotask(() => {
      if (this.readyState === 1) void this.#relay.receive(this, bytes);
    });
  }

  /** Client side: closes the socket. */
  close(code = 1000): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.#relay.forget(this);
    queueMicrotask(() => this.onclose?.({ code } as CloseEvent));
  }

  /** Relay side: writes a frame to the client. */
  push(bytes: Uint8Array): void {
    if (this.readyState !== 1) return;
    const copy = bytes.slice().buffer;
    queueMicrotask(() => {
      if (this.readyState === 1) this.onmessage?.({ data: copy } as MessageEvent);
    });
  }

  /** Relay side: drops the connection. */
  drop(code = 1001): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.#relay.forget(this);
    queueMicrotask(() => this.onclose?.({ code } as CloseEvent));
  }
}

/** What the relay does; change the fields between steps. */
export interface FakeRelayBehaviour {
  /** New sockets fail to open (close 1006). */
  refuse: boolean;
  /** Sends `rdy` after a valid handshake response. */
  ready: boolean;
  /** Groups announced in the first handshake request. */
  groups: Uint8Array[] | null;
  /** Return true to swallow a message a client sent (after the sender is rewritten). */
  intercept: ((from: FakeSocket, message: InstantMessage) => boolean) | undefined;
}

/** A message the relay routed or answered. */
export interface RoutedMessage {
  from: string;
  message: InstantMessage;
}

/** The fake relay and the WebSocket class to inject. */
export class FakeRelay {
  readonly behaviour: FakeRelayBehaviour = {
    refuse: false,
    ready: true,
    groups: null,
    intercept: undefined,
  };
  /** Every socket ever opened, in order. */
  readonly sockets: FakeSocket[] = [];
  /** The signed card of each address that handshook. */
  readonly cards = new Map<string, Uint8Array>();
  /** Blobs by `<address>\0<name>`. */
  readonly blobs = new Map<string, Uint8Array>();
  /** Group members' key hashes by group key (hex). */
  readonly groups = new Map<string, Uint8Array[]>();
  /** Who asked `@/idcard_find` for each card. */
  readonly subscribers = new Map<string, Set<string>>();
  /** Every message clients sent, sender rewritten. */
  readonly routed: RoutedMessage[] = [];
  /** The relay's clock. */
  now = Date.parse("2026-11-25T12:00:00.250Z");
  dials = 0;
  readonly WebSocket: typeof WebSocket;

  constructor() {
    // deno-lint-ignore no-this-alias
    const relay = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string | URL) {
        relay.dials++;
        super(relay, String(url));
        relay.sockets.push(this);
        queueMicrotask(() => relay.accept(this));
      }
    } as unknown as typeof WebSocket;
  }

  /** The sockets past the handshake. */
  get online(): FakeSocket[] {
    return this.sockets.filter((socket) => socket.readyState === 1 && socket.address);
  }

  /** Messages sent to a system endpoint, by endpoint. */
  systemCalls(endpoint: string): RoutedMessage[] {
    return this.routed.filter((entry) => entry.message.recipient === `@/${endpoint}`);
  }

  /** Drops every open connection. */
  dropAll(): void {
    for (const socket of this.sockets) socket.drop();
  }

  /** Sends a message to every connection of an address. */
  inject(address: string, message: InstantMessage): void {
    for (const socket of this.online) {
      if (socket.address === address) socket.push(encodePacket({ type: "message", message }));
    }
  }

  /** Forgets a closed socket. */
  forget(_socket: FakeSocket): void {}

  accept(socket: FakeSocket): void {
    // A socket the client closed while connecting stays closed, as a real one does
    if (socket.readyState === 3) return;
    if (this.behaviour.refuse) {
      socket.readyState = 3;
      socket.onerror?.({} as Event);
      socket.onclose?.({ code: 1006 } as CloseEvent);
      return;
    }
    socket.readyState = 1;
    socket.onopen?.({} as Event);
    this.challenge(socket, this.behaviour.groups);
  }

  /** Sends a (new) handshake request, as the relay may at any time. */
  challenge(socket: FakeSocket, groups: Uint8Array[] | null = null): void {
    const packet = encodePacket({
      type: "handshake_request",
      request: {
        ready: false,
        serverCode: "fake",
        clientId: socket.clientId,
        nonce: crypto.getRandomValues(new Uint8Array(32)),
        groups,
      },
    });
    socket.challenge = packet.slice(1);
    socket.push(packet);
  }

  async receive(socket: FakeSocket, bytes: Uint8Array): Promise<void> {
    let packet: DecodedSpotPacket;
    try {
      packet = decodePacket(bytes, "relay");
    } catch {
      socket.drop(4000);
      return;
    }
    if (packet.type === "handshake_response") {
      socket.responses++;
      const { id, key, sig } = packet.response;
      try {
        const card = await IDCard.load(id!);
        if (!card.hasPurpose(key!, "sign")) throw new Error("key not in card");
        if (!(await verify(PublicKey.fromPkix(key!), socket.challenge, sig!))) {
          throw new Error("bad signature");
        }
        const previous = this.cards.get(card.address);
        this.cards.set(card.address, id!);
        socket.address = card.address;
        if (previous !== undefined && !sameBytes(previous, id!)) this.#notify(card.address, id!);
      } catch {
        socket.drop(4001);
        return;
      }
      if (this.behaviour.ready) {
        socket.push(encodePacket({
          type: "handshake_request",
          request: {
            ready: true,
            serverCode: "fake",
            clientId: socket.clientId,
            nonce: null,
            groups: null,
          },
        }));
      }
      return;
    }
    if (packet.type === "ping") return;
    if (packet.type !== "message" || socket.address === undefined) {
      socket.drop(4002);
      return;
    }
    const original = packet.message;
    const message: InstantMessage = {
      ...original,
      id: original.id.slice(),
      body: original.body.slice(),
      sender: `${socket.address}/${original.sender.replace(/^\//, "")}`,
    };
    this.routed.push({ from: socket.address, message });
    if (this.behaviour.intercept?.(socket, message)) return;
    if (message.recipient.startsWith("@/")) {
      await this.#system(socket, message);
      return;
    }
    const target = message.recipient.split("/")[0];
    const peer = this.online.find((candidate) => candidate.address === target);
    if (peer !== undefined) {
      peer.push(encodePacket({ type: "message", message }));
    } else if ((message.flags & MESSAGE_FLAG_RESPONSE) === 0) {
      this.#answer(socket, message, "peer not connected", true);
    }
  }

  #answer(socket: FakeSocket, query: InstantMessage, body: Uint8Array | string, error = false) {
    socket.push(encodePacket({
      type: "message",
      message: {
        id: query.id,
        flags: MESSAGE_FLAG_RESPONSE | MESSAGE_FLAG_NOT_BOTTLE | (error ? MESSAGE_FLAG_ERROR : 0),
        recipient: query.sender,
        sender: query.recipient,
        body: typeof body === "string" ? new TextEncoder().encode(body) : body,
      },
    }));
  }

  #notify(address: string, signed: Uint8Array): void {
    for (const subscriber of this.subscribers.get(address) ?? []) {
      this.inject(subscriber, {
        id: crypto.getRandomValues(new Uint8Array(16)),
        flags: MESSAGE_FLAG_NOT_BOTTLE,
        recipient: `${subscriber}/idcard_update`,
        sender: "@/idcard_find",
        body: signed,
      });
    }
  }

  async #system(socket: FakeSocket, message: InstantMessage): Promise<void> {
    const address = socket.address!;
    let payload = message.body;
    if ((message.flags & MESSAGE_FLAG_NOT_BOTTLE) === 0) {
      try {
        const card = await IDCard.load(this.cards.get(address)!);
        const opened = await openBottle(message.body, { idcards: [card] });
        if (!opened.signers.some((signer) => signer.idcard !== undefined)) {
          throw new Error("not signed by sender");
        }
        payload = opened.message;
      } catch (error) {
        this.#answer(socket, message, `bad bottle: ${(error as Error).message}`, true);
        return;
      }
    }
    const endpoint = routingSegment(message.recipient);
    switch (endpoint) {
      case "time":
        return this.#answer(socket, message, encodeTimeAnswer(this.now));
      case "idcard_find": {
        if (payload.length !== KEY_HASH_BYTES) {
          return this.#answer(socket, message, "bad hash", true);
        }
        const wanted = keyTarget(payload);
        const card = this.cards.get(wanted);
        if (card === undefined) return this.#answer(socket, message, "idcard not found", true);
        const subscribers = this.subscribers.get(wanted) ?? new Set();
        subscribers.add(address);
        this.subscribers.set(wanted, subscribers);
        return this.#answer(socket, message, card);
      }
      case "group_list": {
        const members = this.groups.get(toHex(payload)) ?? [];
        return this.#answer(socket, message, encodeGroupList(members));
      }
      case "store_blob": {
        const { key, value } = parseStoreBlobBody(payload);
        if (value === null) {
          this.blobs.delete(`${address}\0${key}`);
        } else if (value.length > BLOB_LIMIT) {
          return this.#answer(socket, message, "blob too large", true);
        } else {
          this.blobs.set(`${address}\0${key}`, value.slice());
        }
        return this.#answer(socket, message, new Uint8Array());
      }
      case "fetch_blob": {
        const value = this.blobs.get(`${address}\0${parseFetchBlobBody(payload)}`);
        if (value === undefined) return this.#answer(socket, message, "blob not found", true);
        return this.#answer(socket, message, value);
      }
      default:
        return this.#answer(socket, message, "unknown endpoint", true);
    }
  }
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** Options for a client of the fake relay: fast, deterministic backoff. */
export function clientOptions(
  relay: FakeRelay,
  options: SpotClientOptions = {},
): SpotClientOptions {
  return {
    url: "ws://relay.test/_websocket",
    WebSocket: relay.WebSocket,
    backoff: { initialMs: 1, maxMs: 4 },
    random: () => 0.5,
    timeoutMs: 3000,
    ...options,
  };
}

/** Starts clients of the fake relay and waits until each is online. */
export async function onlineClients(
  relay: FakeRelay,
  count: number,
  options: SpotClientOptions = {},
): Promise<SpotClient[]> {
  const clients = Array.from(
    { length: count },
    () => new SpotClient(clientOptions(relay, options)),
  );
  await Promise.all(clients.map((client) => client.waitOnline()));
  return clients;
}
