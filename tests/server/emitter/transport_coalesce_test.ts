/**
 * The transports join what the broker sends in one turn: packets sent
 * together leave as one WebSocket message (or one TCP write), in order,
 * counted by `bufferedBytes()` until they leave, written before a close; in a
 * busy turn (many connections written) the later connections' bytes leave at
 * the turn's end, still whole and in order.
 *
 * @module
 */

import assert from "node:assert/strict";
import { afterTurn, BUSY_WRITERS, busyTurn } from "../../../src/core/_after_turn.ts";
import { listenTcp, type TcpPeer } from "../../../src/core/runtime/tcp_listener.ts";
import { upgradeWebSocket } from "../../../src/core/runtime/websocket_upgrade.ts";
import type { BrokerLink } from "../../../src/server/emitter/broker.ts";
import {
  attachWebSocket,
  type BrokerAcceptor,
  selectMqttSubprotocol,
} from "../../../src/server/emitter/websocket_link.ts";
import { openSocket } from "./_transport.ts";

/**
 * An acceptor that hands the test each link once its socket is open (its
 * client's first message has arrived), and ignores what it reads.
 */
function linkCollector(): BrokerAcceptor & {
  links: BrokerLink[];
  opened(count: number): Promise<void>;
} {
  let wake = () => {};
  const collector = {
    links: [] as BrokerLink[],
    accept(link: BrokerLink) {
      let first = true;
      return {
        receive() {
          if (!first) return;
          first = false;
          collector.links.push(link);
          wake();
        },
        closed() {},
      };
    },
    async opened(count: number) {
      while (collector.links.length < count) await new Promise<void>((resolve) => wake = resolve);
    },
  };
  return collector;
}

function serve(broker: BrokerAcceptor) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) => {
      // Read before upgrading: Deno forgets the request's address once it is upgraded
      const address = info.remoteAddr.hostname;
      return upgradeWebSocket(request, info, {
        protocol: selectMqttSubprotocol(request.headers.get("sec-websocket-protocol")),
        onSocket: (socket) => attachWebSocket(broker, socket, address),
      }) ?? new Response("no upgrade", { status: 426 });
    },
  );
}

Deno.test("packets sent in one turn leave as one WebSocket message, in order, counted until sent", async () => {
  const broker = linkCollector();
  await using http = serve(broker);
  await using client = await openSocket(`ws://127.0.0.1:${http.addr.port}/`, ["mqtt"]);
  client.socket.send(new Uint8Array([0xc0, 0]));
  await broker.opened(1);
  const [link] = broker.links;
  link.send(new Uint8Array([0x30, 3, 0, 1, 0x61]));
  link.send(new Uint8Array([0x30, 3, 0, 1, 0x62]));
  link.send(new Uint8Array([0x30, 3, 0, 1, 0x63]));
  assert.ok(link.bufferedBytes() >= 15, "the queued bytes count against the send buffer");
  assert.deepEqual(
    await client.bytes(15),
    new Uint8Array([0x30, 3, 0, 1, 0x61, 0x30, 3, 0, 1, 0x62, 0x30, 3, 0, 1, 0x63]),
  );
  assert.equal(client.received.length, 1, "one message for the three packets");

  // A close right after a send: the bytes still arrive first
  link.send(new Uint8Array([0xe0, 0]));
  link.close();
  assert.equal(await client.closed, 1005);
  assert.deepEqual(client.received.at(-1), new Uint8Array([0xe0, 0]));
});

Deno.test("in a busy turn every WebSocket still gets its packets whole and in order", async () => {
  const broker = linkCollector();
  await using http = serve(broker);
  const count = BUSY_WRITERS + 8;
  const clients = await Promise.all(
    Array.from({ length: count }, () => openSocket(`ws://127.0.0.1:${http.addr.port}/`, ["mqtt"])),
  );
  for (const client of clients) client.socket.send(new Uint8Array([0xc0, 0]));
  await broker.opened(count);
  // One synchronous burst over every connection: the later ones wait for the turn's end
  for (const [i, link] of broker.links.entries()) {
    link.send(new Uint8Array([0x30, 3, 0, 1, i]));
    link.send(new Uint8Array([0xd0, 0]));
  }
  for (const [i, link] of broker.links.entries()) {
    assert.ok(link.bufferedBytes() >= 7, `connection ${i} counts its queued bytes`);
  }
  const seen = await Promise.all(clients.map((client) => client.bytes(7)));
  const expected = new Set(broker.links.map((_, i) => i));
  for (const [c, bytes] of seen.entries()) {
    assert.equal(clients[c].received.length, 1, "one message per connection");
    assert.deepEqual([...bytes.subarray(0, 4), ...bytes.subarray(5)], [0x30, 3, 0, 1, 0xd0, 0]);
    assert.ok(expected.delete(bytes[4]), "each connection gets its own packets once");
  }
  assert.equal(expected.size, 0);
  for (const client of clients) await client[Symbol.asyncDispose]();
});

Deno.test("TCP connections written in one busy burst get every byte in order", async () => {
  const peers: TcpPeer[] = [];
  const listener = await listenTcp({ port: 0 }, (peer) => {
    peers.push(peer);
    return { receive() {}, closed() {} };
  });
  const count = BUSY_WRITERS + 8;
  const conns = await Promise.all(
    Array.from(
      { length: count },
      () => Deno.connect({ hostname: "127.0.0.1", port: listener.port }),
    ),
  );
  for (let i = 0; i < 100 && peers.length < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(peers.length, count);
  const chunks = 200;
  for (let c = 0; c < chunks; c++) {
    for (const peer of peers) peer.send(new Uint8Array([c, c + 1]));
  }
  assert.ok(peers.every((peer) => peer.bufferedBytes() === 2 * chunks), "queued bytes counted");
  const want = new Uint8Array(2 * chunks).map((_, i) => (i >> 1) + (i & 1));
  await Promise.all(conns.map(async (conn) => {
    const got = new Uint8Array(want.length);
    let read = 0;
    while (read < want.length) {
      const n = await conn.read(got.subarray(read));
      if (n === null) break;
      read += n;
    }
    assert.deepEqual(got, want);
  }));
  for (let i = 0; i < 100 && peers.some((peer) => peer.bufferedBytes() > 0); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(peers.every((peer) => peer.bufferedBytes() === 0), "everything written");
  for (const conn of conns) conn.close();
  await listener.close();
});

Deno.test("a busy turn's callbacks run after it, in order, and the next turn starts quiet", async () => {
  const order: string[] = [];
  let busy = false;
  const writer = { turn: -1 };
  // One connection counts once however often it writes
  for (let i = 0; i <= BUSY_WRITERS; i++) busy = busyTurn(writer);
  assert.equal(busy, false);
  for (let i = 0; i < BUSY_WRITERS; i++) busy = busyTurn({ turn: -1 });
  assert.equal(busy, true);
  afterTurn(() => order.push("first"));
  afterTurn(() => {
    throw new Error("one failing callback");
  });
  afterTurn(() => order.push("second"));
  order.push("now");
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(order, ["now", "first", "second"]);
  assert.equal(busyTurn(writer), false);
});
