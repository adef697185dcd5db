/**
 * One connection slot of the Spot client: it dials its relay, answers the
 * handshake with the signed IDCard (again whenever the relay asks, with the
 * groups it announces), reports when it is online, hands instant messages
 * to the client, and after a loss or a failure dials again
 * after the core capped, jittered backoff, until it is stopped.
 *
 * @module
 */

import { BackoffGate } from "../core/backoff.ts";
import { Deadline } from "../core/deadline.ts";
import { delay } from "../core/delay.ts";
import { EdgewireError, NetworkError, TimeoutError } from "../core/errors.ts";
import {
  type DecodedHandshakeRequest,
  type DecodedSpotPacket,
  encodePacket,
  type InstantMessage,
} from "./proto/mod.ts";
import type { SpotIdentity } from "./_identity.ts";
import type { ResolvedSpotOptions } from "./_resolve_options.ts";
import { SpotSocket } from "./_socket.ts";

/** What a slot reports to the client. */
export interface SlotHooks {
  /** The slot passed the handshake. */
  online(slot: ConnectionSlot): void;
  /** The slot lost its connection after being online. */
  offline(slot: ConnectionSlot): void;
  /** An instant message arrived. */
  message(slot: ConnectionSlot, message: InstantMessage): void;
  /** An attempt failed or a connection ended with an error. */
  failed(slot: ConnectionSlot, error: EdgewireError): void;
}

/** One connection the client keeps to one relay URL. */
export class ConnectionSlot {
  /** The relay's WebSocket URL. */
  readonly url: string;
  /** The relay's client id for this connection, once online. */
  clientId: string | undefined;
  readonly #o: ResolvedSpotOptions;
  readonly #identity: SpotIdentity;
  readonly #hooks: SlotHooks;
  readonly #gate: BackoffGate;
  readonly #controller = new AbortController();
  #socket: SpotSocket | undefined;
  #online = false;

  /**
   * Creates the slot; `start()` dials.
   *
   * @param url The relay's WebSocket URL.
   * @param o The client options.
   * @param identity The client's identity.
   * @param hooks Where the slot reports.
   * @throws Never.
   *
   * @example
   * ```ts
   * import { ConnectionSlot } from "./_slot.ts";
   * import { SpotIdentity } from "./_identity.ts";
   * import { resolveSpotOptions } from "./_resolve_options.ts";
   *
   * const o = resolveSpotOptions({ url: "ws://127.0.0.1:1/_websocket" });
   * const slot = new ConnectionSlot(o.url!, o, await SpotIdentity.load(o), {
   *   online: () => {}, offline: () => {}, message: () => {}, failed: () => {},
   * });
   * console.log(slot.online); // false
   * ```
   */
  constructor(url: string, o: ResolvedSpotOptions, identity: SpotIdentity, hooks: SlotHooks) {
    this.url = url;
    this.#o = o;
    this.#identity = identity;
    this.#hooks = hooks;
    this.#gate = new BackoffGate({ ...o.backoff, random: o.random, now: o.now });
  }

  /** Whether the slot is past the handshake. */
  get online(): boolean {
    return this.#online;
  }

  /** Whether `stop()` was called. */
  get stopped(): boolean {
    return this.#controller.signal.aborted;
  }

  /**
   * Dials, and keeps dialling after each loss, until `stop()`.
   *
   * @returns Nothing; the loop runs on its own.
   */
  start(): void {
    void this.#run();
  }

  /**
   * Stops the slot and closes its connection.
   *
   * @returns Nothing.
   */
  stop(): void {
    this.#controller.abort();
    this.#socket?.close();
  }

  /**
   * Sends an encoded packet if the slot is online.
   *
   * @param bytes The packet.
   * @returns Whether it was sent.
   */
  send(bytes: Uint8Array): boolean {
    return this.#online && (this.#socket?.send(bytes) ?? false);
  }

  /**
   * Closes the current connection as if the relay dropped it (the slot dials again).
   *
   * @param error Why.
   * @returns Nothing.
   */
  drop(error: EdgewireError): void {
    this.#socket?.close(error);
  }

  async #run(): Promise<void> {
    const signal = this.#controller.signal;
    while (!signal.aborted) {
      try {
        const { ended } = await this.#session(signal);
        this.#gate.succeeded();
        const error = await ended;
        if (error !== undefined && !signal.aborted) this.#hooks.failed(this, error);
      } catch (error) {
        if (signal.aborted) return;
        this.#hooks.failed(
          this,
          error instanceof EdgewireError
            ? error
            : new NetworkError("Cannot connect to the Spot relay", { cause: error }),
        );
      }
      if (signal.aborted) return;
      try {
        await delay(this.#gate.failed(), { signal });
      } catch {
        return;
      }
    }
  }

  /** Dials and handshakes; resolves once online with a promise of the end. */
  async #session(signal: AbortSignal): Promise<{ ended: Promise<EdgewireError | undefined> }> {
    const deadline = new Deadline(this.#o.timeoutMs, {
      signal,
      onTimeout: (ms) =>
        new TimeoutError(`Cannot connect to the Spot relay and handshake within ${ms} ms`, ms),
    });
    let ready: (() => void) | undefined;
    let finish: (error: EdgewireError | undefined) => void = () => {};
    const readyPromise = new Promise<void>((resolve) => (ready = resolve));
    const ended = new Promise<EdgewireError | undefined>((resolve) => (finish = resolve));
    const endedEarly = ended.then((error) => {
      throw error ?? new NetworkError("The Spot relay connection closed during the handshake");
    });
    endedEarly.catch(() => {});
    // Handshake answers go out in order even though signing is asynchronous
    let answering = Promise.resolve();
    const socket = new SpotSocket(this.#o.WebSocket, this.url, {
      packet: (packet) => {
        answering = answering
          .then(() => this.#packet(socket, packet, () => ready?.()))
          .catch((error) =>
            socket.close(
              error instanceof EdgewireError
                ? error
                : new NetworkError("Cannot handle a Spot packet", { cause: error }),
            )
          );
      },
      closed: (error) => {
        if (this.#socket === socket) this.#socket = undefined;
        if (this.#online) {
          this.#online = false;
          this.#hooks.offline(this);
        }
        finish(error);
      },
    });
    this.#socket = socket;
    try {
      await deadline.race(Promise.race([socket.opened, endedEarly]));
      await deadline.race(Promise.race([readyPromise, endedEarly]));
    } catch (error) {
      socket.close(error instanceof EdgewireError ? error : undefined);
      throw error;
    } finally {
      deadline.end();
    }
    return { ended };
  }

  async #packet(socket: SpotSocket, packet: DecodedSpotPacket, ready: () => void): Promise<void> {
    switch (packet.type) {
      case "ping":
        // spotlib answers no ping (the relay echoes the client's): echoing here could loop
        return;
      case "handshake_request":
        if (packet.request.ready) {
          this.clientId = packet.request.clientId;
          if (!this.#online && socket === this.#socket) {
            this.#online = true;
            ready();
            this.#hooks.online(this);
          }
          return;
        }
        return await this.#answer(socket, packet.request);
      case "message":
        // During the handshake spotlib ignores other packets
        if (this.#online && socket === this.#socket) this.#hooks.message(this, packet.message);
        return;
      default:
        return;
    }
  }

  async #answer(socket: SpotSocket, request: DecodedHandshakeRequest): Promise<void> {
    try {
      const response = await this.#identity.respond(request);
      socket.send(encodePacket({ type: "handshake_response", response }));
    } catch (error) {
      socket.close(
        error instanceof EdgewireError
          ? error
          : new NetworkError("Cannot answer the Spot handshake", { cause: error }),
      );
    }
  }
}
