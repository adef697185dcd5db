import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodePacket,
  encodePacket,
  MESSAGE_FLAG_NOT_BOTTLE,
} from "../../../src/spot/proto/mod.ts";
import { honestAnswer, makeIdentity, MemorySocket, RawPeer, startRelay, text } from "./_peer.ts";

Deno.test("a message above the size limit closes the connection with 1009", async () => {
  const relay = startRelay({ maxPacketBytes: 4096 });
  const peer = await RawPeer.connect(relay.url);
  try {
    peer.send({
      flags: MESSAGE_FLAG_NOT_BOTTLE,
      recipient: `${peer.address}/x`,
      sender: "/q",
      body: new Uint8Array(5000),
    });
    assert.deepEqual(await peer.closedSoon(), { code: 1009, reason: "message too big" });
  } finally {
    await relay.close();
  }
});

Deno.test("a text frame closes the connection with 1003", async () => {
  const relay = startRelay();
  const peer = await RawPeer.connect(relay.url);
  try {
    peer.socket.send("hello");
    assert.deepEqual(await peer.closedSoon(), { code: 1003, reason: "binary messages only" });
  } finally {
    await relay.close();
  }
});

Deno.test("packets of an unknown version or type, or truncated, close the connection with 1002", async () => {
  const relay = startRelay();
  try {
    for (const bad of [[0x12, 0], [0x07], [0x02, 1, 2, 3], []]) {
      const peer = await RawPeer.connect(relay.url);
      peer.socket.send(new Uint8Array(bad));
      assert.deepEqual(
        await peer.closedSoon(),
        { code: 1002, reason: "bad packet" },
        `packet ${bad}`,
      );
    }
  } finally {
    await relay.close();
  }
});

Deno.test("random bytes from one connection never disturb another", async () => {
  const relay = startRelay({ messageBurst: 10_000, messagesPerSecond: 10_000 });
  const steady = await RawPeer.connect(relay.url);
  try {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), async (bytes) => {
        const noisy = await RawPeer.connect(relay.url);
        noisy.socket.send(bytes);
        // Either an error answer, a pong, or a close: the relay answers the steady peer after it
        noisy.socket.send(new Uint8Array([0x00, 0x42]));
        await Promise.race([noisy.closed, noisy.nextRaw().catch(() => {})]);
        await noisy.close();
        steady.socket.send(new Uint8Array([0x00, 0x01]));
        assert.deepEqual(await steady.nextRaw(), new Uint8Array([0x00, 0x01]));
      }),
      { numRuns: 40, seed: 11 },
    );
  } finally {
    await steady.close();
    await relay.close();
  }
});

Deno.test("a flood of messages past the connection's rate closes it with 1008", async () => {
  const relay = startRelay({ messageBurst: 5, messagesPerSecond: 1, now: () => 0 });
  const peer = await RawPeer.connect(relay.url);
  try {
    for (let i = 0; i < 6; i++) {
      peer.send({
        flags: MESSAGE_FLAG_NOT_BOTTLE,
        recipient: "@/time",
        sender: "/q",
        body: new Uint8Array(),
      });
    }
    for (let i = 0; i < 5; i++) assert.equal((await peer.nextMessage()).body.length, 12);
    assert.deepEqual(await peer.closedSoon(), { code: 1008, reason: "rate limit" });
  } finally {
    await relay.close();
  }
});

Deno.test("a flood of queries to absent peers gets errors up to the burst, then a close", async () => {
  const relay = startRelay({ absentBurst: 3, absentPerSecond: 1, now: () => 0 });
  const peer = await RawPeer.connect(relay.url);
  const nobody = await makeIdentity();
  try {
    for (let i = 0; i < 4; i++) {
      peer.send({
        flags: 0,
        recipient: `${nobody.card.address}/x`,
        sender: "/q",
        body: new Uint8Array(),
      });
    }
    for (let i = 0; i < 3; i++) assert.equal((await peer.nextMessage()).flags & 0x02, 0x02);
    assert.deepEqual(await peer.closedSoon(), {
      code: 1008,
      reason: "too many messages to absent peers",
    });
  } finally {
    await relay.close();
  }
});

Deno.test("a peer that never reads is closed once its send buffer passes the limit", async () => {
  const relay = startRelay({ maxSendBufferBytes: 10_000 });
  const sender = await RawPeer.connect(relay.url);
  const stuck = new MemorySocket();
  const identity = await makeIdentity();
  try {
    relay.server.spot.accept(stuck);
    await stuck.waitSent(1);
    stuck.deliver(await honestAnswer(stuck.sent[0], identity));
    await stuck.waitSent(2);
    assert.equal(stuck.sent[1][0], 0x01, "rdy");
    for (let i = 0; i < 5; i++) {
      sender.send({
        flags: MESSAGE_FLAG_NOT_BOTTLE,
        recipient: `${identity.card.address}/x`,
        sender: "/q",
        body: new Uint8Array(3000),
      });
    }
    // A ping after the flood: once it is echoed, the relay has handled every message before it
    sender.socket.send(new Uint8Array([0x00, 9]));
    const errors: string[] = [];
    for (let raw = await sender.nextRaw(); raw[0] !== 0x00; raw = await sender.nextRaw()) {
      const packet = decodePacket(raw, "client");
      if (packet.type === "message") errors.push(text(packet.message.body));
    }
    // The fourth message closed the stuck peer; the fifth found it gone
    assert.deepEqual(errors, [`peer ${identity.card.address} is not connected`]);
    assert.deepEqual(stuck.closedWith, { code: 1008, reason: "send buffer full" });
    assert.equal(stuck.sent.length, 5, "challenge, rdy and three messages; no more was buffered");
    assert.ok(stuck.bufferedAmount <= 10_000);
    assert.equal(relay.server.spot.connectionCount, 1);
  } finally {
    await sender.close();
    await relay.close();
  }
});

Deno.test("connections past the limit are closed with 1013", async () => {
  const relay = startRelay({ maxConnections: 1 });
  const first = await RawPeer.connect(relay.url);
  try {
    const second = await RawPeer.open(relay.url);
    assert.deepEqual(await second.closedSoon(), { code: 1013, reason: "relay full" });
    first.socket.send(encodePacket({ type: "ping", payload: new Uint8Array([5]) }));
    assert.deepEqual(await first.nextRaw(), new Uint8Array([0x00, 5]));
  } finally {
    await first.close();
    await relay.close();
  }
});

Deno.test("closing the server closes every relay connection with 1001", async () => {
  const relay = startRelay();
  const peer = await RawPeer.connect(relay.url);
  await relay.server.spot.close();
  assert.deepEqual(await peer.closedSoon(), { code: 1001, reason: "relay closed" });
  await relay.close();
});

Deno.test("packets waiting past the pending limit close the connection with 1008", async () => {
  const relay = startRelay({ maxPendingBytes: 2048 });
  const peer = await RawPeer.connect(relay.url);
  try {
    peer.send({
      flags: MESSAGE_FLAG_NOT_BOTTLE,
      recipient: "@/time",
      sender: "/q",
      body: new Uint8Array(3000),
    });
    assert.deepEqual(await peer.closedSoon(), { code: 1008, reason: "too many packets waiting" });
  } finally {
    await relay.close();
  }
});
