/**
 * One connection attempt of the client: open the WebSocket, send CONNECT and
 * wait for CONNACK, all under the client's `timeoutMs` and the caller's
 * signal. The new connection is handed over before CONNECT goes out, so it is
 * the client's current one when the broker's first packets arrive; a failed
 * attempt closes it.
 *
 * @module
 */

import { Deadline } from "../core/deadline.ts";
import { AbortedError, EdgewireError, NetworkError, TimeoutError } from "../core/errors.ts";
import { MqttConnection } from "./_connection.ts";
import type { ResolvedEmitterOptions } from "./_resolve_options.ts";
import { EmitterConnectError } from "./errors.ts";
import type { MqttConnackPacket, MqttPacket } from "./mqtt/packets.ts";

/** Where a dialled connection reports, once it is made. */
export interface DialHandlers {
  /** The connection exists (before CONNECT is sent). */
  created(connection: MqttConnection): void;
  /** A packet other than CONNACK. */
  packet(connection: MqttConnection, packet: MqttPacket): void;
  /** The connection ended, during the attempt or later. */
  closed(connection: MqttConnection, error: EdgewireError | undefined): void;
}

/**
 * Dials the broker and completes the MQTT handshake.
 *
 * @returns The connection, accepted with CONNACK 0.
 * @throws {EmitterConnectError} When CONNACK is not 0.
 * @throws {TimeoutError} When the socket or CONNACK takes longer than `timeoutMs`.
 * @throws {AbortedError} When the signal aborts.
 * @throws {NetworkError} When the socket cannot open or closes first.
 * @throws {MqttProtocolError} When a malformed packet ends it, even in the frame of its CONNACK.
 */
export async function dialMqtt(
  o: ResolvedEmitterOptions,
  signal: AbortSignal | undefined,
  handlers: DialHandlers,
): Promise<MqttConnection> {
  const deadline = new Deadline(o.timeoutMs, {
    signal,
    onTimeout: (ms) => new TimeoutError(`Cannot connect to the Emitter broker within ${ms} ms`, ms),
    onAbort: (reason) => new AbortedError("Connecting to Emitter was aborted", { cause: reason }),
  });
  let answered: ((packet: MqttConnackPacket) => void) | undefined;
  // Set when the connection ends, even after its CONNACK (in the same frame, or by a close)
  let lost: Error | undefined;
  let failed: ((error: Error) => void) | undefined;
  const connack = new Promise<MqttConnackPacket>((resolve, reject) => {
    answered = resolve;
    failed = reject;
  });
  connack.catch(() => {});
  const connection: MqttConnection = new MqttConnection(o, {
    packet: (packet) =>
      packet.type === "connack" ? answered?.(packet) : handlers.packet(connection, packet),
    closed: (error) => {
      lost = error ?? new NetworkError("The Emitter connection closed");
      failed?.(lost);
      handlers.closed(connection, error);
    },
  });
  handlers.created(connection);
  try {
    await deadline.race(connection.opened);
    connection.send({
      type: "connect",
      protocolVersion: 4,
      clientId: o.clientId,
      cleanSession: true,
      keepAlive: o.keepaliveSeconds,
      username: o.username,
    });
    const answer = await deadline.race(connack);
    if (answer.returnCode !== 0) throw new EmitterConnectError(answer.returnCode);
    if (lost !== undefined) throw lost;
  } catch (error) {
    connection.close(error instanceof EdgewireError ? error : undefined);
    throw error;
  } finally {
    deadline.end();
    answered = failed = undefined;
  }
  return connection;
}
