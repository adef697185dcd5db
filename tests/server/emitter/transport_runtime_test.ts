import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  bunWebSocketHandlers,
  type UpgradedWebSocket,
  upgradeWebSocket,
} from "../../../src/core/runtime/websocket_upgrade.ts";
import { canListenTcp, listenTcp } from "../../../src/core/runtime/tcp_listener.ts";
import { websocketUpgrade } from "../../../src/server/emitter/_websocket_upgrade.ts";
import { attachWebSocket } from "../../../src/server/emitter/websocket_link.ts";
import { createServer } from "../../../src/server/mod.ts";
import { InvalidArgumentError } from "../../../src/core/errors.ts";
import { echoBroker } from "./_transport.ts";

const upgradeRequest = (protocols?: string) =>
  new Request("http://localhost/any/path", {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      ...(protocols === undefined ? {} : { "sec-websocket-protocol": protocols }),
    },
  });

/** A socket that records what the link does to it and lets the test fire its events. */
class FakeSocket extends EventTarget {
  binaryType = "blob";
  bufferedAmount = 0;
  readyState = 1;
  sent: Uint8Array[] = [];
  closes: (number | undefined)[] = [];
  accepted = false;
  send(data: Uint8Array) {
    this.sent.push(data);
  }
  close(code?: number) {
    this.closes.push(code);
    this.readyState = 3;
  }
  accept() {
    this.accepted = true;
  }
}

Deno.test("where the runtime cannot upgrade in fetch, an upgrade request gets 426 with a JSON error", async () => {
  const app = new Hono();
  app.use("*", websocketUpgrade(() => echoBroker(), () => "127.0.0.1", {}));
  app.get("/healthz", (c) => c.json({ ok: true }));
  const refused = await app.fetch(upgradeRequest("mqtt"));
  assert.equal(refused.status, 426);
  assert.deepEqual(await refused.json(), { error: "websocket_unsupported" });
  const plain = await app.fetch(new Request("http://localhost/healthz"));
  assert.deepEqual(await plain.json(), { ok: true });
  assert.equal(upgradeWebSocket(upgradeRequest(), undefined, { onSocket() {} }, {}), undefined);
});

/** Lets the links send what they queued in this turn. */
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("under Workers the server end of a WebSocketPair is accepted and attached, and the 101 echoes the subprotocol", async () => {
  const ends: FakeSocket[] = [];
  class WebSocketPair {
    0 = new FakeSocket();
    1 = new FakeSocket();
    constructor() {
      ends.push(this[0], this[1]);
    }
  }
  // Stands in for workerd's Response, the only one that takes status 101
  class WorkersResponse {
    constructor(readonly body: null, readonly init: ResponseInit & { webSocket?: unknown }) {}
  }
  const broker = echoBroker();
  const answer = upgradeWebSocket(upgradeRequest(), undefined, {
    protocol: "mqttv3",
    onSocket: (socket) => attachWebSocket(broker, socket, "203.0.113.9"),
  }, { WebSocketPair, Response: WorkersResponse }) as unknown as WorkersResponse;
  const [client, server] = ends;
  assert.equal(answer.init.status, 101);
  assert.deepEqual(answer.init.headers, { "sec-websocket-protocol": "mqttv3" });
  assert.equal(answer.init.webSocket, client);
  assert.ok(server.accepted && !client.accepted);
  assert.equal(server.binaryType, "arraybuffer");
  assert.deepEqual(broker.addresses, ["203.0.113.9"]);
  server.dispatchEvent(new MessageEvent("message", { data: new Uint8Array([1, 2]).buffer }));
  await nextTurn();
  assert.deepEqual(server.sent, [new Uint8Array([1, 2])]);
  server.readyState = 2;
  server.dispatchEvent(new Event("close"));
  assert.deepEqual(server.closes, [undefined], "the peer's close is answered");
  server.dispatchEvent(new Event("error"));
  assert.equal(broker.ends, 1, "close then error end the session once");
});

Deno.test("under Bun the upgrade goes through the server's upgrade, and its handlers feed an EventTarget socket", async () => {
  const upgrades: {
    headers?: Record<string, string>;
    data: { onSocket(s: UpgradedWebSocket): void };
  }[] = [];
  const bunServer = {
    upgrade(_request: Request, options: (typeof upgrades)[number]) {
      upgrades.push(options);
      return true;
    },
  };
  const broker = echoBroker();
  const answer = upgradeWebSocket(upgradeRequest("mqtt"), bunServer, {
    protocol: "mqtt",
    onSocket: (socket) => attachWebSocket(broker, socket, "198.51.100.4"),
  }, {});
  assert.ok(answer instanceof Response);
  assert.deepEqual(upgrades[0].headers, { "sec-websocket-protocol": "mqtt" });

  // What Bun then does with the socket it opened
  const written: Uint8Array[] = [];
  const bunSocket = {
    data: upgrades[0].data,
    readyState: 1,
    binaryType: "nodebuffer",
    send: (bytes: Uint8Array) => written.push(bytes),
    close() {
      bunSocket.readyState = 3;
    },
    getBufferedAmount: () => 42,
  };
  const handlers = bunWebSocketHandlers();
  handlers.open(bunSocket);
  assert.equal(bunSocket.binaryType, "uint8array");
  assert.deepEqual(broker.addresses, ["198.51.100.4"]);
  const chunk = new Uint8Array([9, 8, 7, 6]);
  handlers.message(bunSocket, chunk.subarray(1, 3));
  chunk.fill(0);
  await nextTurn();
  assert.deepEqual(written, [new Uint8Array([8, 7])], "the message is copied out of Bun's buffer");
  handlers.message(bunSocket, "text");
  assert.equal(bunSocket.readyState, 3, "a text message closes the socket");
  handlers.close(bunSocket, 1003);
  assert.equal(broker.ends, 1);
});

Deno.test("canListenTcp tells Deno, Node and Bun from browsers and Workers", async () => {
  assert.equal(canListenTcp(), true);
  const net = { createServer() {} };
  assert.equal(canListenTcp({ process: { getBuiltinModule: () => net } }), true);
  assert.equal(canListenTcp({ process: { versions: { node: "20.10.0" } } }), false);
  assert.equal(canListenTcp({ navigator: { userAgent: "Cloudflare-Workers" } }), false);
  await assert.rejects(
    listenTcp({}, () => ({ receive() {}, closed() {} }), {}),
    (error: Error & { code?: string }) => error.code === "tcp_unsupported",
  );
});

Deno.test("bufferedBytes counts the bytes not yet written to a peer that does not read", async () => {
  let peer: import("../../../src/core/runtime/tcp_listener.ts").TcpPeer | undefined;
  const gotPeer = Promise.withResolvers<void>();
  const listener = await listenTcp({ port: 0 }, (p) => {
    peer = p;
    gotPeer.resolve();
    return { receive() {}, closed() {} };
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  await gotPeer.promise;
  const size = 16 * 1024 * 1024;
  peer!.send(new Uint8Array(size));
  assert.ok(peer!.bufferedBytes() > 0, "nothing is written while the kernel buffers are full");
  assert.ok(peer!.bufferedBytes() <= size);
  let read = 0;
  const buffer = new Uint8Array(1 << 16);
  while (read < size) read += (await conn.read(buffer)) ?? size;
  assert.equal(read, size);
  for (let i = 0; i < 100 && peer!.bufferedBytes() > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(peer!.bufferedBytes(), 0, "everything written");
  conn.close();
  await listener.close();
});

Deno.test("the emitter option is checked once at createServer, naming the field but never a license", () => {
  assert.throws(
    () => createServer({ emitter: 5 as never }),
    /Cannot create server as 'emitter' must be an object/,
  );
  assert.throws(
    () => createServer({ emitter: { maxMessageBytes: 1 } }),
    (error: Error) =>
      error instanceof InvalidArgumentError && error.argument === "emitter.maxMessageBytes" &&
      /^Cannot create server as 'emitter\.maxMessageBytes' must be/.test(error.message),
  );
  assert.throws(
    () => createServer({ emitter: { license: "definitely-not-a-license" } }),
    (error: Error) =>
      error instanceof InvalidArgumentError && error.argument === "emitter.license" &&
      !error.message.includes("definitely") && /24 characters/.test(error.message),
  );
});

Deno.test("a TCP peer closed with bytes still queued writes them all before it closes", async () => {
  const size = 4 * 1024 * 1024;
  const ended = Promise.withResolvers<void>();
  const listener = await listenTcp({ port: 0 }, (peer) => {
    peer.send(new Uint8Array(size).fill(7));
    peer.close();
    peer.send(new Uint8Array([1])); // dropped: the connection is closing
    return { receive() {}, closed: () => ended.resolve() };
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
  let read = 0;
  const buffer = new Uint8Array(1 << 16);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) break;
    assert.ok(buffer.subarray(0, n).every((byte) => byte === 7));
    read += n;
  }
  assert.equal(read, size);
  await ended.promise;
  conn.close();
  await listener.close();
});
