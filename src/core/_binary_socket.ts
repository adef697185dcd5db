/**
 * One standard WebSocket carrying binary frames, the part the Emitter and
 * Spot clients share: dialling (a URL the class refuses rejects `opened`
 * rather than throwing), the open promise, sending, and one end reported
 * once with a typed error. What the frames mean is the caller's. Internal.
 *
 * @module
 */

import { type EdgewireError, NetworkError } from "./errors.ts";

/** How the socket names its peer in its errors. */
export interface BinarySocketNames {
  /** The peer, as in "Cannot open a WebSocket to the Spot relay". */
  peer: string;
  /** The connection, as in "The Spot relay connection closed with code 1006". */
  connection: string;
}

/** Where a socket reports. */
export interface BinarySocketHandlers {
  /** A binary frame's bytes, in order. */
  bytes(bytes: Uint8Array): void;
  /** A text frame arrived. */
  text(): void;
  /** The socket ended, once; `error` is undefined after a local `close()`. */
  closed(error: EdgewireError | undefined): void;
}

/** A live WebSocket of binary frames. */
export class BinarySocket {
  readonly #socket: WebSocket | undefined;
  readonly #names: BinarySocketNames;
  readonly #handlers: BinarySocketHandlers;
  readonly #opened: Promise<void>;
  #rejectOpen: (error: EdgewireError) => void = () => {};
  #openSettled = false;
  #ended = false;

  /**
   * Dials `url`.
   *
   * @param WebSocketClass The WebSocket class.
   * @param url The endpoint.
   * @param protocols The subprotocols to offer, if any.
   * @param names How errors name the peer.
   * @param handlers Where frames and the end go.
   * @throws Never: a URL the class refuses rejects `opened`.
   *
   * @example
   * ```ts
   * import { BinarySocket } from "./_binary_socket.ts";
   *
   * const socket = new BinarySocket(WebSocket, "ws://127.0.0.1:1/", undefined, {
   *   peer: "the test server",
   *   connection: "The test connection",
   * }, { bytes: () => {}, text: () => {}, closed: () => {} });
   * await socket.opened.catch((error) => console.log(error.name)); // "NetworkError"
   * ```
   */
  constructor(
    WebSocketClass: typeof WebSocket,
    url: string,
    protocols: string | undefined,
    names: BinarySocketNames,
    handlers: BinarySocketHandlers,
  ) {
    this.#names = names;
    this.#handlers = handlers;
    let socket: WebSocket;
    try {
      socket = protocols === undefined
        ? new WebSocketClass(url)
        : new WebSocketClass(url, protocols);
    } catch (cause) {
      this.#ended = true;
      this.#opened = Promise.reject(
        new NetworkError(`Cannot open a WebSocket to ${names.peer}: check the URL`, { cause }),
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
          `${names.connection} closed with code ${event.code}: the client reconnects`,
        ),
      );
    // A close event always follows an error event; the close reports it
    socket.onerror = () => {};
  }

  /** Settles when the socket opens; rejects with a `NetworkError` when it cannot. */
  get opened(): Promise<void> {
    return this.#opened;
  }

  /** Whether bytes can be sent now. */
  get open(): boolean {
    return !this.#ended && this.#socket?.readyState === 1;
  }

  /**
   * Sends one binary frame.
   *
   * @param bytes The frame.
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
   * Closes the socket with `code` and reports the end, once.
   *
   * @param error Why, or `undefined` for a local close.
   * @param code The WebSocket close code to send.
   */
  close(error: EdgewireError | undefined, code: number): void {
    this.#end(error, code);
  }

  #receive(data: unknown): void {
    if (this.#ended) return;
    if (data instanceof ArrayBuffer) this.#handlers.bytes(new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) {
      this.#handlers.bytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else this.#handlers.text();
  }

  #end(error: EdgewireError | undefined, code?: number): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#openSettled) {
      this.#openSettled = true;
      this.#rejectOpen(
        error ?? new NetworkError(`${this.#names.connection} closed before it opened`),
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
