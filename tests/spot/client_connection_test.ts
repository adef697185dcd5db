import assert from "node:assert/strict";
import { TimeoutError } from "../../src/core/errors.ts";
import { MemoryStorage } from "../../src/core/storage.ts";
import { encodeCbor } from "../../src/spot/bottle/_cbor.ts";
import { writeMembership } from "../../src/spot/bottle/_idcard_codec.ts";
import { IDCard } from "../../src/spot/bottle/mod.ts";
import { SpotClient } from "../../src/spot/client.ts";
import { PrivateKey, sign } from "../../src/spot/crypto/mod.ts";
import { SpotClientStateError } from "../../src/spot/errors.ts";
import { SpotProtocolError } from "../../src/spot/proto/mod.ts";
import { clientOptions, FakeRelay, onlineClients } from "./_fake_relay.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("the handshake signs the relay's challenge with the IDCard's key and goes online", async () => {
  const relay = new FakeRelay();
  const client = new SpotClient(clientOptions(relay));
  try {
    assert.throws(() => client.address, SpotClientStateError, "no address before the key loads");
    await client.waitOnline();
    assert.deepEqual(client.connectionCount(), { total: 1, online: 1 });
    const socket = relay.online[0];
    assert.equal(socket.address, client.address, "the relay verified the signature and the card");
    assert.equal(socket.url, "ws://relay.test/_websocket");
    const card = await IDCard.load(relay.cards.get(client.address)!);
    assert.deepEqual(card.subKeys[0].purposes, ["decrypt", "ephemeral", "sign"]);
  } finally {
    client.close();
  }
});

Deno.test("minConnections keeps that many connections to the explicit url", async () => {
  const relay = new FakeRelay();
  const client = new SpotClient(clientOptions(relay, { minConnections: 3 }));
  try {
    await client.waitOnline();
    while (client.connectionCount().online < 3) await new Promise((r) => setTimeout(r, 1));
    assert.deepEqual(client.connectionCount(), { total: 3, online: 3 });
    assert.equal(new Set(relay.online.map((socket) => socket.clientId)).size, 3);
  } finally {
    client.close();
  }
  assert.deepEqual(client.connectionCount(), { total: 0, online: 0 });
});

Deno.test("groups announced in the handshake are added to the card, which is re-signed", async () => {
  const relay = new FakeRelay();
  const groupKey = await PrivateKey.generate("p256");
  const key = await PrivateKey.generate("p256");
  const membership = {
    subject: key.publicKey.pkix,
    key: groupKey.publicKey.pkix,
    status: "valid",
    issued: new Date(Date.parse("2026-11-25T00:00:00Z")),
    info: { role: "member" },
    signKey: groupKey.publicKey.pkix,
    signature: null,
  };
  const signature = await sign(groupKey, encodeCbor(writeMembership(membership, null)));
  relay.behaviour.groups = [encodeCbor(writeMembership(membership, signature))];
  const client = new SpotClient(clientOptions(relay, { key }));
  try {
    await client.waitOnline();
    const card = await IDCard.load(relay.cards.get(client.address)!);
    assert.equal(card.groups.length, 1, "the relay got the re-signed card");
    assert.deepEqual(card.groups[0].key, groupKey.publicKey.pkix);
    assert.deepEqual({ ...card.groups[0].info }, { role: "member" });
    assert.ok(!card.hasPurpose(key.publicKey, "ephemeral"), "a given key is not ephemeral");
  } finally {
    client.close();
  }
});

Deno.test("a dropped connection reconnects and a query in flight is sent again and answered", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  try {
    bob.setHandler("echo", (message) => message.body);
    await alice.getIDCard(bob.address);
    let swallowed = 0;
    relay.behaviour.intercept = (_from, message) => {
      if (message.recipient !== `${bob.address}/echo` || swallowed > 0) return false;
      swallowed++;
      // The query is lost with the connection it went out on
      queueMicrotask(() => {
        for (const socket of relay.online) if (socket.address === alice.address) socket.drop();
      });
      return true;
    };
    const dialsBefore = relay.dials;
    const answer = await alice.query(`${bob.address}/echo`, "again");
    assert.equal(text(answer), "again");
    assert.equal(swallowed, 1);
    assert.ok(relay.dials >= dialsBefore + 1, "alice reconnected");
    assert.equal(
      relay.routed.filter((entry) => entry.message.recipient === `${bob.address}/echo`).length,
      2,
      "the same query went out twice",
    );
    assert.equal(alice.connectionCount().online, 1);
  } finally {
    alice.close();
    bob.close();
  }
});

Deno.test("queries wait while offline and are sent once a connection is back", async () => {
  const relay = new FakeRelay();
  const [client] = await onlineClients(relay, 1);
  try {
    relay.behaviour.refuse = true;
    relay.dropAll();
    while (client.connectionCount().online > 0) await new Promise((r) => setTimeout(r, 1));
    const pending = client.getTime();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(relay.systemCalls("time").length, 0, "nothing sent while offline");
    relay.behaviour.refuse = false;
    const time = await pending;
    assert.equal(time.epochMilliseconds, relay.now);
    assert.ok(client.lastError !== undefined, "the refused attempts are reported");
  } finally {
    client.close();
  }
});

Deno.test("close fails queries in flight with SpotClientStateError and later calls too", async () => {
  const relay = new FakeRelay();
  const [alice, bob] = await onlineClients(relay, 2);
  bob.setHandler("silent", () => null);
  const pending = alice.query(`${bob.address}/silent`, "x");
  await new Promise((r) => setTimeout(r, 10));
  alice.close();
  const error = await pending.catch((e) => e);
  assert.ok(error instanceof SpotClientStateError);
  assert.equal(error.code, "closed");
  await assert.rejects(alice.getTime(), SpotClientStateError);
  await assert.rejects(alice.waitOnline(), SpotClientStateError);
  bob.close();
});

Deno.test("waitOnline fails with TimeoutError when the relay refuses every connection", async () => {
  const relay = new FakeRelay();
  relay.behaviour.refuse = true;
  const client = new SpotClient(clientOptions(relay));
  try {
    const error = await client.waitOnline({ timeoutMs: 40 }).catch((e) => e);
    assert.ok(error instanceof TimeoutError);
    assert.ok(relay.dials >= 2, "it kept trying with backoff");
    assert.deepEqual(client.connectionCount(), { total: 1, online: 0 });
  } finally {
    client.close();
  }
});

Deno.test("discovery GETs Spot:connect and dials every host answered", async () => {
  const relay = new FakeRelay();
  const asked: string[] = [];
  let failures = 1;
  const fetch: typeof globalThis.fetch = (input) => {
    asked.push(String(input));
    if (failures-- > 0) return Promise.resolve(new Response("busy", { status: 503 }));
    return Promise.resolve(Response.json({
      result: "success",
      data: { hosts: ["relay-a.test:8080", "relay-b.test"], min_conn: 2 },
    }));
  };
  const client = new SpotClient(
    clientOptions(relay, { url: undefined, endpoint: "http://spot.test", fetch }),
  );
  try {
    await client.waitOnline();
    while (client.connectionCount().online < 2) await new Promise((r) => setTimeout(r, 1));
    assert.deepEqual(asked, [
      "http://spot.test/_special/rest/Spot:connect",
      "http://spot.test/_special/rest/Spot:connect",
    ], "retried after the 503");
    assert.deepEqual(relay.sockets.map((socket) => socket.url).sort(), [
      "ws://relay-a.test:8080/_websocket",
      "ws://relay-b.test/_websocket",
    ]);
  } finally {
    client.close();
  }
});

Deno.test("a discovery answer without hosts is reported as SpotProtocolError", async () => {
  const relay = new FakeRelay();
  const fetch: typeof globalThis.fetch = () =>
    Promise.resolve(Response.json({ data: { hosts: [] } }));
  const client = new SpotClient(
    clientOptions(relay, { url: undefined, endpoint: "https://spot.test", fetch }),
  );
  try {
    await assert.rejects(client.waitOnline({ timeoutMs: 30 }), TimeoutError);
    assert.ok(client.lastError instanceof SpotProtocolError);
    assert.equal(relay.dials, 0);
  } finally {
    client.close();
  }
});

Deno.test("a storage keeps the key across restarts as PKCS#8; without one each client is new", async () => {
  const relay = new FakeRelay();
  const storage = new MemoryStorage();
  const first = new SpotClient(clientOptions(relay, { storage }));
  await first.ready();
  const address = first.address;
  first.close();
  const pem = await storage.get("edgewire:spot:key");
  assert.match(pem!, /^-----BEGIN PRIVATE KEY-----/);
  const second = new SpotClient(clientOptions(relay, { storage }));
  await second.ready();
  assert.equal(second.address, address);
  assert.ok(!second.idCard.hasPurpose(second.idCard.self, "ephemeral"));
  second.close();
  const third = new SpotClient(clientOptions(relay));
  await third.ready();
  assert.notEqual(third.address, address);
  third.close();
});

Deno.test("bad options are refused at construction", () => {
  assert.throws(
    () => new SpotClient({ url: "http://relay.test/" }),
    /'url' must be an absolute ws or wss URL/,
  );
  assert.throws(() => new SpotClient({ minConnections: 0 }), /'minConnections'/);
  assert.throws(() => new SpotClient({ timeoutMs: -1 }), /'timeoutMs'/);
  assert.throws(() => new SpotClient({ backoff: { initialMs: 10, maxMs: 5 } }), /'backoff.maxMs'/);
});

Deno.test("a new challenge after the handshake is answered again, and bad memberships are ignored", async () => {
  const relay = new FakeRelay();
  relay.behaviour.groups = [new Uint8Array([0xa0])];
  const client = new SpotClient(clientOptions(relay));
  try {
    await client.waitOnline();
    assert.equal(client.idCard.groups.length, 0, "a membership that does not parse is left out");
    const socket = relay.online[0];
    assert.equal(socket.responses, 1);
    relay.challenge(socket);
    for (let i = 0; i < 100 && socket.responses < 2; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(socket.responses, 2);
    assert.equal(socket.readyState, 1, "the second signature verified too");
    assert.equal((await client.getTime()).epochMilliseconds, relay.now);
    assert.equal(relay.dials, 1, "no reconnection was needed");
  } finally {
    client.close();
  }
});
