import assert from "node:assert/strict";
import { TimeoutError } from "../../src/core/errors.ts";
import { Bottle, IDCard } from "../../src/spot/bottle/mod.ts";
import { SpotClient } from "../../src/spot/client.ts";
import { PrivateKey } from "../../src/spot/crypto/mod.ts";
import { SpotClientStateError, SpotMessageError, SpotRemoteError } from "../../src/spot/errors.ts";
import { MESSAGE_FLAG_NOT_BOTTLE } from "../../src/spot/proto/mod.ts";
import { base64urlnopad } from "@scure/base";
import { clientOptions, FakeRelay, onlineClients, toHex } from "./_fake_relay.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("a blob is stored encrypted to its owner, read back, and deleted", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    await alice.storeBlob("settings", "secret value");
    const stored = relay.blobs.get(`${alice.address}\0settings`)!;
    assert.ok(!text(stored).includes("secret value"), "the relay holds ciphertext");
    const outer = Bottle.decode(stored);
    assert.equal(outer.signatures.length, 1);
    assert.equal(Bottle.decode(outer.message).format, 2);
    assert.equal(text(await alice.fetchBlob("settings")), "secret value");

    // Another key's blob under the same name is its own
    await assert.rejects(bob.fetchBlob("settings"), SpotRemoteError);
    // A blob not signed by the owner is refused
    relay.blobs.set(`${bob.address}\0forged`, stored);
    const forged = await bob.fetchBlob("forged").catch((e) => e);
    assert.ok(forged instanceof SpotMessageError);
    assert.equal(forged.code, "unreadable", "bob cannot even decrypt it");

    await alice.deleteBlob("settings");
    assert.equal(relay.blobs.has(`${alice.address}\0settings`), false);
    const gone = await alice.fetchBlob("settings").catch((e) => e);
    assert.ok(gone instanceof SpotRemoteError);
    assert.equal(gone.remoteMessage, "blob not found");
    const big = await alice.storeBlob("big", new Uint8Array(60_000)).catch((e) => e);
    assert.ok(big instanceof SpotRemoteError, "the relay's size limit comes back as its error");
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("getIDCard asks the relay once, then answers from the bounded cache", async () => {
  const relay = new FakeRelay();
  const [alice, bob, carol] = await onlineClients(relay, 3, { maxCachedIDCards: 1 });
  try {
    const card = await alice.getIDCard(bob.address);
    assert.equal(card.address, bob.address);
    const hash = base64urlnopad.decode(bob.address.slice(2));
    assert.equal(await alice.getIDCard(hash), card, "the hash finds the cached card");
    assert.equal(await alice.getIDCard(`${bob.address}/any`), card);
    assert.equal(
      relay.systemCalls("idcard_find").filter((e) => e.from === alice.address).length,
      1,
    );
    await alice.getIDCard(carol.address);
    await alice.getIDCard(bob.address);
    assert.equal(
      relay.systemCalls("idcard_find").filter((e) => e.from === alice.address).length,
      3,
      "a cache of one forgot bob when carol came",
    );
    assert.throws(() => alice.getIDCard("@/time"), /'target' must be a k\.<hash> address/);
  } finally {
    alice.close();
    bob.close();
    carol.close();
  }
});

Deno.test("an idcard_update notification replaces the cached card", async () => {
  const relay = new FakeRelay();
  const bobKey = await PrivateKey.generate("p256");
  const [alice] = await onlineClients(relay, 1);
  const bob = new SpotClient(clientOptions(relay, { key: bobKey, meta: { name: "bob" } }));
  await bob.waitOnline();
  try {
    assert.equal((await alice.getIDCard(bob.address)).meta.name, "bob");
    bob.close();
    const renamed = new SpotClient(clientOptions(relay, { key: bobKey, meta: { name: "robert" } }));
    await renamed.waitOnline();
    // The relay notified alice, who subscribed with idcard_find
    for (let i = 0; i < 50 && (await alice.getIDCard(bob.address)).meta.name !== "robert"; i++) {
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal((await alice.getIDCard(bob.address)).meta.name, "robert");
    assert.equal(
      relay.systemCalls("idcard_find").filter((e) => e.from === alice.address).length,
      1,
    );
    // A card that is not self-signed is not taken
    const other = await PrivateKey.generate("p256");
    const fake = IDCard.create(other);
    relay.inject(alice.address, {
      id: new Uint8Array(16),
      flags: MESSAGE_FLAG_NOT_BOTTLE,
      recipient: `${alice.address}/idcard_update`,
      sender: "@/idcard_find",
      body: new Bottle(fake.encode(), { header: { ct: "idcard" } }).bottleUp().encode(),
    });
    await new Promise((r) => setTimeout(r, 10));
    assert.equal((await alice.getIDCard(bob.address)).meta.name, "robert");
    renamed.close();
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("getTime and getGroupMembers read the relay's answers", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    const time = await alice.getTime();
    assert.deepEqual(time, {
      seconds: Math.floor(relay.now / 1000),
      nanoseconds: 250_000_000,
      epochMilliseconds: relay.now,
    });
    const group = new Uint8Array([1, 2, 3]);
    relay.groups.set(toHex(group), [
      base64urlnopad.decode(alice.address.slice(2)),
      base64urlnopad.decode(bob.address.slice(2)),
    ]);
    assert.deepEqual(await alice.getGroupMembers(group), [alice.address, bob.address]);
    assert.deepEqual(await alice.getGroupMembers(new Uint8Array([9])), []);
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("a packet connection reads encrypted packets and writes back to their sender", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    const server = bob.listenPacket("chat");
    const client = alice.listenPacket("chat-client");
    assert.equal(server.localAddress, `${bob.address}/chat`);
    assert.equal(await client.writeTo(new TextEncoder().encode("ping 1"), server.localAddress), 6);
    const first = await server.readFrom({ timeoutMs: 2000 });
    assert.equal(text(first.data), "ping 1");
    assert.equal(first.from, `${alice.address}/chat-client`);
    await server.writeTo(new TextEncoder().encode("pong 1"), first.from);
    const back = await client.readFrom({ timeoutMs: 2000 });
    assert.equal(text(back.data), "pong 1");
    assert.equal(back.from, `${bob.address}/chat`);

    // An unencrypted packet is refused
    relay.inject(bob.address, {
      id: new Uint8Array(16),
      flags: MESSAGE_FLAG_NOT_BOTTLE,
      recipient: `${bob.address}/chat`,
      sender: `${alice.address}/x`,
      body: new TextEncoder().encode("plain"),
    });
    await assert.rejects(server.readFrom({ timeoutMs: 30 }), TimeoutError);

    const waiting = server.readFrom();
    server.close();
    const closed = await waiting.catch((e) => e);
    assert.ok(closed instanceof SpotClientStateError);
    await assert.rejects(server.writeTo(new Uint8Array([1]), first.from), SpotClientStateError);
    client.close();
  } finally {
    alice.close();
    bob.close();
  }
});
