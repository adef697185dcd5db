/**
 * One MQTT connection over one standard WebSocket (subprotocol `mqtt`):
 * frames are fed to a streaming decoder (packets split or joined across
 * frames), packets are encoded out, and the keepalive pings and watches for a
 * dead peer. A malformed packet or silence closes it with a typed error; it
 * never throws into its caller. Reconnection is the client's concern.
 *
 * @module
 */

import { BinarySocket, type BinarySocketNames } from "../core/_binary_socket.ts";
import { type EdgewireError, NetworkError } from "../core/errors.ts";
import { MqttDecoder } from "./mqtt/decoder.ts";
import { encodePacket } from "./mqtt/encoder.ts";
import { MqttProtocolError } from "./mqtt/errors.ts";
import type { MqttPacket } from "./mqtt/packets.ts";

/** What a connection needs. */
export interface ConnectionConfig {
  WebSocket: typeof WebSocket;
  endpoint: string;
  keepaliveSeconds: number;
  now: () => number;
}

/** Where a connection reports. */
export interface ConnectionHandlers {
  /** A decoded packet, in order. */
  packet(packet: MqttPacket): void;
  /** The connection ended, once; `error` is undefined after a local `close()`. */
  closed(error: EdgewireError | undefined): void;
}

/** Client close codes (3000-4999 are the application's to use). */
const CLOSE_NORMAL = 1000;
const CLOSE_PROTOCOL = 4002;
const CLOSE_DEAD = 4008;

const NAMES: BinarySocketNames = {
  peer: "the Emitter endpoint",
  connection: "The Emitter connection",
};

/** A live WebSocket carrying MQTT. */
export class MqttConnection {
  readonly #socket: BinarySocket;
  readonly #decoder = new MqttDecoder();
  readonly #config: ConnectionConfig;
  readonly #handlers: ConnectionHandlers;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastReceived: number;
  #lastPing: number;
  #ended = false;

  /**
   * Dials the endpoint; {@linkcode opened} settles when the socket is open.
   *
   * @param config The WebSocket class, endpoint, keepalive and clock.
   * @param handlers Where packets and the end go.
   */
  constructor(config: ConnectionConfig, handlers: ConnectionHandlers) {
    this.#config = config;
    this.#handlers = handlers;
    this.#lastReceived = this.#lastPing = config.now();
    this.#socket = new BinarySocket(config.WebSocket, config.endpoint, "mqtt", NAMES, {
      bytes: (bytes) => this.#receive(bytes),
      text: () =>
        this.close(
          new MqttProtocolError(
            "invalid_length",
            "Cannot decode a text WebSocket frame as MQTT: the broker must send binary frames",
          ),
        ),
      closed: (error) => {
        this.#ended = true;
        clearInterval(this.#timer);
        handlers.closed(error);
      },
    });
  }

  /** Settles when the socket opens; rejects with a `NetworkError` when it cannot. */
  get opened(): Promise<void> {
    return this.#socket.opened;
  }

  /** Whether packets can be sent now. */
  get open(): boolean {
    return this.#socket.open;
  }

  /**
   * Encodes and sends one packet.
   *
   * @param packet The packet.
   * @returns Whether it was handed to the socket.
   */
  send(packet: MqttPacket): boolean {
    return this.open && this.#socket.send(encodePacket(packet));
  }

  /** Starts the pings and the dead-peer watch, once CONNACK accepted the connection. */
  startKeepalive(): void {
    const keepaliveMs = this.#config.keepaliveSeconds * 1000;
    this.#lastPing = this.#config.now();
    this.#timer = setInterval(() => this.#tick(keepaliveMs), keepaliveMs / 2);
  }

  /**
   * Closes the connection; `error` says why when it is a failure.
   *
   * @param error Why, or undefined for a normal close (after DISCONNECT).
   */
  close(error?: EdgewireError): void {
    const code = error instanceof MqttProtocolError
      ? CLOSE_PROTOCOL
      : error === undefined
      ? CLOSE_NORMAL
      : CLOSE_DEAD;
    this.#socket.close(error, code);
  }

  #tick(keepaliveMs: number): void {
    const now = this.#config.now();
    if (now - this.#lastReceived > keepaliveMs * 1.5) {
      this.close(
        new NetworkError(
          `The Emitter connection sent nothing for ${now - this.#lastReceived} ms (keepalive ${
            keepaliveMs / 1000
          } s): it is closed and the client reconnects`,
          { code: "keepalive_timeout" },
        ),
      );
    } else if (now - this.#lastPing >= keepaliveMs) {
      this.#lastPing = now;
      this.send({ type: "pingreq" });
    }
  }

  #receive(bytes: Uint8Array): void {
    this.#lastReceived = this.#config.now();
    const packets: MqttPacket[] = [];
    let failure: MqttProtocolError | undefined;
    try {
      this.#decoder.push(bytes, packets);
    } catch (error) {
      failure = error instanceof MqttProtocolError
        ? error
        : new MqttProtocolError("decoder_failed", `Cannot decode the stream: ${String(error)}`);
    }
    for (const packet of packets) {
      // A handler may close the connection between packets
      if (this.#ended) return;
      this.#handlers.packet(packet);
    }
    if (failure !== undefined) this.close(failure);
  }
}
