/**
 * The Spot relay's cap on connections per client address: the upgrade hands
 * the relay the server's view of the address, a connection past the cap is
 * closed with 1013, a closed one frees its place, other addresses and
 * connections of no known address are not counted, and the option is checked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../../src/core/errors.ts";
import { MemoryStore } from "../../../src/server/memory/memory_store.ts";
import { resolveSpotRelayOptions } from "../../../src/server/spot/options.ts";
import { SpotRelay } from "../../../src/server/spot/relay.ts";
import { MemorySocket, RawPeer, startRelay } from "./_peer.ts";

const TOO_MANY = { code: 1013, reason: "too many connections from this address" };

Deno.test("a connection past the per-address cap is closed with 1013 until one closes", async () => {
  const relay = startRelay({ maxConnectionsPerAddress: 2 });
  const peers: RawPeer[] = [];
  try {
    peers.push(await RawPeer.connect(relay.url), await RawPeer.connect(relay.url));
    const third = await RawPeer.open(relay.url);
    assert.deepEqual(await third.closedSoon(), TOO_MANY);
    assert.equal(relay.server.spot.connectionCount, 2);
    await peers.shift()!.close();
    for (let i = 0; i < 100 && relay.server.spot.connectionCount > 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    peers.push(await RawPeer.connect(relay.url));
    assert.equal(relay.server.spot.connectionCount, 2);
  } finally {
    for (const peer of peers) await peer.close();
    await relay.close();
  }
});

Deno.test("each address has its own count and an unknown address is not counted", async () => {
  const store = new MemoryStore();
  const relay = new SpotRelay({ store, maxConnectionsPerAddress: 1 });
  try {
    const first = new MemorySocket();
    const again = new MemorySocket();
    const other = new MemorySocket();
    const unknown = [new MemorySocket(), new MemorySocket()];
    relay.accept(first, "192.0.2.1");
    relay.accept(again, "192.0.2.1");
    relay.accept(other, "2001:db8::/64");
    for (const socket of unknown) relay.accept(socket);
    assert.deepEqual(again.closedWith, TOO_MANY);
    assert.equal(first.closedWith, undefined);
    assert.equal(other.closedWith, undefined);
    assert.deepEqual(unknown.map((socket) => socket.closedWith), [undefined, undefined]);
    assert.equal(relay.connectionCount, 4);
    first.close(1000, "bye");
    const later = new MemorySocket();
    relay.accept(later, "192.0.2.1");
    assert.equal(later.closedWith, undefined);
    assert.equal(relay.connectionCount, 4);
  } finally {
    await relay.close();
    await store.close();
  }
});

Deno.test("the per-address cap defaults to 64 and refuses values below one", () => {
  assert.equal(resolveSpotRelayOptions({}).maxConnectionsPerAddress, 64);
  assert.throws(
    () => resolveSpotRelayOptions({ maxConnectionsPerAddress: 0 }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && /maxConnectionsPerAddress/.test(error.message),
  );
});
