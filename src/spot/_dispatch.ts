/**
 * Where the Spot client's outgoing packets go and how answers find their
 * query: packets go to an online connection in turn, or wait (bounded)
 * until one is online; a query waits for the message whose recipient's
 * routing segment is its id; when the connection a query went out on is
 * lost, the query goes out again on the next online one, so it survives a
 * reconnection (its deadline still bounds it).
 *
 * @module
 */

import { NetworkError } from "../core/errors.ts";
import { type InstantMessage, routingSegment } from "./proto/mod.ts";
import type { ConnectionSlot } from "./_slot.ts";

interface Pending {
  bytes: Uint8Array;
  slot: ConnectionSlot | undefined;
  resolve(message: InstantMessage): void;
  reject(error: Error): void;
}

interface Queued {
  bytes: Uint8Array;
  sent?: (slot: ConnectionSlot) => void;
  /** The query it is, so a query given up while offline is never sent. */
  id?: string;
}

/**
 * A fresh message id: 16 random bytes with the UUID v4 bits, and its text.
 *
 * @returns The bytes and the hyphenated text.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { newMessageId } from "./_dispatch.ts";
 *
 * console.log(newMessageId().text.length); // 36
 * ```
 */
export function newMessageId(): { bytes: Uint8Array; text: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return { bytes, text: uuidText(bytes) };
}

/**
 * The hyphenated text of 16 id bytes.
 *
 * @param bytes The id.
 * @returns Its UUID text.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { uuidText } from "./_dispatch.ts";
 *
 * console.log(uuidText(new Uint8Array(16))); // "00000000-0000-0000-0000-000000000000"
 * ```
 */
export function uuidText(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** The outgoing side of the client and its queries in flight. */
export class Dispatcher {
  readonly #maxQueued: number;
  readonly #online: ConnectionSlot[] = [];
  readonly #queue: Queued[] = [];
  readonly #pending = new Map<string, Pending>();
  #turn = 0;

  /**
   * Creates the dispatcher.
   *
   * @param maxQueued The most packets kept while no connection is online.
   * @throws Never.
   *
   * @example
   * ```ts
   * import { Dispatcher } from "./_dispatch.ts";
   *
   * console.log(new Dispatcher(10).onlineCount); // 0
   * ```
   */
  constructor(maxQueued: number) {
    this.#maxQueued = maxQueued;
  }

  /** How many connections are online. */
  get onlineCount(): number {
    return this.#online.length;
  }

  /** How many queries wait for their answer. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Sends a packet now or keeps it until a connection is online.
   *
   * @param bytes The encoded packet.
   * @param sent Told which connection carried it.
   * @param id The query's id text, when it is a query.
   * @returns Nothing.
   * @throws {NetworkError} When no connection is online and the queue is full.
   */
  post(bytes: Uint8Array, sent?: (slot: ConnectionSlot) => void, id?: string): void {
    const slot = this.#sendNow(bytes);
    if (slot !== undefined) {
      sent?.(slot);
      return;
    }
    if (this.#queue.length >= this.#maxQueued) {
      throw new NetworkError(
        `Cannot send the Spot message as no relay connection is online and ${this.#maxQueued} messages already wait: retry later`,
        { code: "queue_full" },
      );
    }
    this.#queue.push({ bytes, sent, id });
  }

  /**
   * Sends a query and waits for the message answering it.
   *
   * @param id The query's id text, the routing segment of its answer.
   * @param bytes The encoded packet.
   * @returns The answer.
   * @throws {NetworkError} When it cannot be sent or queued.
   */
  request(id: string, bytes: Uint8Array): Promise<InstantMessage> {
    return new Promise<InstantMessage>((resolve, reject) => {
      const pending: Pending = { bytes, slot: undefined, resolve, reject };
      this.#pending.set(id, pending);
      try {
        this.post(bytes, (slot) => (pending.slot = slot), id);
      } catch (error) {
        this.#pending.delete(id);
        reject(error);
      }
    });
  }

  /**
   * Stops waiting for a query's answer (its deadline passed or it was
   * answered), and drops it if it still waits for a connection.
   *
   * @param id The query's id text.
   * @returns Nothing.
   */
  forget(id: string): void {
    this.#pending.delete(id);
    const at = this.#queue.findIndex((queued) => queued.id === id);
    if (at >= 0) this.#queue.splice(at, 1);
  }

  /**
   * Hands an incoming message to the query it answers.
   *
   * @param message The message.
   * @returns Whether a query took it.
   */
  deliver(message: InstantMessage): boolean {
    const segment = routingSegment(message.recipient);
    if (segment === null) return false;
    const pending = this.#pending.get(segment);
    if (pending === undefined) return false;
    this.#pending.delete(segment);
    pending.resolve(message);
    return true;
  }

  /**
   * Records a connection online and sends what waited.
   *
   * @param slot The connection.
   * @returns Nothing.
   */
  slotOnline(slot: ConnectionSlot): void {
    if (!this.#online.includes(slot)) this.#online.push(slot);
    while (this.#queue.length > 0) {
      const next = this.#queue[0];
      const carrier = this.#sendNow(next.bytes);
      if (carrier === undefined) return;
      this.#queue.shift();
      next.sent?.(carrier);
    }
  }

  /**
   * Records a connection lost and sends its unanswered queries again.
   *
   * @param slot The connection.
   * @returns Nothing.
   */
  slotOffline(slot: ConnectionSlot): void {
    const at = this.#online.indexOf(slot);
    if (at >= 0) this.#online.splice(at, 1);
    for (const [id, pending] of this.#pending) {
      if (pending.slot !== slot) continue;
      pending.slot = undefined;
      try {
        this.post(pending.bytes, (carrier) => (pending.slot = carrier), id);
      } catch (error) {
        this.#pending.delete(id);
        pending.reject(error as Error);
      }
    }
  }

  /**
   * Fails every query in flight and drops what waited.
   *
   * @param error The error each query fails with.
   * @returns Nothing.
   */
  closeAll(error: Error): void {
    this.#queue.length = 0;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) entry.reject(error);
  }

  #sendNow(bytes: Uint8Array): ConnectionSlot | undefined {
    for (let tries = 0; tries < this.#online.length; tries++) {
      const slot = this.#online[this.#turn++ % this.#online.length];
      if (slot.send(bytes)) return slot;
    }
    return undefined;
  }
}
