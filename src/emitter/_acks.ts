/**
 * The client's SUBACK and UNSUBACK waiters and its packet ids. Ids are shared
 * by every packet kind that waits for an answer (SUBSCRIBE, UNSUBSCRIBE, QoS 1
 * PUBLISH, API calls), so a new id skips every one still in use anywhere.
 * Internal.
 *
 * @module
 */

import type { MqttPacket } from "./mqtt/packets.ts";

/** Called with the SUBACK or UNSUBACK, or with an `Error` when it can no longer come. */
export type AckWaiter = (answer: MqttPacket | Error) => void;

/**
 * Waiters keyed by packet id, and the allocator of ids.
 *
 * @example
 * ```ts
 * import { AckTable } from "./_acks.ts";
 *
 * const acks = new AckTable(() => false);
 * const id = acks.allocate();
 * acks.expect(id, (answer) => console.log(answer instanceof Error ? "lost" : answer.type));
 * acks.settle({ type: "unsuback", packetId: id }); // "unsuback"
 * ```
 */
export class AckTable {
  readonly #waiters = new Map<number, AckWaiter>();
  readonly #heldElsewhere: (packetId: number) => boolean;
  #nextId = 0;

  /**
   * @param heldElsewhere Whether an id is in use by a packet this table does not hold.
   */
  constructor(heldElsewhere: (packetId: number) => boolean) {
    this.#heldElsewhere = heldElsewhere;
  }

  /**
   * The next free packet id, 1 to 65535, wrapping around.
   *
   * @returns An id no waiter and no other pending packet holds.
   */
  allocate(): number {
    do {
      this.#nextId = this.#nextId % 65535 + 1;
    } while (this.#waiters.has(this.#nextId) || this.#heldElsewhere(this.#nextId));
    return this.#nextId;
  }

  /**
   * Waits for the answer to `packetId`.
   *
   * @param packetId The id sent.
   * @param waiter Called once with the answer or the error that ended the wait.
   */
  expect(packetId: number, waiter: AckWaiter): void {
    this.#waiters.set(packetId, waiter);
  }

  /**
   * Whether `packetId` is awaited.
   *
   * @param packetId An id.
   * @returns `true` while its waiter is pending.
   */
  has(packetId: number): boolean {
    return this.#waiters.has(packetId);
  }

  /**
   * Stops waiting for `packetId`, without calling its waiter.
   *
   * @param packetId An id.
   */
  forget(packetId: number): void {
    this.#waiters.delete(packetId);
  }

  /**
   * Hands an answer to its waiter, if one waits for its id.
   *
   * @param packet A SUBACK or UNSUBACK.
   */
  settle(packet: MqttPacket & { packetId: number }): void {
    const waiter = this.#waiters.get(packet.packetId);
    this.#waiters.delete(packet.packetId);
    waiter?.(packet);
  }

  /**
   * Fails every waiter: their answers cannot come on another connection.
   *
   * @param error What ended the waits.
   */
  failAll(error: Error): void {
    const waiting = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const waiter of waiting) waiter(error);
  }
}
