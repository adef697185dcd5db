import assert from "node:assert/strict";
import { encode } from "cborg";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { IDCard } from "../../../src/spot/bottle/mod.ts";
import { PrivateKey, sign } from "../../../src/spot/crypto/mod.ts";
import {
  decodePacket,
  encodePacket,
  MESSAGE_FLAG_NOT_BOTTLE,
  parseGroupList,
} from "../../../src/spot/proto/mod.ts";
import { type Answerer, honestAnswer, makeIdentity, RawPeer, startRelay } from "./_peer.ts";

/** Connects, answers the first challenge with `answer`, and reports how the relay closed. */
async function refused(answer: Answerer): Promise<{ code: number; reason: string }> {
  const relay = startRelay();
  const peer = await RawPeer.open(relay.url);
  try {
    const identity = await makeIdentity();
    const raw = await peer.nextRaw();
    peer.socket.send(await answer(raw, identity));
    const closed = await peer.closedSoon();
    assert.equal(relay.server.spot.idCardCount, 0, "no card from a refused handshake is kept");
    return closed;
  } finally {
    await peer.close();
    await relay.close();
  }
}

Deno.test("an answer without a signature closes the connection", async () => {
  const closed = await refused((_raw, identity) =>
    Promise.resolve(encodePacket({
      type: "handshake_response",
      response: { id: identity.signed, key: identity.key.publicKey.pkix, sig: null },
    }))
  );
  assert.deepEqual(closed, { code: 1008, reason: "handshake answer lacks id, key or sig" });
});

Deno.test("a signature over other bytes than the challenge closes the connection", async () => {
  const closed = await refused(async (raw, identity) => {
    const other = raw.slice();
    other[other.length - 1] ^= 1;
    return await honestAnswer(other, identity);
  });
  assert.deepEqual(closed, { code: 1008, reason: "handshake signature does not verify" });
});

Deno.test("a key that is not in the presented card cannot borrow that card", async () => {
  const victim = await makeIdentity();
  const closed = await refused(async (raw, identity) =>
    encodePacket({
      type: "handshake_response",
      response: {
        id: victim.signed,
        key: identity.key.publicKey.pkix,
        sig: await sign(identity.key, raw.subarray(1)),
      },
    })
  );
  assert.deepEqual(closed, {
    code: 1008,
    reason: "handshake key is not a sign key of the ID card",
  });
});

Deno.test("a card whose signature does not verify closes the connection", async () => {
  const closed = await refused(async (raw, identity) => {
    const tampered = identity.signed.slice();
    tampered[tampered.length - 5] ^= 0x40;
    return await honestAnswer(raw, { ...identity, signed: tampered });
  });
  assert.deepEqual(closed, { code: 1008, reason: "handshake ID card does not load or verify" });
});

Deno.test("an answer that is not CBOR closes the connection as a bad packet", async () => {
  const closed = await refused(() => Promise.resolve(new Uint8Array([0x01, 0xff, 0x00])));
  assert.deepEqual(closed, { code: 1002, reason: "bad packet" });
});

Deno.test("a message before the handshake closes the connection", async () => {
  const closed = await refused(() =>
    Promise.resolve(encodePacket({
      type: "message",
      message: {
        id: new Uint8Array(16),
        flags: MESSAGE_FLAG_NOT_BOTTLE,
        recipient: "@/time",
        sender: "/q",
        body: new Uint8Array(),
      },
    }))
  );
  assert.deepEqual(closed, { code: 1008, reason: "handshake first" });
});

Deno.test("a connection that never answers is closed at the handshake deadline", async () => {
  const relay = startRelay({ handshakeTimeoutMs: 50 });
  const peer = await RawPeer.open(relay.url);
  try {
    assert.deepEqual(await peer.closedSoon(), { code: 1008, reason: "handshake timeout" });
    assert.equal(relay.server.spot.connectionCount, 0);
  } finally {
    await relay.close();
  }
});

/** A membership of `subject` in the group of `group`, signed by the group key. */
async function membership(group: PrivateKey, subject: Uint8Array): Promise<Uint8Array> {
  const fields = (signature: Uint8Array | null) =>
    new Map<number, unknown>([
      [1, subject],
      [2, group.publicKey.pkix],
      [3, "valid"],
      [4, 1765704963],
      [5, { role: "member" }],
      [6, group.publicKey.pkix],
      [7, signature],
    ]);
  return encode(fields(await sign(group, encode(fields(null)))));
}

Deno.test("offered group memberships come in a second challenge and the re-signed card lists the member", async () => {
  const relay = startRelay();
  const group = await PrivateKey.generate("p256");
  const member = await makeIdentity();
  relay.server.spot.offerGroups(member.card.address, [
    await membership(group, member.card.self),
  ]);
  const peer = await RawPeer.open(relay.url);
  const asker = await RawPeer.connect(relay.url);
  try {
    const challenges: (Uint8Array[] | null)[] = [];
    await peer.handshake(member, async (raw, identity) => {
      const packet = decodePacket(raw, "client");
      if (packet.type === "handshake_request") challenges.push(packet.request.groups);
      return await honestAnswer(raw, identity);
    });
    assert.equal(challenges.length, 2);
    assert.equal(challenges[0], null);
    assert.equal(challenges[1]?.length, 1);
    assert.equal(member.card.groups.length, 1);
    const answer = await asker.system("group_list", group.publicKey.pkix);
    assert.deepEqual(parseGroupList(answer.body), [member.card.address]);
    // The offer was used up: the next connection of the same card gets one challenge
    const again = await RawPeer.open(relay.url);
    let rounds = 0;
    await again.handshake(member, (raw, identity) => {
      rounds++;
      return honestAnswer(raw, identity);
    });
    assert.equal(rounds, 1);
    await again.close();
  } finally {
    await peer.close();
    await asker.close();
    await relay.close();
  }
});

Deno.test("a g.<hash> message reaches the online members of the group but its sender", async () => {
  const relay = startRelay();
  const group = await PrivateKey.generate("p256");
  const members = [await makeIdentity(), await makeIdentity()];
  for (const member of members) {
    relay.server.spot.offerGroups(member.card.address, [await membership(group, member.card.self)]);
  }
  const [first, second] = await Promise.all(
    members.map((member) => RawPeer.connect(relay.url, member)),
  );
  const outsider = await RawPeer.connect(relay.url);
  try {
    const target = `g.${base64urlnopad.encode(sha256(group.publicKey.pkix))}/news`;
    outsider.send({
      flags: MESSAGE_FLAG_NOT_BOTTLE,
      recipient: target,
      sender: "/n",
      body: new Uint8Array([1]),
    });
    for (const member of [first, second]) {
      const got = await member.nextMessage();
      assert.equal(got.recipient, target);
      assert.equal(got.sender, `${outsider.address}/n`);
    }
    first.send({
      flags: MESSAGE_FLAG_NOT_BOTTLE,
      recipient: target,
      sender: "/m",
      body: new Uint8Array([2]),
    });
    assert.equal((await second.nextMessage()).sender, `${first.address}/m`);
    // The sender is left out: its next packet is the pong of its own ping
    first.socket.send(new Uint8Array([0x00, 3]));
    assert.deepEqual(await first.nextRaw(), new Uint8Array([0x00, 3]));
  } finally {
    await first.close();
    await second.close();
    await outsider.close();
    await relay.close();
  }
});

Deno.test("an Ed25519 card key passes the handshake like a P-256 one", async () => {
  const relay = startRelay();
  const key = await PrivateKey.generate("ed25519");
  const card = IDCard.create(key);
  const peer = await RawPeer.connect(relay.url, { key, card, signed: await card.sign(key) });
  try {
    assert.equal((await peer.system("time")).body.length, 12);
  } finally {
    await peer.close();
    await relay.close();
  }
});
