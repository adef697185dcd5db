/**
 * One WebSocket to a Spot relay: binary frames, one packet each, decoded
 * as the client reads them. A frame that is text, above the 1 MiB limit or
 * not a packet closes the socket, as spotlib does.
 *
 * @module
 */

import { BinarySocket, type BinarySocketNames } from "../core/_binary_socket.ts";
import { type EdgewireError, NetworkError } from "../core/errors.ts";
import { type DecodedSpotPacket, decodePacket, SpotProtocolError } from "./proto/mod.ts";

/** Where a socket reports. */
export interface SocketHandlers {
  /** A decoded packet, in order. */
  packet(packet: DecodedSpotPacket): void;
  /** The socket ended, once; `error` is undefined after a local `close()`. */
  closed(error: EdgewireError | undefined): void;
}

const NAMES: BinarySocketNames = {
  peer: "the Spot relay",
  connection: "The Spot relay connection",
};

/** A live WebSocket carrying Spot packets. */
export class SpotSocket {
  readonly #socket: BinarySocket;
  readonly #handlers: SocketHandlers;

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
    this.#socket = new BinarySocket(WebSocketClass, url, undefined, NAMES, {
      bytes: (bytes) => this.#receive(bytes),
      // spotlib ignores text frames
      text: () => {},
      closed: (error) => handlers.closed(error),
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
   * Sends one encoded packet.
   *
   * @param bytes The packet.
   * @returns Whether it was handed to the socket.
   */
  send(bytes: Uint8Array): boolean {
    return this.#socket.send(bytes);
  }

  /**
   * Closes the socket; `error` says why, `undefined` for a local close.
   *
   * @param error Why.
   * @returns Nothing.
   */
  close(error?: EdgewireError): void {
    this.#socket.close(error, error === undefined ? 1000 : 4000);
  }

  #receive(bytes: Uint8Array): void {
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
}
