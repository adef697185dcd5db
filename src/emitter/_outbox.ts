/**
 * The client's outgoing publishes that are not done: the bounded offline
 * queue (core `BoundedQueue`, by count and bytes, drops counted) and the QoS 1
 * publishes sent but not yet acknowledged, kept by packet identifier so a
 * reconnection resends them (DUP set, same identifier) before the queue.
 *
 * @module
 */

import { BoundedQueue, type QueueStats } from "../core/queue.ts";
import type { MqttPublishPacket } from "./mqtt/packets.ts";

/** One publish on its way; `settle` is set for QoS 1, whose caller waits. */
export interface Outgoing {
  packet: MqttPublishPacket;
  settle?: (error?: Error) => void;
  cancelled?: boolean;
}

/** Where the outbox sends: the current connection, or nowhere when offline. */
export type SendPacket = (packet: MqttPublishPacket) => boolean;

const encoder = new TextEncoder();

/** The offline queue and the unacknowledged QoS 1 publishes. */
export class Outbox {
  readonly #queue: BoundedQueue<Outgoing>;
  readonly #unacked = new Map<number, Outgoing>();

  /**
   * Creates an empty outbox.
   *
   * @param maxItems The most queued publishes.
   * @param maxBytes The most bytes (topic and payload) queued.
   */
  constructor(maxItems: number, maxBytes: number) {
    this.#queue = new BoundedQueue<Outgoing>({
      maxItems,
      maxBytes,
      sizeOf: (item) => item.packet.payload.length + encoder.encode(item.packet.topic).length,
    });
  }

  /** Whether a packet identifier is held by an unacknowledged publish. */
  holds(packetId: number): boolean {
    return this.#unacked.has(packetId);
  }

  /**
   * Queues a publish for the next connection.
   *
   * @returns `false` when it alone exceeds the byte bound (counted as `oversize`).
   */
  enqueue(item: Outgoing): boolean {
    return this.#queue.push(item);
  }

  /** Sends a QoS 1 publish under a fresh identifier and keeps it until PUBACK. */
  sendQos1(item: Outgoing, packetId: number, send: SendPacket): void {
    item.packet.packetId = packetId;
    this.#unacked.set(packetId, item);
    send(item.packet);
  }

  /** Settles the publish a PUBACK acknowledges. */
  acknowledge(packetId: number): void {
    const item = this.#unacked.get(packetId);
    this.#unacked.delete(packetId);
    item?.settle?.();
  }

  /**
   * Fails the unacknowledged publish with this identifier (the broker refused it).
   *
   * @returns Whether one was waiting.
   */
  fail(packetId: number, error: Error): boolean {
    const item = this.#unacked.get(packetId);
    if (item === undefined) return false;
    this.#unacked.delete(packetId);
    item.settle?.(error);
    return true;
  }

  /** Forgets a publish whose caller stopped waiting. */
  cancel(item: Outgoing): void {
    item.cancelled = true;
    const id = item.packet.packetId;
    if (id !== undefined && this.#unacked.get(id) === item) this.#unacked.delete(id);
  }

  /**
   * After a reconnection: resends the unacknowledged QoS 1 publishes, then
   * sends the queue, oldest first.
   */
  resume(send: SendPacket, allocateId: () => number): void {
    for (const item of this.#unacked.values()) send({ ...item.packet, dup: true });
    for (const item of this.#queue.shift()) {
      if (item.cancelled) continue;
      if (item.packet.qos === 1) this.sendQos1(item, allocateId(), send);
      else send(item.packet);
    }
  }

  /** Fails every QoS 1 caller still waiting; queued QoS 0 publishes stay. */
  failWaiting(error: Error): void {
    for (const item of [...this.#unacked.values(), ...this.#queue.peek()]) {
      if (item.settle === undefined) continue;
      item.cancelled = true;
      item.settle(error);
    }
    this.#unacked.clear();
  }

  /** The queue's counts and drops. */
  stats(): QueueStats {
    return this.#queue.stats();
  }
}
