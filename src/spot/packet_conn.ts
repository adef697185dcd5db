/**
 * A packet connection over Spot, as spotlib's `ListenPacket`: an endpoint
 * of the client that receives encrypted packets from any peer
 * (`readFrom`) and sends encrypted packets to any `k.` address
 * (`writeTo`), without queries or answers.
 *
 * @module
 */

import { Deadline } from "../core/deadline.ts";
import { AbortedError, TimeoutError } from "../core/errors.ts";
import { SpotClientStateError, SpotMessageError } from "./errors.ts";
import type { SpotHandler } from "./options.ts";

/** One packet read from a {@linkcode SpotPacketConn}. */
export interface SpotPacket {
  /** The decrypted content. */
  data: Uint8Array;
  /** The sender's address, `k.<hash>/<endpoint>`: pass it to `writeTo` to answer. */
  from: string;
}

/** Options of {@linkcode SpotPacketConn.readFrom}. */
export interface SpotReadOptions {
  /** Stops waiting when it aborts. */
  signal?: AbortSignal;
  /** The deadline in milliseconds; none when left out. */
  timeoutMs?: number;
}

/** What a packet connection needs from its client. */
export interface SpotPacketHost {
  /** The client's `k.<hash>` address. */
  address(): string;
  /** Registers or removes an endpoint's handler. */
  setHandler(endpoint: string, handler: SpotHandler | null): void;
  /** Sends an encrypted message from an endpoint. */
  sendTo(target: string, body: Uint8Array, options: { from: string }): Promise<void>;
}

interface Reader {
  resolve(packet: SpotPacket): void;
  reject(error: Error): void;
}

/** The most packets kept unread; more drop the oldest. */
export const PACKET_BUFFER = 64;

/**
 * A packet endpoint of a `SpotClient`, made by `client.listenPacket(name)`.
 *
 * @example
 * ```ts
 * import type { SpotPacketConn } from "./packet_conn.ts";
 *
 * async function echo(conn: SpotPacketConn): Promise<void> {
 *   const { data, from } = await conn.readFrom();
 *   await conn.writeTo(data, from);
 * }
 * ```
 */
export class SpotPacketConn {
  /** The endpoint name. */
  readonly name: string;
  readonly #host: SpotPacketHost;
  readonly #buffer: SpotPacket[] = [];
  readonly #readers: Reader[] = [];
  #closed = false;

  /**
   * Creates the endpoint and registers its handler; use `client.listenPacket(name)`.
   *
   * @param host The client.
   * @param name The endpoint name.
   * @throws Never.
   */
  constructor(host: SpotPacketHost, name: string) {
    this.#host = host;
    this.name = name;
    host.setHandler(name, (message) => {
      if (!message.encrypted) {
        throw new SpotMessageError(
          "not_encrypted",
          `Cannot accept the packet from ${message.sender} as it is not encrypted`,
        );
      }
      this.#push({ data: message.body.slice(), from: message.sender });
      return null;
    });
  }

  /** This endpoint's address, `k.<hash>/<name>`. */
  get localAddress(): string {
    return `${this.#host.address()}/${this.name}`;
  }

  /**
   * Reads the next packet, waiting for one.
   *
   * @param options A signal and a deadline.
   * @returns The packet and its sender.
   * @throws {SpotClientStateError} With code `closed` once the connection is closed.
   * @throws {TimeoutError} When `timeoutMs` passes.
   * @throws {AbortedError} When `signal` aborts.
   */
  readFrom(options: SpotReadOptions = {}): Promise<SpotPacket> {
    if (this.#buffer.length > 0) return Promise.resolve(this.#buffer.shift()!);
    if (this.#closed) return Promise.reject(this.#closedError("read"));
    let reader: Reader | undefined;
    const waiting = new Promise<SpotPacket>((resolve, reject) => {
      reader = { resolve, reject };
      this.#readers.push(reader);
    });
    if (options.timeoutMs === undefined && options.signal === undefined) return waiting;
    const deadline = new Deadline(options.timeoutMs ?? 2_147_483_647, {
      signal: options.signal,
      onTimeout: (ms) =>
        new TimeoutError(`Cannot read a Spot packet on ${this.name} within ${ms} ms`, ms),
      onAbort: (reason) =>
        new AbortedError(`Reading a Spot packet on ${this.name} was aborted`, { cause: reason }),
    });
    return deadline.race(waiting).catch((error) => {
      // Give the reader's place up so no packet goes to a read that has ended
      const at = this.#readers.indexOf(reader!);
      if (at >= 0) this.#readers.splice(at, 1);
      throw error;
    }).finally(() => deadline.end());
  }

  /**
   * Sends a packet, encrypted to the peer and signed, from this endpoint.
   *
   * @param data The content.
   * @param to The peer's address, `k.<hash>/<endpoint>`.
   * @returns How many bytes were sent.
   * @throws {SpotClientStateError} With code `closed` once the connection is closed.
   * @throws {SpotRemoteError} When the peer's IDCard cannot be found.
   */
  async writeTo(data: Uint8Array, to: string): Promise<number> {
    if (this.#closed) throw this.#closedError("write");
    await this.#host.sendTo(to, data, { from: `/${this.name}` });
    return data.length;
  }

  /**
   * Unregisters the endpoint; waiting reads fail with `SpotClientStateError`.
   *
   * @returns Nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.setHandler(this.name, null);
    for (const reader of this.#readers.splice(0)) reader.reject(this.#closedError("read"));
  }

  #push(packet: SpotPacket): void {
    const reader = this.#readers.shift();
    if (reader !== undefined) {
      reader.resolve(packet);
      return;
    }
    this.#buffer.push(packet);
    if (this.#buffer.length > PACKET_BUFFER) this.#buffer.shift();
  }

  #closedError(what: string): SpotClientStateError {
    return new SpotClientStateError(
      "closed",
      `Cannot ${what} on Spot packet connection ${this.name} as it is closed: listen again`,
    );
  }
}
