import assert from "node:assert/strict";
import {
  decodePacket,
  MESSAGE_FLAG_ERROR,
  MESSAGE_FLAG_NOT_BOTTLE,
  MESSAGE_FLAG_RESPONSE,
  parseDiscoveryAnswer,
} from "../../../src/spot/proto/mod.ts";
import { Bottle, openBottle } from "../../../src/spot/bottle/mod.ts";
import { honestAnswer, makeIdentity, RawPeer, startRelay, text } from "./_peer.ts";

Deno.test("discovery answers the relay's own host in the shape the clients parse", async () => {
  const relay = startRelay({ minConn: 1 });
  try {
    const response = await fetch(`${relay.origin}/_special/rest/Spot:connect`);
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.result, "success");
    assert.deepEqual(parseDiscoveryAnswer(body), {
      hosts: [new URL(relay.origin).host],
      minConn: 1,
    });
    assert.deepEqual(body.data.urls, [relay.url]);
  } finally {
    await relay.close();
  }
});

Deno.test("a plain request to /_websocket is told to upgrade", async () => {
  const relay = startRelay();
  try {
    const response = await fetch(`${relay.origin}/_websocket`);
    assert.equal(response.status, 426);
    await response.body?.cancel();
  } finally {
    await relay.close();
  }
});

Deno.test("the relay challenges with srv, cid and a fresh 32-byte rnd, then says rdy", async () => {
  const relay = startRelay({ serverCode: "relay7" });
  const peer = await RawPeer.open(relay.url);
  try {
    const first = decodePacket(await peer.nextRaw(), "client");
    assert.equal(first.type, "handshake_request");
    if (first.type !== "handshake_request") return;
    assert.equal(first.request.ready, false);
    assert.equal(first.request.serverCode, "relay7");
    assert.equal(first.request.nonce?.length, 32);
    assert.equal(first.request.groups, null);
    const other = await RawPeer.open(relay.url);
    const second = decodePacket(await other.nextRaw(), "client");
    assert.ok(second.type === "handshake_request");
    assert.notDeepEqual(second.request.nonce, first.request.nonce);
    assert.notEqual(second.request.clientId, first.request.clientId);
    await other.close();
    // Answer the first challenge honestly: the relay says rdy with the same cid
    const identity = await makeIdentity();
    peer.identity = identity;
    peer.socket.send(await honestAnswer(withType(first.request.raw), identity));
    const ready = await peer.next();
    assert.ok(ready.type === "handshake_request");
    assert.equal(ready.request.ready, true);
    assert.equal(ready.request.clientId, first.request.clientId);
    assert.equal(relay.server.spot.connectionCount, 1);
  } finally {
    await peer.close();
    await relay.close();
  }
});

/** The whole handshake packet from its CBOR, as the honest answer takes it. */
function withType(raw: Uint8Array): Uint8Array {
  const packet = new Uint8Array(raw.length + 1);
  packet[0] = 0x01;
  packet.set(raw, 1);
  return packet;
}

Deno.test("a message reaches the peer of its k. address with the sender rewritten to the verified key", async () => {
  const relay = startRelay();
  const alice = await RawPeer.connect(relay.url);
  const bob = await RawPeer.connect(relay.url);
  try {
    const body =
      (await (await new Bottle("hello bob").encrypt(bob.identity!.card)).sign(alice.identity!.key))
        .encode();
    const id = alice.send({
      flags: 0,
      recipient: `${bob.address}/greet`,
      // A lie: Alice claims to be Bob; the relay keeps only her path
      sender: `${bob.address}/q-1`,
      body,
    });
    const got = await bob.nextMessage();
    assert.deepEqual(got.id, id);
    assert.equal(got.flags, 0);
    assert.equal(got.recipient, `${bob.address}/greet`);
    assert.equal(got.sender, `${alice.address}/q-1`);
    assert.deepEqual(got.body, body);
    const opened = await openBottle(got.body, {
      keys: [bob.identity!.key],
      idcards: [alice.identity!.card],
    });
    assert.equal(text(opened.message), "hello bob");
    assert.equal(opened.signers[0].idcard?.address, alice.address);

    // Bob answers to the rewritten sender; Alice gets it with Bob's verified address
    bob.send({
      id,
      flags: MESSAGE_FLAG_RESPONSE | MESSAGE_FLAG_NOT_BOTTLE,
      recipient: got.sender,
      sender: "/noreply",
      body: new TextEncoder().encode("hi"),
    });
    const answer = await alice.nextMessage();
    assert.deepEqual(answer.id, id);
    assert.equal(answer.flags, MESSAGE_FLAG_RESPONSE | MESSAGE_FLAG_NOT_BOTTLE);
    assert.equal(answer.recipient, `${alice.address}/q-1`);
    assert.equal(answer.sender, `${bob.address}/noreply`);
    assert.equal(text(answer.body), "hi");
  } finally {
    await alice.close();
    await bob.close();
    await relay.close();
  }
});

Deno.test("a message reaches one connection by its c.<srv>.<cid> address", async () => {
  const relay = startRelay({ serverCode: "r1" });
  const alice = await RawPeer.connect(relay.url);
  const bob = await RawPeer.connect(relay.url);
  try {
    alice.send({
      flags: MESSAGE_FLAG_NOT_BOTTLE,
      recipient: `c.r1.${bob.clientId}/ping`,
      sender: "/p",
      body: new Uint8Array([1]),
    });
    const got = await bob.nextMessage();
    assert.equal(got.recipient, `c.r1.${bob.clientId}/ping`);
    assert.equal(got.sender, `${alice.address}/p`);
  } finally {
    await alice.close();
    await bob.close();
    await relay.close();
  }
});

Deno.test("a query to an absent peer gets an error answer with the same id", async () => {
  const relay = startRelay();
  const alice = await RawPeer.connect(relay.url);
  const nobody = await makeIdentity();
  try {
    const id = alice.send({
      flags: 0,
      recipient: `${nobody.card.address}/ping`,
      sender: "/q-9",
      body: new Uint8Array([1, 2]),
    });
    const answer = await alice.nextMessage();
    assert.deepEqual(answer.id, id);
    assert.equal(
      answer.flags,
      MESSAGE_FLAG_RESPONSE | MESSAGE_FLAG_ERROR | MESSAGE_FLAG_NOT_BOTTLE,
    );
    assert.equal(answer.recipient, `${alice.address}/q-9`);
    assert.equal(text(answer.body), `peer ${nobody.card.address} is not connected`);
    // An answer to an absent peer is dropped, never answered: the next packet is the pong
    alice.send({
      flags: MESSAGE_FLAG_RESPONSE,
      recipient: `${nobody.card.address}/x`,
      sender: "/noreply",
      body: new Uint8Array(),
    });
    alice.socket.send(new Uint8Array([0x00, 7]));
    assert.deepEqual(await alice.nextRaw(), new Uint8Array([0x00, 7]));
  } finally {
    await alice.close();
    await relay.close();
  }
});

Deno.test("the peer is gone from routing once it disconnects", async () => {
  const relay = startRelay();
  const alice = await RawPeer.connect(relay.url);
  const bob = await RawPeer.connect(relay.url);
  try {
    await bob.close();
    // The relay sees the close a moment after the client does
    for (let i = 0; i < 50 && relay.server.spot.connectionCount > 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    alice.send({ flags: 0, recipient: `${bob.address}/x`, sender: "/q", body: new Uint8Array() });
    const answer = await alice.nextMessage();
    assert.equal(answer.flags & MESSAGE_FLAG_ERROR, MESSAGE_FLAG_ERROR);
  } finally {
    await alice.close();
    await relay.close();
  }
});
