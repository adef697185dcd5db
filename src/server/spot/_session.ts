/**
 * One client connection to the Spot relay: the handshake (a challenge, the
 * client's signed answer checked, a second round when group memberships
 * wait for it, then `rdy`), then its packets in order: pings echoed,
 * messages handed to the relay with the sender rewritten to the verified
 * `k.<hash>/<path>`. Bad input closes the connection (1002 for a packet
 * that does not decode, 1003 for text, 1008 for a message before the
 * handshake, a bad answer or a passed rate limit, 1009 for an oversize
 * message); a send buffer past its limit closes it too. Never throws into
 * the event loop.
 *
 * @module
 */

import type { UpgradedWebSocket } from "../../core/runtime/websocket_upgrade.ts";
import {
  type DecodedSpotPacket,
  decodePacket,
  encodePacket,
  type InstantMessage,
  MESSAGE_FLAG_NOT_BOTTLE,
} from "../../spot/proto/mod.ts";
import {
  type Challenge,
  makeChallenge,
  readyPacket,
  type VerifiedPeer,
  verifyAnswer,
} from "./_handshake.ts";
import type { CardFollower } from "./_registry.ts";

const CONNECTING = 0;
const OPEN = 1;

/** WebSocket close codes the relay uses. */
export const CLOSE = {
  protocolError: 1002,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
  goingAway: 1001,
} as const;

/** What a session needs from its relay. */
export interface SessionHost {
  /** The relay's code. */
  readonly serverCode: string;
  /** The largest message, in bytes. */
  readonly maxPacketBytes: number;
  /** The send buffer limit, in bytes. */
  readonly maxSendBufferBytes: number;
  /** The handshake deadline, in milliseconds. */
  readonly handshakeTimeoutMs: number;
  /** How long a connection may pass with no packet either way, in milliseconds. */
  readonly idleTimeoutMs: number;
  /** The most bytes of received packets waiting to be handled. */
  readonly maxPendingBytes: number;
  /**
   * Takes a token from a connection's message bucket.
   *
   * @param session The connection.
   * @returns Whether the message may go on.
   */
  allowMessage(session: SpotSession): boolean;
  /**
   * Memberships waiting for a card, or `null`.
   *
   * @param address The card's `k.` address.
   * @returns The memberships.
   */
  takeGroups(address: string): Uint8Array[] | null;
  /**
   * Called once the handshake is over.
   *
   * @param session The connection, now `ready`.
   */
  online(session: SpotSession): void;
  /**
   * Routes one message from a ready connection; its sender is already rewritten.
   *
   * @param session The sender.
   * @param message The message.
   * @returns Once handled.
   */
  route(session: SpotSession, message: InstantMessage): Promise<void>;
  /**
   * Called once when the connection ends.
   *
   * @param session The connection.
   */
  offline(session: SpotSession): void;
}

/** One connection. */
export class SpotSession implements CardFollower {
  /** The connection's id, the `cid` of `c.<srv>.<cid>`. */
  readonly clientId: string;
  /** The verified peer, once the handshake is over. */
  peer: VerifiedPeer | undefined;
  /** The key hashes this connection follows. */
  readonly following: Uint8Array[] = [];
  readonly #host: SessionHost;
  readonly #socket: UpgradedWebSocket;
  #state: "handshake" | "checking" | "ready" | "closed" = "handshake";
  #challenge: Challenge | undefined;
  #rounds = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #lastTraffic = performance.now();
  #work: Promise<void> = Promise.resolve();
  #draining = false;
  #pending = 0;

  /**
   * Takes over a socket and starts the handshake once it is open.
   *
   * @param host The relay.
   * @param socket The upgraded socket.
   * @param clientId The connection's id.
   */
  constructor(host: SessionHost, socket: UpgradedWebSocket, clientId: string) {
    this.#host = host;
    this.#socket = socket;
    this.clientId = clientId;
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => this.#receive((event as MessageEvent).data));
    socket.addEventListener("close", () => this.#end());
    socket.addEventListener("error", () => this.#end());
    this.#timer = setTimeout(
      () => this.close(CLOSE.policyViolation, "handshake timeout"),
      host.handshakeTimeoutMs,
    );
    this.#armIdle(host.idleTimeoutMs);
    if (socket.readyState === CONNECTING) {
      socket.addEventListener("open", () => this.#challengeNow(null));
    } else this.#challengeNow(null);
  }

  /** Whether the handshake is over and the connection open. */
  get ready(): boolean {
    return this.#state === "ready";
  }

  /**
   * Sends one packet, or closes the connection when its send buffer is past the limit.
   *
   * @param packet The packet's bytes.
   */
  send(packet: Uint8Array): void {
    if (this.#state === "closed" || this.#socket.readyState !== OPEN) return;
    if (this.#socket.bufferedAmount + packet.length > this.#host.maxSendBufferBytes) {
      this.close(CLOSE.policyViolation, "send buffer full");
      return;
    }
    try {
      this.#socket.send(packet);
      this.#lastTraffic = performance.now();
    } catch {
      this.#end();
    }
  }

  /**
   * Sends an `idcard_update` notification (a not-bottle message with the signed card).
   *
   * @param signed The card's signed bytes.
   */
  cardUpdated(signed: Uint8Array): void {
    if (!this.ready || this.peer === undefined) return;
    this.send(encodePacket({
      type: "message",
      message: {
        id: crypto.getRandomValues(new Uint8Array(16)),
        flags: MESSAGE_FLAG_NOT_BOTTLE,
        recipient: `${this.peer.address}/idcard_update`,
        sender: "@/idcard_update",
        body: signed,
      },
    }));
  }

  /**
   * Closes the connection.
   *
   * @param code The close code.
   * @param reason A short reason, no secrets.
   */
  close(code: number, reason: string): void {
    if (this.#state === "closed") return;
    const socket = this.#socket;
    const closeSocket = () => {
      try {
        socket.close(code, reason);
      } catch {
        // Already closing
      }
    };
    if (socket.readyState === CONNECTING) socket.addEventListener("open", closeSocket);
    else closeSocket();
    this.#end();
  }

  #end(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#timer);
    clearTimeout(this.#idle);
    this.#host.offline(this);
  }

  // One timer per connection, re-armed only when it fires: traffic just moves a timestamp
  #armIdle(delayMs: number): void {
    this.#idle = setTimeout(() => {
      if (this.#state === "closed") return;
      const quietMs = performance.now() - this.#lastTraffic;
      const limitMs = this.#host.idleTimeoutMs;
      if (quietMs >= limitMs) this.close(CLOSE.goingAway, "idle timeout");
      else this.#armIdle(limitMs - quietMs);
    }, delayMs);
  }

  #challengeNow(groups: Uint8Array[] | null): void {
    if (this.#state === "closed") return;
    this.#challenge = makeChallenge(this.#host.serverCode, this.clientId, groups);
    this.#state = "handshake";
    this.send(this.#challenge.packet);
  }

  #receive(data: unknown): void {
    if (this.#state === "closed" || this.#draining) return;
    this.#lastTraffic = performance.now();
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : undefined;
    if (bytes === undefined) return this.close(CLOSE.unsupportedData, "binary messages only");
    if (bytes.length > this.#host.maxPacketBytes) {
      return this.close(CLOSE.messageTooBig, "message too big");
    }
    let packet: DecodedSpotPacket;
    try {
      packet = decodePacket(bytes, "relay");
    } catch {
      return this.close(CLOSE.protocolError, "bad packet");
    }
    if (this.#state === "ready" && packet.type === "message" && !this.#host.allowMessage(this)) {
      // The messages allowed before this one are still answered, then the connection closes
      this.#draining = true;
      this.#work = this.#work.then(() => this.close(CLOSE.policyViolation, "rate limit"));
      return;
    }
    // One packet at a time, in order: checks and routing are async, so packets
    // wait here, and a connection that sends faster than they are handled is closed
    this.#pending += bytes.length;
    if (this.#pending > this.#host.maxPendingBytes) {
      return this.close(CLOSE.policyViolation, "too many packets waiting");
    }
    this.#work = this.#work.then(() => this.#handle(packet, bytes)).catch(() => {
      this.close(CLOSE.protocolError, "internal error");
    }).finally(() => {
      this.#pending -= bytes.length;
    });
  }

  async #handle(packet: DecodedSpotPacket, bytes: Uint8Array): Promise<void> {
    if (this.#state === "closed") return;
    switch (packet.type) {
      case "ping":
        // A pong: the same bytes back
        return this.send(bytes);
      case "handshake_response":
        if (this.#state !== "handshake") {
          // A late re-answer after `rdy` changes nothing
          if (this.#state === "ready") return;
          return this.close(CLOSE.policyViolation, "unexpected handshake answer");
        }
        return await this.#answer(packet);
      case "message":
        if (this.#state !== "ready" || this.peer === undefined) {
          return this.close(CLOSE.policyViolation, "handshake first");
        }
        return await this.#host.route(this, {
          ...packet.message,
          sender: `${this.peer.address}/${senderPath(packet.message.sender)}`,
        });
      default:
        return this.close(CLOSE.protocolError, "unexpected packet");
    }
  }

  async #answer(
    packet: Extract<DecodedSpotPacket, { type: "handshake_response" }>,
  ): Promise<void> {
    this.#state = "checking";
    const check = await verifyAnswer(this.#challenge!, packet.response);
    // The connection may have ended while the answer was checked
    if ((this.#state as string) === "closed") return;
    if (!check.ok) return this.close(CLOSE.policyViolation, check.reason);
    if (this.peer !== undefined && this.peer.address !== check.peer.address) {
      return this.close(CLOSE.policyViolation, "handshake key changed");
    }
    this.peer = check.peer;
    this.#rounds++;
    const groups = this.#rounds === 1 ? this.#host.takeGroups(check.peer.address) : null;
    if (groups !== null) return this.#challengeNow(groups);
    clearTimeout(this.#timer);
    this.#state = "ready";
    this.send(readyPacket(this.#host.serverCode, this.clientId));
    this.#host.online(this);
  }
}

/** The path a client gave as sender, after its first `/` (the whole text when it has none). */
function senderPath(sender: string): string {
  const slash = sender.indexOf("/");
  return slash === -1 ? sender : sender.slice(slash + 1);
}
