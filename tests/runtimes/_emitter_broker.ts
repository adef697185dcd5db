/**
 * The broker the Emitter runtime matrix runs against, in this Deno process on
 * 127.0.0.1 port 0: its WebSocket URL, its license's master key, and the check
 * of what it saw of one run. By default it is the package's own broker,
 * `createServer()` under `Deno.serve` with a license made for the test; with
 * `EDGEWIRE_EMITTER_BROKER=fake` it is the client tests' fake broker behind a
 * real WebSocket server, to tell a client fault from a broker fault.
 *
 * @module
 */

import assert from "node:assert/strict";
import { newLicense } from "../../src/emitter/security/license.ts";
import { createServer } from "../../src/server/mod.ts";
import { FakeBroker } from "../emitter/_fake_broker.ts";

/** A running broker for one test; dispose of it to stop it. */
export interface EmitterUnderTest extends AsyncDisposable {
  /** Which broker: the package's own, or the fake one. */
  kind: "server" | "fake";
  /** Its WebSocket URL, `ws://127.0.0.1:<port>/`. */
  url: string;
  /** The master key of its license. */
  secret: string;
  /** Checks what the broker saw of the run with `label`; throws when it differs. */
  verify(label: string): Promise<void>;
}

/** Which broker `startEmitterBroker` starts, from `EDGEWIRE_EMITTER_BROKER`. */
export const BROKER_KIND: "server" | "fake" = Deno.env.get("EDGEWIRE_EMITTER_BROKER") === "fake"
  ? "fake"
  : "server";

/**
 * Starts the broker {@linkcode BROKER_KIND} names.
 *
 * @returns The running broker.
 */
export function startEmitterBroker(): Promise<EmitterUnderTest> {
  return BROKER_KIND === "fake" ? startFake() : startServer();
}

async function startServer(): Promise<EmitterUnderTest> {
  const { license, secret } = newLicense();
  const server = createServer({ emitter: { license: license.toString() } });
  await server.emitter.ready();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.fetch);
  return {
    kind: "server",
    url: `ws://127.0.0.1:${http.addr.port}/`,
    secret,
    async verify() {
      // The client disconnected before it reported; the broker notices within moments
      for (let i = 0; i < 200 && server.emitter.stats().connections > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const stats = server.emitter.stats();
      assert.equal(stats.connections, 0, "the client's connection is gone");
      assert.equal(stats.subscriptions, 0, "both subscriptions were dropped");
      // The publish reached the plain subscriber and the share group's one member: one
      // message to each connection
      assert.equal(stats.messagesOut, 2, JSON.stringify(stats));
      assert.equal(stats.malformedPackets + stats.storeFailures + stats.slowClosed, 0);
    },
    async [Symbol.asyncDispose]() {
      // The broker closes its WebSockets first, so the HTTP server has none left to wait for
      await server.close();
      await http.shutdown();
    },
  };
}

function startFake(): Promise<EmitterUnderTest> {
  const broker = new FakeBroker();
  broker.behaviour.route = true;
  const served = broker.serve();
  return Promise.resolve({
    kind: "fake",
    url: served.url,
    secret: broker.license.secret,
    verify(label: string) {
      const channel = `matrix/${label}/`;
      const topics = broker.sockets.flatMap((socket) =>
        socket.received.flatMap((packet) =>
          packet.type === "subscribe"
            ? packet.subscriptions.map((s) => `subscribe ${s.topic.replace(/^[^/]+\//, "")}`)
            : packet.type === "publish" && !packet.topic.startsWith("emitter/")
            ? [`publish ${packet.topic.replace(/^[^/]+\//, "")} qos ${packet.qos}`]
            : []
        )
      );
      // The publisher's connection, then the share group member's
      assert.deepEqual(topics, [
        `subscribe ${channel}`,
        `publish ${channel}?ttl=60 qos 1`,
        `subscribe $share/workers/${channel}`,
      ]);
      assert.equal(broker.sockets.length, 2);
      return Promise.resolve();
    },
    [Symbol.asyncDispose]: () => served[Symbol.asyncDispose](),
  });
}
