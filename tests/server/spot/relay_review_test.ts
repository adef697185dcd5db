import assert from "node:assert/strict";
import { decode, encode } from "cborg";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { Bottle } from "../../../src/spot/bottle/mod.ts";
import { PrivateKey, sign } from "../../../src/spot/crypto/mod.ts";
import {
  encodePacket,
  MESSAGE_FLAG_ERROR,
  MESSAGE_FLAG_NOT_BOTTLE,
  parseGroupList,
} from "../../../src/spot/proto/mod.ts";
import { type Identity, makeIdentity, RawPeer, startRelay, text } from "./_peer.ts";

/** A bottle's bytes with its one signature repeated: each copy costs the opener a verification. */
function withSignatures(bottle: Uint8Array, count: number): Uint8Array {
  const parts = decode(bottle) as unknown[];
  const [signature] = parts[4] as unknown[];
  parts[4] = Array.from({ length: count }, () => signature);
  return encode(parts);
}
/** A card that claims a group it was never signed into: the membership's signature is the forger's own. */
async function forgedMember(group: PrivateKey): Promise<Identity> {
  const identity = await makeIdentity();
  identity.card.groups.push({
    subject: null,
    key: group.publicKey.pkix,
    status: "valid",
    issued: new Date(1765704963_000),
    info: null,
    signKey: group.publicKey.pkix,
    signature: new Uint8Array(64),
  });
  return { ...identity, signed: await identity.card.sign(identity.key) };
}

Deno.test("a card that lists a group without the group's signature is neither listed nor sent the group's messages", async () => {
  const relay = startRelay();
  const group = await PrivateKey.generate("p256");
  const forger = await RawPeer.connect(relay.url, await forgedMember(group));
  const asker = await RawPeer.connect(relay.url);
  try {
    const list = await asker.system("group_list", group.publicKey.pkix);
    assert.deepEqual(parseGroupList(list.body), []);
    const target = `g.${base64urlnopad.encode(sha256(group.publicKey.pkix))}/news`;
    asker.send({
      flags: MESSAGE_FLAG_NOT_BOTTLE,
      recipient: target,
      sender: "/n",
      body: new Uint8Array([1]),
    });
    const answer = await asker.nextMessage();
    assert.equal(answer.flags & MESSAGE_FLAG_ERROR, MESSAGE_FLAG_ERROR);
    assert.match(text(answer.body), /is not connected/);
    // Nothing reached the forger: its next packet is the pong of its own ping
    forger.socket.send(new Uint8Array([0x00, 9]));
    assert.deepEqual(await forger.nextRaw(), new Uint8Array([0x00, 9]));
  } finally {
    await forger.close();
    await asker.close();
    await relay.close();
  }
});

Deno.test("a handshake card carrying thousands of signatures is refused before any is verified", async () => {
  const relay = startRelay();
  const peer = await RawPeer.open(relay.url);
  try {
    const identity = await makeIdentity();
    const card = withSignatures(identity.signed, 4_000);
    const raw = await peer.nextRaw();
    peer.socket.send(encodePacket({
      type: "handshake_response",
      response: {
        id: card,
        key: identity.key.publicKey.pkix,
        sig: await sign(identity.key, raw.subarray(1)),
      },
    }));
    assert.deepEqual(await peer.closedSoon(), {
      code: 1008,
      reason: "handshake ID card has too many signatures",
    });
  } finally {
    await peer.close();
    await relay.close();
  }
});

Deno.test("a system request carrying thousands of signatures gets an error answer", async () => {
  const relay = startRelay();
  const peer = await RawPeer.connect(relay.url);
  try {
    const bottle = await new Bottle(new Uint8Array()).sign(peer.identity!.key);
    peer.send({
      flags: 0,
      recipient: "@/time",
      sender: "/t",
      body: withSignatures(bottle.encode(), 4_000),
    });
    const answer = await peer.nextMessage();
    assert.equal(answer.flags & MESSAGE_FLAG_ERROR, MESSAGE_FLAG_ERROR);
    assert.equal(text(answer.body), "request body has more than 8 signatures");
    // Within the limit the request is answered as before
    const fine = await new Bottle(new Uint8Array()).sign(peer.identity!.key);
    peer.send({
      flags: 0,
      recipient: "@/time",
      sender: "/t",
      body: withSignatures(fine.encode(), 8),
    });
    assert.equal((await peer.nextMessage()).flags & MESSAGE_FLAG_ERROR, 0);
  } finally {
    await peer.close();
    await relay.close();
  }
});
