import assert from "node:assert/strict";
import { AbortedError, TimeoutError } from "../../src/core/errors.ts";
import { Bottle, IDCard } from "../../src/spot/bottle/mod.ts";
import { PrivateKey } from "../../src/spot/crypto/mod.ts";
import { SpotMessageError, SpotRemoteError } from "../../src/spot/errors.ts";
import {
  MESSAGE_FLAG_NOT_BOTTLE,
  MESSAGE_FLAG_RESPONSE,
  routingSegment,
} from "../../src/spot/proto/mod.ts";
import { FakeRelay, onlineClients } from "./_fake_relay.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("a query to a peer is encrypted to its card, signed, and answered encrypted", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    bob.setHandler("greet", (message) => {
      assert.equal(message.encrypted, true);
      assert.equal(message.sender.split("/")[0], alice.address);
      assert.equal(message.senderCard?.address, alice.address);
      return `hello ${text(message.body)}`;
    });
    const answer = await alice.query(`${bob.address}/greet`, "alice");
    assert.equal(text(answer), "hello alice");

    const query = relay.routed.find((entry) => entry.message.recipient === `${bob.address}/greet`)!;
    const outer = Bottle.decode(query.message.body);
    assert.equal(outer.format, 1, "bottled up after encryption");
    assert.equal(outer.signatures.length, 1, "signed by the sender");
    const inner = Bottle.decode(outer.message);
    assert.equal(inner.format, 2, "encrypted");
    assert.equal(inner.recipients.length, 1);
    assert.ok(!text(query.message.body).includes("alice"), "the relay cannot read the body");

    const reply = relay.routed.find((entry) =>
      entry.from === bob.address && entry.message.recipient === query.message.sender
    )!;
    assert.equal(reply.message.flags, MESSAGE_FLAG_RESPONSE);
    assert.deepEqual(reply.message.id, query.message.id, "the answer keeps the message id");
    assert.equal(reply.message.recipient, query.message.sender);
    assert.equal(reply.message.sender, `${bob.address}/noreply`);
    assert.equal(Bottle.decode(reply.message.body).signatures.length, 1);
    assert.equal(routingSegment(reply.message.recipient)?.length, 36, "routed by the query's uuid");
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("a handler that throws answers an error the querier gets as SpotRemoteError", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    bob.setHandler("fail", () => {
      throw new Error("no coffee left");
    });
    const error = await alice.query(`${bob.address}/fail`, "x").catch((e) => e);
    assert.ok(error instanceof SpotRemoteError);
    assert.equal(error.remoteMessage, "no coffee left");
    assert.equal(error.target, `${bob.address}/fail`);
    const reply = relay.routed.find((entry) =>
      entry.from === bob.address && entry.message.recipient.startsWith(alice.address)
    )!;
    assert.equal(reply.message.flags, 3, "response and error");
    assert.equal(Bottle.decode(reply.message.body).format, 1, "the error text is bottled too");
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("a query nobody answers fails with TimeoutError, and an aborted one with AbortedError", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    bob.setHandler("silent", () => null);
    const timedOut = await alice.query(`${bob.address}/silent`, "x", { timeoutMs: 50 })
      .catch((e) => e);
    assert.ok(timedOut instanceof TimeoutError);
    assert.equal(timedOut.timeoutMs, 50);

    const controller = new AbortController();
    const pending = alice.query(`${bob.address}/silent`, "x", { signal: controller.signal });
    controller.abort();
    assert.ok((await pending.catch((e) => e)) instanceof AbortedError);
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("an unencrypted answer to a peer query is refused with SpotMessageError", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    relay.behaviour.intercept = (_from, message) => {
      if (message.recipient !== `${bob.address}/greet`) return false;
      relay.inject(alice.address, {
        id: message.id,
        flags: MESSAGE_FLAG_RESPONSE | MESSAGE_FLAG_NOT_BOTTLE,
        recipient: message.sender,
        sender: `${bob.address}/noreply`,
        body: new TextEncoder().encode("forged"),
      });
      return true;
    };
    const error = await alice.query(`${bob.address}/greet`, "x").catch((e) => e);
    assert.ok(error instanceof SpotMessageError);
    assert.equal(error.code, "not_encrypted");
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("a query to a key the relay does not know fails with the relay's error", async () => {
  const relay = new FakeRelay();
  const [alice] = await onlineClients(relay, 1);
  try {
    const unknown = `k.${"A".repeat(43)}/greet`;
    const error = await alice.query(unknown, "x").catch((e) => e);
    assert.ok(error instanceof SpotRemoteError);
    assert.equal(error.remoteMessage, "idcard not found");
    assert.equal(error.target, "@/idcard_find");
  } finally {
    alice.close();
  }
});

Deno.test("a query to a peer that is not connected fails with the relay's error", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    await alice.getIDCard(bob.address);
    bob.close();
    while (relay.online.length > 1) await new Promise((r) => setTimeout(r, 1));
    const error = await alice.query(`${bob.address}/greet`, "x").catch((e) => e);
    assert.ok(error instanceof SpotRemoteError);
    assert.equal(error.remoteMessage, "peer not connected");
  } finally {
    alice.close();
  }
});

Deno.test("the default handlers answer ping, version and finger", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    const long = new Uint8Array(300).map((_, index) => index);
    const echoed = await alice.query(`${bob.address}/ping`, long);
    assert.deepEqual(echoed, long.slice(0, 128), "ping echoes at most 128 bytes");
    assert.match(text(await alice.query(`${bob.address}/version`)), /^edgewire spot, deno /);
    const card = await IDCard.load(await alice.query(`${bob.address}/finger`));
    assert.equal(card.address, bob.address);
    assert.ok(card.hasPurpose(card.self, "ephemeral"), "an ephemeral key says so");
    bob.setHandler("ping", null);
    await assert.rejects(alice.query(`${bob.address}/ping`, "x", { timeoutMs: 50 }), TimeoutError);
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("sendTo delivers an encrypted message without waiting for an answer", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    const got = Promise.withResolvers<string>();
    bob.setHandler("inbox", (message) => {
      got.resolve(`${text(message.body)} from ${message.sender}`);
      return "ignored";
    });
    await alice.sendTo(`${bob.address}/inbox`, "note", { from: "/outbox" });
    assert.equal(await got.promise, `note from ${alice.address}/outbox`);
    await assert.rejects(alice.sendTo("@/time", "x"), /k\.<hash>/);
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("an incoming message not encrypted, or not signed by its sender's card, is dropped", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    const seen: string[] = [];
    bob.setHandler("inbox", (message) => {
      seen.push(text(message.body));
      return null;
    });
    const mallory = await PrivateKey.generate("p256");
    const signedOnly = (await new Bottle("signed only").sign(mallory)).encode();
    const forged = await (await new Bottle("forged").encrypt(await bob.getIDCard(bob.address)))
      .bottleUp().sign(mallory);
    for (const body of [signedOnly, forged.encode()]) {
      relay.inject(bob.address, {
        id: crypto.getRandomValues(new Uint8Array(16)),
        flags: 0,
        recipient: `${bob.address}/inbox`,
        sender: `${alice.address}/x`,
        body,
      });
    }
    await alice.sendTo(`${bob.address}/inbox`, "genuine");
    const settled = () => seen.length > 0 && bob.lastError instanceof SpotMessageError;
    for (let i = 0; i < 500 && !settled(); i++) await new Promise((r) => setTimeout(r, 2));
    assert.deepEqual(seen, ["genuine"]);
    assert.ok(bob.lastError instanceof SpotMessageError);
  } finally {
    alice.close();
    bob.close();
  }
});
