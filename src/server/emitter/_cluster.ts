/**
 * The Emitter broker across processes, on a backplane. Every process keeps
 * every other process's subscriptions in its own trie, as stand-ins
 * ({@linkcode RemoteSubscriber}) that carry the connection's id and user
 * name. So a publish is matched once, where it is made, with the real
 * broker's rules: the trie collects local connections and stand-ins alike,
 * each share group picks one member among all processes (each message
 * reaches each group once in total), and the encoded PUBLISH goes to each
 * process with targets as one backplane message naming them. Presence
 * queries and events see every process the same way, and key bans are
 * passed on. While the backplane is down this process closes its
 * connections and refuses new ones: a client cut off from the others is
 * told so rather than left waiting. Internal.
 *
 * @module
 */

import type { Backplane, BackplaneStatus } from "../backplane.ts";
import { type ClusterHandlers, ClusterNode, type ClusterOp } from "../_cluster_node.ts";
import type { BrokerCore, CoreSession } from "./_core.ts";

/** A connection of another process, standing in the trie for it. */
export class RemoteSubscriber implements CoreSession {
  /** The stamp of the trie's lookups. */
  mark = 0;
  /** Its subscriptions, keyed by their words joined with `.`. */
  readonly subscriptions: Map<string, { ssid: readonly number[]; channel: string }> = new Map();
  readonly #cluster: EmitterCluster;

  /**
   * @param cluster Where deliveries go.
   * @param node The process holding the connection.
   * @param id The connection's id.
   * @param username Its MQTT user name.
   */
  constructor(
    cluster: EmitterCluster,
    readonly node: string,
    readonly id: string,
    readonly username: string,
  ) {
    this.#cluster = cluster;
  }

  /** Queues the bytes for its process; never full here (its process closes it if need be). */
  deliver(bytes: Uint8Array): boolean {
    this.#cluster.queue(this, bytes);
    return true;
  }

  /** Answers go to local connections only. */
  sendJson(): void {}

  /** Its own process closes it. */
  terminate(): void {}
}

/** The broker's side of the cluster. Internal. */
export class EmitterCluster implements ClusterHandlers {
  /** The membership. */
  readonly node: ClusterNode;
  /** The shared backplane (its counters hold the storage quota). */
  readonly backplane: Backplane;
  /** Whether the backplane is down: connections are refused meanwhile. */
  cut = false;
  /** How many (path, stand-in) pairs the trie holds. */
  remoteSubscriptions = 0;
  readonly #core: BrokerCore;
  readonly #remote = new Map<string, Map<string, RemoteSubscriber>>();
  readonly #local = new Map<string, CoreSession>();
  #batchBytes: Uint8Array | undefined;
  readonly #batch = new Map<string, string[]>();

  /**
   * @param core The broker.
   * @param backplane The shared backplane.
   */
  constructor(core: BrokerCore, backplane: Backplane) {
    this.#core = core;
    this.backplane = backplane;
    this.node = new ClusterNode(backplane, "emitter", this);
  }

  /** A local connection subscribed. */
  subscribed(session: CoreSession, ssid: readonly number[], channel: string): void {
    this.#local.set(session.id, session);
    void this.node.broadcast(subOp(session, ssid, channel));
  }

  /** A local connection unsubscribed (its subscription is already gone). */
  unsubscribed(session: CoreSession, ssid: readonly number[]): void {
    if (session.subscriptions.size === 0) this.#local.delete(session.id);
    void this.node.broadcast({ o: "unsub", s: session.id, p: ssid });
  }

  /** A key was banned or unbanned here. */
  banned(hash: string, banned: boolean): void {
    void this.node.broadcast({ o: "ban", h: hash, b: banned });
  }

  /**
   * Adds a delivery to another process's batch; a batch holds one message's
   * bytes, so other bytes send it first.
   */
  queue(target: RemoteSubscriber, bytes: Uint8Array): void {
    if (this.#batchBytes !== bytes) {
      this.flush();
      this.#batchBytes = bytes;
    }
    let ids = this.#batch.get(target.node);
    if (ids === undefined) this.#batch.set(target.node, ids = []);
    ids.push(target.id);
  }

  /** Sends the batched deliveries, one backplane message per process. */
  flush(): void {
    const bytes = this.#batchBytes;
    if (bytes === undefined) return;
    this.#batchBytes = undefined;
    for (const [node, ids] of this.#batch) {
      void this.node.send(node, { o: "deliver", s: ids }, bytes);
    }
    this.#batch.clear();
  }

  /** The operations that rebuild this process's subscriptions elsewhere. */
  snapshot(): ClusterOp[] {
    const ops: ClusterOp[] = [];
    for (const session of this.#local.values()) {
      for (const { ssid, channel } of session.subscriptions.values()) {
        ops.push(subOp(session, ssid, channel));
      }
    }
    return ops;
  }

  /** Applies another process's operation. */
  apply(node: string, op: ClusterOp, body: Uint8Array): void {
    switch (op.o) {
      case "sub":
        return this.#add(node, op);
      case "unsub":
        return this.#drop(node, String(op.s), op.p);
      case "deliver":
        return this.#deliver(op.s, body);
      case "ban":
        if (typeof op.h === "string") this.#core.applyBan(op.h, op.b === true);
        return;
    }
  }

  /** Drops every stand-in of a process. */
  forget(node: string): void {
    const subscribers = this.#remote.get(node);
    if (subscribers === undefined) return;
    this.#remote.delete(node);
    for (const subscriber of subscribers.values()) {
      for (const { ssid } of subscriber.subscriptions.values()) {
        if (this.#core.trie.unsubscribe(ssid, subscriber)) this.remoteSubscriptions--;
      }
    }
  }

  /** Closes the connections while the backplane is down, and refuses new ones. */
  status(status: BackplaneStatus): void {
    this.cut = status === "down";
    if (this.cut) {
      for (const session of [...this.#core.sessions]) session.terminate();
    }
  }

  #add(node: string, op: ClusterOp): void {
    const id = op.s;
    const ssid = op.p;
    if (typeof id !== "string" || !isWords(ssid)) return;
    let subscribers = this.#remote.get(node);
    if (subscribers === undefined) this.#remote.set(node, subscribers = new Map());
    let subscriber = subscribers.get(id);
    if (subscriber === undefined) {
      const username = typeof op.u === "string" ? op.u : "";
      subscriber = new RemoteSubscriber(this, node, id, username);
      subscribers.set(id, subscriber);
    }
    const key = ssid.join(".");
    if (subscriber.subscriptions.has(key)) return;
    subscriber.subscriptions.set(key, { ssid, channel: typeof op.c === "string" ? op.c : "" });
    if (this.#core.trie.subscribe(ssid, subscriber)) this.remoteSubscriptions++;
  }

  #drop(node: string, id: string, ssid: unknown): void {
    if (!isWords(ssid)) return;
    const subscribers = this.#remote.get(node);
    const subscriber = subscribers?.get(id);
    if (subscriber === undefined) return;
    if (!subscriber.subscriptions.delete(ssid.join("."))) return;
    if (this.#core.trie.unsubscribe(ssid, subscriber)) this.remoteSubscriptions--;
    if (subscriber.subscriptions.size === 0) subscribers!.delete(id);
  }

  #deliver(ids: unknown, bytes: Uint8Array): void {
    if (!Array.isArray(ids)) return;
    // Counted in messagesOut where it was published
    for (const id of ids) {
      const session = this.#local.get(id);
      if (session !== undefined && !session.deliver(bytes)) this.#core.doom(session);
    }
  }
}

function subOp(session: CoreSession, ssid: readonly number[], channel: string): ClusterOp {
  return { o: "sub", s: session.id, u: session.username, p: ssid, c: channel };
}

function isWords(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.length <= 64 &&
    value.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffffffff);
}
