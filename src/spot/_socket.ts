/**
 * One WebSocket to a Spot relay: binary frames, one packet each, decoded
 * as the client reads them. A frame that is text, above the 1 MiB limit or
 * not a packet closes the socket, as spotlib does.
 *
 * @module
 */

import { type EdgewireError, NetworkError } from "../core/errors.ts";
import { type DecodedSpotPacket, decodePacket, SpotProtocolError } from "./proto/mod.ts";

/** Where a socket reports. */
export interface SocketHandlers {
  /** A decoded packet, in order. */
  packet(packet: DecodedSpotPacket): void;
  /** The socket ended, once; `error` is undefined after a local `close()`. */
  closed(error: EdgewireError | undefined): void;
}

/** A live WebSocket carrying Spot packets. */
export class SpotSocket {
  readonly #socket: WebSocket | undefined;
  readonly #handlers: SocketHandlers;
  readonly #opened: Promise<void>;
  #rejectOpen: (error: EdgewireError) => void = () => {};
  #openSettled = false;
  #ended = false;

  /**
   * Opens the socket.
   *
   * @param WebSocketClass The WebSocket class.
   * @param url The relay's URL.
   * @param handlers Where packets and the end go.
   * @throws Never: a URL the class refuses rejects `opened`.
   *
   * @example
   * ```ts
   * import { SpotSocket } from "./_socket.ts";
   *
   * const socket = new SpotSocket(WebSocket, "ws://127.0.0.1:8080/_websocket", {
   *   packet: (packet) => console.log(packet.type),
   *   closed: () => {},
   * });
   * await socket.opened;
   * ```
   */
  constructor(WebSocketClass: typeof WebSocket, url: string, handlers: SocketHandlers) {
    this.#handlers = handlers;
    let socket: WebSocket;
    try {
      socket = new WebSocketClass(url);
    } catch (cause) {
      this.#ended = true;
      this.#opened = Promise.reject(
        new NetworkError("Cannot open a WebSocket to the Spot relay: check the URL", { cause }),
      );
      this.#opened.catch(() => {});
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
    this.#opened.catch(() => {});
    socket.onmessage = (event: MessageEvent) => this.#receive(event.data);
    socket.onclose = (event: CloseEvent) =>
      this.#end(
        new NetworkError(
          `The Spot relay connection closed with code ${event.code}: the client reconnects`,
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
    return !this.#ended && this.#socket?.readyState === 1;
  }

  /**
   * Sends one encoded packet.
   *
   * @param bytes The packet.
   * @returns Whether it was handed to the socket.
   */
  send(bytes: Uint8Array): boolean {
    if (!this.open) return false;
    try {
      this.#socket!.send(bytes);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Closes the socket; `error` says why, `undefined` for a local close.
   *
   * @param error Why.
   * @returns Nothing.
   */
  close(error?: EdgewireError): void {
    this.#end(error, error === undefined ? 1000 : 4000);
  }

  #receive(data: unknown): void {
    if (this.#ended) return;
    if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) {
      // spotlib ignores text frames
      return;
    }
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let packet: DecodedSpotPacket;
    try {
      packet = decodePacket(bytes, "client");
    } catch (error) {
      this.close(
        error instanceof SpotProtocolError
          ? error
          : new NetworkError("Cannot decode a Spot packet", { cause: error }),
      );
      return;
    }
    this.#handlers.packet(packet);
  }

  #end(error: EdgewireError | undefined, code?: number): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#openSettled) {
      this.#openSettled = true;
      this.#rejectOpen(
        error ?? new NetworkError("The Spot relay connection closed before it opened"),
      );
    }
    const socket = this.#socket;
    if (socket !== undefined) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      if (code !== undefined) {
        try {
          socket.close(code);
        } catch {
          // Already closing: nothing more to do
        }
      }
    }
    this.#handlers.closed(error);
  }
}
