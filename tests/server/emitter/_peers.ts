/**
 * What the real-peer tests of the Emitter broker share: our server started
 * with a fresh license under `Deno.serve` (MQTT over WebSocket) and on a
 * plain MQTT over TCP listener, keys made under that license, and an inbox
 * that waits for the message a test expects, bounded in time.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  keygen,
  type KeygenRequest,
  newLicense,
  singleContractProvider,
} from "../../../src/emitter/security/mod.ts";
import { createServer, serveMqttTcp } from "../../../src/server/mod.ts";

/** How long a test waits for one message before it fails. */
export const WAIT_MS = 5000;

/** Our broker, served for one test. */
export interface PeerBroker extends AsyncDisposable {
  /** `ws://127.0.0.1:<port>/`. */
  wsUrl: string;
  /** The HTTP port (WebSocket upgrades are answered on any path). */
  wsPort: number;
  /** `mqtt://127.0.0.1:<port>`. */
  tcpUrl: string;
  /** The license's master (secret) key. */
  secret: string;
  /** A key for `channel` (such as `peers/#/`) with the rights `type` (letters of `rwslpex`). */
  key(channel: string, type: string): string;
}

/**
 * Starts our server with a new license on 127.0.0.1 port 0: HTTP with
 * WebSocket upgrades under Deno.serve, and MQTT over TCP beside it.
 *
 * @returns The broker's URLs and keys; dispose of it (`await using`) to stop it.
 * @throws {EdgewireError} When the TCP listener cannot bind.
 *
 * @example
 * ```ts
 * import { startBroker } from "./_peers.ts";
 *
 * await using broker = await startBroker();
 * console.log(broker.wsUrl, broker.key("chat/#/", "rw").length); // "ws://127.0.0.1:…/" 32
 * ```
 */
export async function startBroker(): Promise<PeerBroker> {
  const { license, secret } = newLicense();
  const server = createServer({ emitter: { license: license.toString() } });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  const tcp = await serveMqttTcp(server.emitter, { hostname: "127.0.0.1", port: 0 });
  const context = {
    cipher: license.cipher(),
    contracts: singleContractProvider(license),
    connectionId: "peers-test",
  };
  return {
    wsUrl: `ws://127.0.0.1:${http.addr.port}/`,
    wsPort: http.addr.port,
    tcpUrl: `mqtt://127.0.0.1:${tcp.port}`,
    secret,
    key(channel, type) {
      const request: KeygenRequest = { key: secret, channel, type, ttl: 0 };
      const result = keygen(context, request);
      assert.ok(result.ok, `keygen for ${channel} failed: ${!result.ok && result.error.message}`);
      return result.key;
    },
    async [Symbol.asyncDispose]() {
      await tcp.close();
      await server.emitter.close();
      await http.shutdown();
      await server.close();
    },
  };
}

/** One message as a peer received it. */
export interface PeerMessage {
  /** The topic it came on. */
  topic: string;
  /** Its payload as text. */
  text: string;
}

interface Waiter {
  match: (message: PeerMessage) => boolean;
  resolve: (message: PeerMessage) => void;
}

/**
 * The messages one client received, in order. `take` removes and returns
 * the first that matches, waiting for it up to WAIT_MS.
 *
 * @example
 * ```ts
 * import { Inbox } from "./_peers.ts";
 *
 * const inbox = new Inbox();
 * inbox.push("chat/", new TextEncoder().encode("hi"));
 * console.log((await inbox.take("chat/")).text); // "hi"
 * ```
 */
export class Inbox {
  #queue: PeerMessage[] = [];
  #waiters = new Set<Waiter>();

  /**
   * Adds a received message, handing it to the first waiter it matches.
   *
   * @param topic The topic it came on.
   * @param payload Its payload, bytes or text.
   * @throws Never.
   */
  push(topic: string, payload: Uint8Array | string): void {
    const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
    const message = { topic, text };
    for (const waiter of this.#waiters) {
      if (waiter.match(message)) {
        this.#waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    this.#queue.push(message);
  }

  /**
   * Removes and returns the first message on `topic` (or matching `topic`), waiting for it.
   *
   * @param topic The topic, or a test of the message.
   * @param what How a failure names what was awaited.
   * @returns The message.
   * @throws {Error} When none comes within WAIT_MS, listing what did come.
   */
  take(
    topic: string | ((message: PeerMessage) => boolean),
    what = typeof topic === "string" ? topic : "the expected message",
  ): Promise<PeerMessage> {
    const match = typeof topic === "string" ? (m: PeerMessage) => m.topic === topic : topic;
    const index = this.#queue.findIndex(match);
    if (index >= 0) return Promise.resolve(this.#queue.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const seen = this.#queue.map((m) => `${m.topic} ${m.text}`).join("; ") || "nothing";
        reject(new Error(`No message on ${what} within ${WAIT_MS} ms; queued: ${seen}`));
      }, WAIT_MS);
      this.#waiters.add(waiter);
    });
  }

  /**
   * Takes the next message on `topic` and parses its JSON payload.
   *
   * @param topic The topic, such as `emitter/keygen/`.
   * @returns The parsed payload.
   * @throws {Error} When none comes within WAIT_MS; {SyntaxError} when it is not JSON.
   */
  async json(topic: string): Promise<Record<string, unknown>> {
    return JSON.parse((await this.take(topic)).text);
  }

  /**
   * The messages received and not taken, on `topic` when given.
   *
   * @param topic Only those on this topic.
   * @returns The messages, oldest first.
   * @throws Never.
   */
  pending(topic?: string): PeerMessage[] {
    return this.#queue.filter((m) => topic === undefined || m.topic === topic);
  }
}

/**
 * Waits for `promise`, or fails after WAIT_MS naming `what`, so a peer that
 * never answers fails its test instead of hanging it.
 *
 * @param promise What to wait for.
 * @param what How the failure names it.
 * @returns What `promise` resolves with.
 * @throws {Error} After WAIT_MS, or what `promise` rejects with.
 *
 * @example
 * ```ts
 * import { within } from "./_peers.ts";
 *
 * console.log(await within(Promise.resolve(1), "one")); // 1
 * ```
 */
export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not happen within ${WAIT_MS} ms`)),
      WAIT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
