/**
 * One MQTT connection over one standard WebSocket (subprotocol `mqtt`):
 * frames are fed to a streaming decoder (packets split or joined across
 * frames), packets are encoded out, and the keepalive pings and watches for a
 * dead peer. A malformed packet or silence closes it with a typed error; it
 * never throws into its caller. Reconnection is the client's concern.
 *
 * @module
 */

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

/** A live WebSocket carrying MQTT. */
export class MqttConnection {
  readonly #socket: WebSocket;
  readonly #decoder = new MqttDecoder();
  readonly #config: ConnectionConfig;
  readonly #handlers: ConnectionHandlers;
  readonly #opened: Promise<void>;
  #openSettled = false;
  #rejectOpen: (error: EdgewireError) => void = () => {};
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
    let socket: WebSocket;
    try {
      socket = new config.WebSocket(config.endpoint, "mqtt");
    } catch (error) {
      this.#ended = true;
      this.#opened = Promise.reject(
        new NetworkError("Cannot open a WebSocket to the Emitter endpoint: check the URL", {
          cause: error,
        }),
      );
      this.#socket = undefined as unknown as WebSocket;
      return;
    }
    this.#socket = socket;
    socket.binaryType = "arraybuffer";
    this.#opened = new Promise<void>((resolve, reject) => {
      this.#rejectOpen = reject;
      socket.onopen = () => {
        this.#openSettled = true;
        resolve();
      };
    });
    socket.onmessage = (event: MessageEvent) => this.#receive(event.data);
    socket.onclose = (event: CloseEvent) =>
      this.#end(
        new NetworkError(
          `The Emitter connection closed with code ${event.code}: the client reconnects`,
        ),
      );
    // A close event always follows an error event; the close reports it
    socket.onerror = () => {};
  }

  /** Settles when the socket opens; rejects with a `NetworkError` when it cannot. */
  get opened(): Promise<void> {
    return this.#opened;
  }

  /** Whether packets can be sent now. */
  get open(): boolean {
    return !this.#ended && this.#socket.readyState === 1;
  }

  /**
   * Encodes and sends one packet.
   *
   * @param packet The packet.
   * @returns Whether it was handed to the socket.
   */
  send(packet: MqttPacket): boolean {
    if (!this.open) return false;
    this.#socket.send(encodePacket(packet));
    return true;
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
    if (this.#ended) return;
    const code = error instanceof MqttProtocolError
      ? CLOSE_PROTOCOL
      : error === undefined
      ? CLOSE_NORMAL
      : CLOSE_DEAD;
    this.#end(error, code);
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

  #receive(data: unknown): void {
    if (this.#ended) return;
    this.#lastReceived = this.#config.now();
    if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) {
      this.close(
        new MqttProtocolError(
          "invalid_length",
          "Cannot decode a text WebSocket frame as MQTT: the broker must send binary frames",
        ),
      );
      return;
    }
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
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
      if (this.#ended) return;
      this.#handlers.packet(packet);
    }
    if (failure !== undefined) this.close(failure);
  }

  #end(error: EdgewireError | undefined, code?: number): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#timer);
    if (!this.#openSettled) {
      this.#openSettled = true;
      this.#opened.catch(() => {});
      this.#rejectOpen(
        error ?? new NetworkError("The Emitter connection closed before it opened"),
      );
    }
    this.#socket.onopen = this.#socket.onmessage = this.#socket.onclose = null;
    if (code !== undefined) {
      try {
        this.#socket.close(code);
      } catch {
        // Already closing: nothing more to do
      }
    }
    this.#handlers.closed(error);
  }
}
