/**
 * The Spot relay across processes, on a backplane. Each process tells the
 * others which peers finished their handshake on it (the connection's id,
 * the `k.` address and the signed ID card with its groups) and when they
 * leave. So every process knows every card (`@/idcard_find`, `@/group_list`,
 * `idcard_update` to followers) and where each peer is: a message for a key,
 * a connection or a group member connected elsewhere is forwarded, as the
 * encoded packet, to that process alone, which hands it to the connection.
 * While the backplane is down this process closes its connections (1013)
 * and refuses new ones. Internal.
 *
 * @module
 */

import { base64 } from "@scure/base";
import type { Backplane, BackplaneStatus } from "../backplane.ts";
import { type ClusterHandlers, ClusterNode, type ClusterOp } from "../_cluster_node.ts";
import type { CardRegistry } from "./_registry.ts";
import type { SpotSession } from "./_session.ts";

/** What the cluster needs from its relay. */
export interface SpotClusterHost {
  /** The relay's cards. */
  readonly registry: CardRegistry;
  /** The ready local connections. */
  readySessions(): Iterable<SpotSession>;
  /** The newest ready local connection of a key, if any. */
  readyOfKey(address: string): SpotSession | undefined;
  /** A ready local connection by id, if any. */
  readyById(clientId: string): SpotSession | undefined;
  /** Closes every local connection (the backplane is down). */
  closeAll(): void;
}

interface RemotePeer {
  readonly node: string;
  readonly address: string;
}

/** The relay's side of the cluster. Internal. */
export class SpotCluster implements ClusterHandlers {
  /** The membership. */
  readonly node: ClusterNode;
  /** Whether the backplane is down: connections are refused meanwhile. */
  cut = false;
  readonly #host: SpotClusterHost;
  /** Remote connections by id. */
  readonly #byId = new Map<string, RemotePeer>();
  /** Remote connection ids by `k.` address, the newest last. */
  readonly #byKey = new Map<string, string[]>();

  /**
   * @param host The relay.
   * @param backplane The shared backplane.
   */
  constructor(host: SpotClusterHost, backplane: Backplane) {
    this.#host = host;
    this.node = new ClusterNode(backplane, "spot", this);
  }

  /** Whether a key has a connection on another process. */
  hasKey(address: string): boolean {
    return this.#byKey.has(address);
  }

  /** A local connection finished its handshake. */
  online(session: SpotSession): void {
    void this.node.broadcast(onOp(session));
  }

  /** A local connection that had finished its handshake ended. */
  offline(session: SpotSession): void {
    if (session.peer === undefined) return;
    void this.node.broadcast({ o: "off", c: session.clientId });
  }

  /**
   * Forwards a packet to the process holding a key's newest connection.
   *
   * @returns Whether another process holds one.
   */
  toKey(address: string, packet: Uint8Array): boolean {
    const ids = this.#byKey.get(address);
    if (ids === undefined) return false;
    const peer = this.#byId.get(ids[ids.length - 1])!;
    void this.node.send(peer.node, { o: "fwd", k: address }, packet);
    return true;
  }

  /**
   * Forwards a packet to the process holding a connection.
   *
   * @returns Whether another process holds it.
   */
  toConnection(clientId: string, packet: Uint8Array): boolean {
    const peer = this.#byId.get(clientId);
    if (peer === undefined) return false;
    void this.node.send(peer.node, { o: "fwd", c: clientId }, packet);
    return true;
  }

  /** The operations that rebuild this process's peers elsewhere. */
  snapshot(): ClusterOp[] {
    return [...this.#host.readySessions()].map(onOp);
  }

  /** Applies another process's operation. */
  apply(node: string, op: ClusterOp, body: Uint8Array): void {
    switch (op.o) {
      case "on":
        return this.#on(node, op);
      case "off":
        if (typeof op.c === "string") this.#off(op.c);
        return;
      case "fwd": {
        const target = typeof op.k === "string"
          ? this.#host.readyOfKey(op.k)
          : typeof op.c === "string"
          ? this.#host.readyById(op.c)
          : undefined;
        // Gone meanwhile: dropped, as a packet to a connection closing here would be
        target?.send(body);
        return;
      }
    }
  }

  /** Drops every connection of a process (its cards stay known, as offline cards do). */
  forget(node: string): void {
    for (const [clientId, peer] of [...this.#byId]) {
      if (peer.node === node) this.#off(clientId);
    }
  }

  /** Closes the connections while the backplane is down, and refuses new ones. */
  status(status: BackplaneStatus): void {
    this.cut = status === "down";
    if (this.cut) this.#host.closeAll();
  }

  #on(node: string, op: ClusterOp): void {
    const { c: clientId, a: address, h: hash, s: signed, g: groups } = op;
    if (
      typeof clientId !== "string" || typeof address !== "string" || typeof hash !== "string" ||
      typeof signed !== "string" || !Array.isArray(groups)
    ) return;
    let peer;
    try {
      peer = {
        address,
        hash: base64.decode(hash),
        signed: base64.decode(signed),
        groups: groups.map((group) => base64.decode(String(group))),
      };
    } catch {
      return;
    }
    this.#off(clientId);
    this.#byId.set(clientId, { node, address });
    const ids = this.#byKey.get(address);
    if (ids === undefined) this.#byKey.set(address, [clientId]);
    else ids.push(clientId);
    for (const follower of this.#host.registry.put(peer)) follower.cardUpdated(peer.signed);
  }

  #off(clientId: string): void {
    const peer = this.#byId.get(clientId);
    if (peer === undefined) return;
    this.#byId.delete(clientId);
    const ids = this.#byKey.get(peer.address);
    if (ids === undefined) return;
    const index = ids.indexOf(clientId);
    if (index !== -1) ids.splice(index, 1);
    if (ids.length === 0) this.#byKey.delete(peer.address);
  }
}

function onOp(session: SpotSession): ClusterOp {
  const peer = session.peer!;
  return {
    o: "on",
    c: session.clientId,
    a: peer.address,
    h: base64.encode(peer.hash),
    s: base64.encode(peer.signed),
    g: peer.groups.map((group) => base64.encode(group)),
  };
}
