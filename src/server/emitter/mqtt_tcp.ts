/**
 * Plain MQTT over TCP (the real broker's port 8080 or 1883 listener) for the
 * Emitter broker, where the runtime can listen: Deno, Node and Bun. Each
 * connection becomes one broker session; the broker's backpressure counts
 * the bytes queued and not yet written.
 *
 * @module
 */

import { listenTcp } from "../../core/runtime/tcp_listener.ts";
import type { BrokerAcceptor } from "./websocket_link.ts";

/** Options of {@linkcode serveMqttTcp}. */
export interface MqttTcpOptions {
  /**
   * The address to listen on.
   *
   * @default "127.0.0.1"
   */
  hostname?: string;
  /**
   * The port; 0 lets the system choose a free one (1883 is MQTT's usual port).
   *
   * @default 0
   */
  port?: number;
  /** Stops listening and closes every connection when aborted. */
  signal?: AbortSignal;
}

/** A running MQTT over TCP listener. */
export interface MqttTcpServer {
  /** The address it is bound to. */
  readonly hostname: string;
  /** The port it is bound to. */
  readonly port: number;
  /**
   * Stops listening and closes every connection.
   *
   * @returns Once closed.
   */
  close(): Promise<void>;
}

/**
 * Serves the broker as plain MQTT over TCP.
 *
 * @param broker The broker, such as `server.emitter`.
 * @param options The address, the port and an abort signal.
 * @returns The bound address and a close function.
 * @throws {EdgewireError} `tcp_unsupported` in a runtime that cannot listen
 * (browsers, Workers); `tcp_listen_failed` when the port cannot be bound.
 *
 * @example Serve MQTT on a free port beside the HTTP server
 * ```ts
 * import { createServer, serveMqttTcp } from "@edgewire/sdk/server";
 *
 * const server = createServer();
 * const mqtt = await serveMqttTcp(server.emitter, { hostname: "127.0.0.1", port: 0 });
 * console.log(`mqtt://${mqtt.hostname}:${mqtt.port}`);
 * await mqtt.close();
 * await server.close();
 * ```
 */
export async function serveMqttTcp(
  broker: BrokerAcceptor,
  options: MqttTcpOptions = {},
): Promise<MqttTcpServer> {
  const listener = await listenTcp(options, (peer) => broker.accept(peer));
  return { hostname: listener.hostname, port: listener.port, close: () => listener.close() };
}
