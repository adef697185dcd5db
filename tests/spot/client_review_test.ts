import assert from "node:assert/strict";
import { AbortedError, TimeoutError } from "../../src/core/errors.ts";
import { SpotClient } from "../../src/spot/client.ts";
import { SpotClientStateError } from "../../src/spot/errors.ts";
import { FakeRelay, onlineClients } from "./_fake_relay.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

Deno.test("a query that timed out while offline is not sent once a connection is back", async () => {
  const relay = new FakeRelay();
  const [client] = await onlineClients(relay, 1);
  try {
    relay.behaviour.refuse = true;
    relay.dropAll();
    while (client.connectionCount().online > 0) await tick();
    await assert.rejects(client.getTime({ timeoutMs: 20 }), TimeoutError);
    relay.behaviour.refuse = false;
    await client.waitOnline();
    await client.getTime();
    assert.equal(relay.systemCalls("time").length, 1, "only the live query reached the relay");
  } finally {
    client.close();
  }
});

Deno.test("one caller aborting getIDCard does not fail another caller waiting for the same card", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    const impatient = new AbortController();
    const first = alice.getIDCard(bob.address, { signal: impatient.signal });
    const second = alice.getIDCard(bob.address);
    impatient.abort();
    await assert.rejects(first, AbortedError);
    assert.equal((await second).address, bob.address);
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("sendTo that the client closes under fails with SpotClientStateError rather than resolving", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    await alice.getIDCard(bob.address);
    const sending = alice.sendTo(`${bob.address}/inbox`, "lost?");
    alice.close();
    await assert.rejects(sending, SpotClientStateError);
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("a client closed while discovery answers dials nothing after close and leaves no socket open", async () => {
  // Close at every microtask step after discovery answered: no socket may open after close() or stay open
  for (let hops = 0; hops < 12; hops++) {
    const relay = new FakeRelay();
    const made: { client?: SpotClient } = {};
    let dialsAtClose = -1;
    const closeAfter = (left: number): void => {
      if (left === 0) {
        made.client!.close();
        dialsAtClose = relay.dials;
      } else queueMicrotask(() => closeAfter(left - 1));
    };
    const fetch = (() => {
      const body = JSON.stringify({ data: { hosts: ["relay.test"], min_conn: 1 } });
      return Promise.resolve({
        ok: true,
        status: 200,
        text: () => {
          closeAfter(hops);
          return Promise.resolve(body);
        },
      } as unknown as Response);
    }) as typeof globalThis.fetch;
    const client = made.client = new SpotClient({
      endpoint: "http://relay.test",
      WebSocket: relay.WebSocket,
      fetch,
      backoff: { initialMs: 1, maxMs: 4 },
    });
    await client.ready();
    for (let i = 0; i < 20; i++) await tick();
    const when = `closed ${hops} microtasks after the answer`;
    assert.equal(relay.dials, dialsAtClose, `no dial after close (${when})`);
    assert.ok(
      relay.sockets.every((socket) => socket.readyState === 3),
      `no socket left open (${when})`,
    );
    assert.deepEqual(client.connectionCount(), { total: 0, online: 0 });
  }
});

Deno.test("closing the client fails a packet connection's read that has no deadline", async () => {
  const relay = new FakeRelay();
  const [client] = await onlineClients(relay, 1);
  try {
    const conn = client.listenPacket("stream");
    const reading = conn.readFrom();
    client.close();
    await assert.rejects(reading, SpotClientStateError);
    assert.throws(() => client.listenPacket("later"), SpotClientStateError);
  } finally {
    client.close();
  }
});
