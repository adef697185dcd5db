/**
 * Carries MQTT between a standard, EventTarget-style WebSocket (Deno's, the
 * Workers `WebSocketPair` server end, the Node `ws` package's, Bun's through
 * its adapter) and the Emitter broker: binary messages go to the session,
 * the broker's bytes go out as binary messages, and either side's close ends
 * both. The packets the broker sends together leave as one message (MQTT
 * over WebSocket is a byte stream: clients read several packets from one
 * message). MQTT over WebSocket is binary only, so a text message closes the
 * connection. Also picks the subprotocol to echo, as the real broker does.
 *
 * @module
 */

import { afterTurn, busyTurn } from "../../core/_after_turn.ts";
import { detectRuntime } from "../../core/runtime/detect.ts";
import type { UpgradedWebSocket } from "../../core/runtime/websocket_upgrade.ts";
import type { BrokerLink, BrokerSession } from "./broker.ts";

/** The MQTT subprotocols a WebSocket client may offer, as the real broker lists them. */
export const MQTT_SUBPROTOCOLS: readonly string[] = Object.freeze(["mqttv3.1", "mqttv3", "mqtt"]);

/** RFC 6455 close code 1003: the endpoint received a type of data it cannot accept. */
const UNSUPPORTED_DATA = 1003;
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
/**
 * Whether a busy turn's messages may wait for the turn's end: not under
 * Workers, where a socket is written only from its own request's context and
 * one timer for every socket would run in one request's.
 */
const DEFER_IN_BUSY_TURNS = detectRuntime().name !== "workerd";

/** What a transport needs from the broker: one session per connection. */
export interface BrokerAcceptor {
  /**
   * Starts the session of one new connection.
   *
   * @param link How the session writes to and closes the connection.
   * @returns Where the connection's bytes and its end go.
   */
  accept(link: BrokerLink): BrokerSession;
}

/**
 * Picks the subprotocol to answer a WebSocket upgrade with: the first of
 * those the client offered that is an MQTT one ({@linkcode MQTT_SUBPROTOCOLS}).
 *
 * @param offered The `Sec-WebSocket-Protocol` header (comma-separated), or its values.
 * @returns The subprotocol to echo, or `undefined` when none of the offered
 * ones is MQTT's (the upgrade then goes ahead without one).
 * @throws Never.
 *
 * @example
 * ```ts
 * import { selectMqttSubprotocol } from "./websocket_link.ts";
 *
 * console.log(selectMqttSubprotocol("chat, mqtt, mqttv3.1")); // "mqtt"
 * console.log(selectMqttSubprotocol(null)); // undefined
 * ```
 */
export function selectMqttSubprotocol(
  offered: string | null | undefined | Iterable<string>,
): string | undefined {
  if (offered === null || offered === undefined) return undefined;
  const names = typeof offered === "string" ? offered.split(",") : offered;
  for (const name of names) {
    const trimmed = name.trim();
    if (MQTT_SUBPROTOCOLS.includes(trimmed)) return trimmed;
  }
  return undefined;
}

/**
 * Connects a server-side WebSocket to the broker: one
 * {@linkcode BrokerAcceptor.accept} call, then every binary message goes to
 * the session, the session's bytes leave as binary messages, and the socket's
 * `close` or `error` ends the session once. The broker's backpressure reads
 * the socket's `bufferedAmount`.
 *
 * @param broker The broker, such as `server.emitter`.
 * @param socket The upgraded socket; its `binaryType` is set to `"arraybuffer"`.
 * @param remoteAddress The client's address, for per-address limits.
 * @returns The session, mostly for tests.
 * @throws Never; a send on a socket no longer open is dropped, as the peer is gone.
 *
 * @example Attach a `ws` socket on Node's `upgrade` event
 * ```ts ignore
 * import { WebSocketServer } from "ws";
 * import { attachWebSocket, createServer, selectMqttSubprotocol } from "@edgewire/sdk/server";
 *
 * const server = createServer();
 * const wss = new WebSocketServer({
 *   noServer: true,
 *   handleProtocols: (offered) => selectMqttSubprotocol(offered) ?? false,
 * });
 * // http.on("upgrade", (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) =>
 * //   attachWebSocket(server.emitter, ws, req.socket.remoteAddress ?? "unknown")));
 * ```
 */
export function attachWebSocket(
  broker: BrokerAcceptor,
  socket: UpgradedWebSocket,
  remoteAddress: string,
): BrokerSession {
  socket.binaryType = "arraybuffer";
  let ended = false;
  // The packets sent in this turn, joined into one message after it (MQTT is a byte stream)
  let queue: Uint8Array[] = [];
  let queued = 0;
  let closeAfterFlush = false;
  const writer = { turn: -1 };
  const flush = () => {
    const chunks = queue;
    const total = queued;
    queue = [];
    queued = 0;
    if (!ended && socket.readyState === OPEN && chunks.length > 0) {
      let message = chunks[0];
      if (chunks.length > 1) {
        message = new Uint8Array(total);
        let offset = 0;
        for (const chunk of chunks) {
          message.set(chunk, offset);
          offset += chunk.length;
        }
      }
      try {
        socket.send(message);
      } catch {
        // The socket closed between the check and the send; its close event follows
      }
    }
    if (closeAfterFlush) {
      closeAfterFlush = false;
      closeSocket();
    }
  };
  const closeSocket = () => {
    // Deno hands the socket over before its handshake completes; it can only close once open
    if (socket.readyState === CONNECTING) {
      socket.addEventListener("open", closeSocket);
      return;
    }
    try {
      socket.close();
    } catch {
      // Already closed
    }
  };
  const link: BrokerLink = {
    remoteAddress,
    send(bytes: Uint8Array): void {
      if (ended || closeAfterFlush || socket.readyState !== OPEN || bytes.length === 0) return;
      if (queue.length === 0) {
        // Sent once this task is done (with what it sends after), or at the end of a busy turn
        if (DEFER_IN_BUSY_TURNS && busyTurn(writer)) afterTurn(flush);
        else queueMicrotask(flush);
      }
      queue.push(bytes);
      queued += bytes.length;
    },
    bufferedBytes(): number {
      return socket.bufferedAmount + queued;
    },
    close(): void {
      // What was sent before the close still leaves first
      if (queue.length > 0) closeAfterFlush = true;
      else closeSocket();
    },
  };
  const session = broker.accept(link);
  const end = () => {
    if (ended) return;
    ended = true;
    session.closed();
  };
  socket.addEventListener("message", (event) => {
    if (ended) return;
    const data = (event as MessageEvent).data;
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : undefined;
    if (bytes !== undefined) {
      try {
        session.receive(bytes);
      } catch {
        // A broker bug must not become an uncaught error in the event loop: drop the connection
        link.close();
        end();
      }
    } else {
      // Text (or a Blob the runtime would not turn into bytes): MQTT is binary only
      try {
        socket.close(UNSUPPORTED_DATA, "MQTT over WebSocket is binary only");
      } catch {
        // Already closing
      }
      end();
    }
  });
  socket.addEventListener("close", () => {
    // Workers leave the reply to a peer's close frame to the server end; elsewhere a no-op
    if (socket.readyState !== CLOSED) link.close();
    end();
  });
  socket.addEventListener("error", end);
  return session;
}
