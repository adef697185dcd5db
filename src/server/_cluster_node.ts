/**
 * One process's membership of a cluster on a {@linkcode Backplane}: the
 * protocol the Emitter broker and the Spot relay share to keep a copy of
 * every other process's live state. Each process has a random id, listens
 * on `<topic>:all` and `<topic>:node:<id>`, says `hello` when it starts
 * (every other process answers with its `state`: the operations that
 * rebuild its share), broadcasts each change as an operation, beats every
 * `beatMs`, and says `bye` when it closes. A process not heard from for
 * `timeoutMs` (killed, cut off) is forgotten. When the backplane goes down
 * everything learnt from others is forgotten, and asked for again once it
 * is back. Internal.
 *
 * @module
 */

import { unrefTimer } from "../core/runtime/timers.ts";
import type { Backplane, BackplaneStatus, BackplaneSubscription } from "./backplane.ts";

/** One operation: `o` names it, the rest is its data (JSON). */
export interface ClusterOp {
  /** The operation's name. */
  readonly o: string;
  /** Its data. */
  readonly [field: string]: unknown;
}

/** What a service does with the cluster's messages. */
export interface ClusterHandlers {
  /** The operations that rebuild this process's share on another, such as one per subscription. */
  snapshot(): ClusterOp[];
  /** Applies an operation of another process (from `all`, its `state`, or sent to this one). */
  apply(node: string, op: ClusterOp, body: Uint8Array): void;
  /** Drops everything learnt from a process. */
  forget(node: string): void;
  /** The backplane went down (this process is cut off) or came back. */
  status(status: BackplaneStatus): void;
}

/** How often a process beats, and how long the others wait before forgetting it. */
export interface ClusterTimings {
  /** Between beats, in milliseconds. */
  readonly beatMs: number;
  /** Silence after which a process is forgotten, in milliseconds. */
  readonly timeoutMs: number;
}

/** The default timings: a beat a second, forgotten after five silent seconds. */
export const CLUSTER_TIMINGS: ClusterTimings = { beatMs: 1000, timeoutMs: 5000 };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/**
 * Frames an operation and its bytes: a 4-byte length, the JSON, the bytes.
 *
 * @param op The operation.
 * @param body Bytes carried as they are (an encoded packet).
 * @returns The message.
 */
export function encodeClusterMessage(op: ClusterOp, body: Uint8Array = EMPTY): Uint8Array {
  const head = encoder.encode(JSON.stringify(op));
  const out = new Uint8Array(4 + head.length + body.length);
  new DataView(out.buffer).setUint32(0, head.length);
  out.set(head, 4);
  out.set(body, 4 + head.length);
  return out;
}

/**
 * Reads a message {@linkcode encodeClusterMessage} made.
 *
 * @param message The bytes.
 * @returns The operation and its bytes, or `undefined` when malformed.
 */
export function decodeClusterMessage(
  message: Uint8Array,
): { op: ClusterOp; body: Uint8Array } | undefined {
  if (message.length < 4) return undefined;
  const length = new DataView(message.buffer, message.byteOffset, 4).getUint32(0);
  if (4 + length > message.length) return undefined;
  try {
    const op = JSON.parse(decoder.decode(message.subarray(4, 4 + length)));
    if (typeof op !== "object" || op === null || typeof op.o !== "string") return undefined;
    return { op, body: message.subarray(4 + length) };
  } catch {
    return undefined;
  }
}

/** One process in a cluster. Internal. */
export class ClusterNode {
  /** This process's id, random. */
  readonly id: string = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  /** Messages the backplane refused (it was down). */
  failures = 0;
  readonly #backplane: Backplane;
  readonly #topic: string;
  readonly #handlers: ClusterHandlers;
  readonly #timings: ClusterTimings;
  readonly #seen = new Map<string, number>();
  readonly #subscriptions: BackplaneSubscription[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopStatus: (() => void) | undefined;
  #last: Promise<void> = Promise.resolve();
  #started = false;
  #closed = false;

  /**
   * Sets a process up; nothing is sent before {@linkcode ClusterNode.start}.
   *
   * @param backplane The shared backplane.
   * @param topic The service's prefix, such as `emitter`.
   * @param handlers What the service does with the messages.
   * @param timings Beat and timeout.
   */
  constructor(
    backplane: Backplane,
    topic: string,
    handlers: ClusterHandlers,
    timings: ClusterTimings = CLUSTER_TIMINGS,
  ) {
    this.#backplane = backplane;
    this.#topic = topic;
    this.#handlers = handlers;
    this.#timings = timings;
  }

  /** The ids of the other processes heard from. */
  get peers(): string[] {
    return [...this.#seen.keys()];
  }

  /**
   * Subscribes, says hello and starts beating.
   *
   * @returns Once subscribed and the hello is sent.
   * @throws {BackplaneError} When the backplane cannot be reached.
   */
  async start(): Promise<void> {
    // Followed first: a start that fails is tried again once the backplane is back
    this.#stopStatus ??= this.#backplane.onStatus((status) => this.#onStatus(status));
    const receive = (message: Uint8Array) => this.#receive(message);
    const all = await this.#backplane.subscribe(`${this.#topic}:all`, receive);
    this.#subscriptions.push(all);
    const own = await this.#backplane.subscribe(`${this.#topic}:node:${this.id}`, receive);
    this.#subscriptions.push(own);
    await this.#backplane.publish(`${this.#topic}:all`, this.#frame({ o: "hello" }));
    this.#started = true;
    if (this.#closed) return;
    this.#timer = setInterval(() => this.#beat(), this.#timings.beatMs);
    unrefTimer(this.#timer);
  }

  /** Whether {@linkcode ClusterNode.start} went through. */
  get started(): boolean {
    return this.#started;
  }

  /**
   * Sends an operation to every other process; a failure is counted, never thrown.
   *
   * @param op The operation.
   * @param body Bytes carried with it.
   * @returns Once the backplane took it (or refused it).
   */
  broadcast(op: ClusterOp, body?: Uint8Array): Promise<void> {
    return this.#send(`${this.#topic}:all`, op, body);
  }

  /**
   * Sends an operation to one process; a failure is counted, never thrown.
   *
   * @param node The process's id.
   * @param op The operation.
   * @param body Bytes carried with it.
   * @returns Once the backplane took it (or refused it).
   */
  send(node: string, op: ClusterOp, body?: Uint8Array): Promise<void> {
    return this.#send(`${this.#topic}:node:${node}`, op, body);
  }

  /**
   * Resolves once every message sent so far was taken by the backplane:
   * published in order, so the other processes get them before anything
   * published later.
   *
   * @returns When the last message sent is out.
   */
  flushed(): Promise<void> {
    return this.#last;
  }

  /**
   * Says bye, stops beating and unsubscribes.
   *
   * @returns Once done; a backplane that is down is not waited for.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#stopStatus?.();
    await this.broadcast({ o: "bye" });
    for (const subscription of this.#subscriptions) {
      await subscription.unsubscribe().catch(() => {});
    }
  }

  #frame(op: ClusterOp, body?: Uint8Array): Uint8Array {
    return encodeClusterMessage({ ...op, n: this.id }, body);
  }

  #send(channel: string, op: ClusterOp, body?: Uint8Array): Promise<void> {
    let sent: Promise<void>;
    try {
      sent = this.#backplane.publish(channel, this.#frame(op, body));
    } catch (error) {
      sent = Promise.reject(error);
    }
    const settled = sent.catch(() => {
      this.failures++;
    });
    this.#last = settled;
    return settled;
  }

  #receive(message: Uint8Array): void {
    if (this.#closed) return;
    const decoded = decodeClusterMessage(message);
    if (decoded === undefined) return;
    const { op, body } = decoded;
    const node = op.n;
    if (typeof node !== "string" || node === this.id) return;
    const known = this.#seen.has(node);
    if (op.o === "bye") {
      this.#seen.delete(node);
      this.#handlers.forget(node);
      return;
    }
    this.#seen.set(node, Date.now());
    switch (op.o) {
      case "hello":
        void this.send(node, { o: "state", ops: this.#handlers.snapshot() });
        return;
      case "state": {
        this.#handlers.forget(node);
        const ops = Array.isArray(op.ops) ? op.ops as ClusterOp[] : [];
        for (const each of ops) this.#handlers.apply(node, each, EMPTY);
        return;
      }
      case "beat":
        // A process this one forgot (or never met): its state is asked for again
        if (!known) void this.send(node, { o: "hello" });
        return;
      default:
        if (!known) void this.send(node, { o: "hello" });
        this.#handlers.apply(node, op, body);
    }
  }

  #beat(): void {
    void this.broadcast({ o: "beat" });
    const cutoff = Date.now() - this.#timings.timeoutMs;
    for (const [node, seen] of this.#seen) {
      if (seen >= cutoff) continue;
      this.#seen.delete(node);
      this.#handlers.forget(node);
    }
  }

  #onStatus(status: BackplaneStatus): void {
    if (this.#closed) return;
    if (status === "down") {
      // What arrives now may have missed changes: forget it all, and ask again once back
      for (const node of [...this.#seen.keys()]) this.#handlers.forget(node);
      this.#seen.clear();
    } else if (this.#started) {
      void this.broadcast({ o: "hello" });
    } else {
      const old = this.#subscriptions.splice(0);
      for (const subscription of old) void subscription.unsubscribe().catch(() => {});
      this.start().then(() => this.#handlers.status("up"), () => {});
      return;
    }
    this.#handlers.status(status);
  }
}
