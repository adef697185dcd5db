/**
 * What the transport tests share: a WebSocket client that records what it
 * receives and how it closed, and an echo session that stands in for the
 * broker where a test is about the adapter alone.
 *
 * @module
 */

import { concatBytes } from "../../../src/core/bytes.ts";
import type { BrokerAcceptor } from "../../../src/server/emitter/websocket_link.ts";

/** A client socket with everything it received and its close, as promises. */
export interface OpenedSocket extends AsyncDisposable {
  /** The socket, open. */
  socket: WebSocket;
  /** Binary messages received so far. */
  received: Uint8Array[];
  /** Resolves with the close code once the socket has closed. */
  closed: Promise<number>;
  /** Resolves with the bytes received once at least `count` bytes have arrived in all. */
  bytes(count: number): Promise<Uint8Array>;
}

/** Opens a WebSocket to `url` offering `protocols`, and waits until it is open. */
export async function openSocket(url: string, protocols?: string[]): Promise<OpenedSocket> {
  const socket = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
  socket.binaryType = "arraybuffer";
  const received: Uint8Array[] = [];
  let wake = () => {};
  socket.addEventListener("message", (event) => {
    received.push(new Uint8Array(event.data as ArrayBuffer));
    wake();
  });
  const closed = new Promise<number>((resolve) => {
    socket.addEventListener("close", (event) => {
      resolve(event.code);
      wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot open ${url}`)), { once: true });
  });
  const joined = () => concatBytes(...received);
  return {
    socket,
    received,
    closed,
    async bytes(count: number) {
      while (joined().length < count) {
        if (socket.readyState === WebSocket.CLOSED) {
          throw new Error(`closed after ${joined().length} of ${count} bytes`);
        }
        await new Promise<void>((resolve) => wake = resolve);
      }
      return joined();
    },
    async [Symbol.asyncDispose]() {
      if (socket.readyState !== WebSocket.CLOSED) socket.close();
      await closed;
    },
  };
}

/** An acceptor whose sessions send back what they receive and record each end. */
export function echoBroker(): BrokerAcceptor & { addresses: string[]; ends: number } {
  const broker = {
    addresses: [] as string[],
    ends: 0,
    accept(link: Parameters<BrokerAcceptor["accept"]>[0]) {
      broker.addresses.push(link.remoteAddress);
      return {
        receive: (chunk: Uint8Array) => link.send(chunk.slice()),
        closed: () => void broker.ends++,
      };
    },
  };
  return broker;
}
