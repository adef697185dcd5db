import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { SqliteStore } from "../../../src/server/sqlite/mod.ts";
import { Bottle, IDCard, openBottle } from "../../../src/spot/bottle/mod.ts";
import {
  encodeFetchBlobBody,
  encodeStoreBlobBody,
  MESSAGE_FLAG_ERROR,
  MESSAGE_FLAG_NOT_BOTTLE,
  MESSAGE_FLAG_RESPONSE,
  parseTimeAnswer,
} from "../../../src/spot/proto/mod.ts";
import { makeIdentity, RawPeer, startRelay, text } from "./_peer.ts";

const OK = MESSAGE_FLAG_RESPONSE | MESSAGE_FLAG_NOT_BOTTLE;
const FAILED = OK | MESSAGE_FLAG_ERROR;

Deno.test("@/time answers 12 bytes of the relay's clock", async () => {
  const relay = startRelay({ now: () => 1_700_000_000_250 });
  const peer = await RawPeer.connect(relay.url);
  try {
    const answer = await peer.system("time");
    assert.equal(answer.flags, OK);
    assert.equal(answer.body.length, 12);
    assert.equal(answer.recipient, `${peer.address}/q1`);
    const time = parseTimeAnswer(answer.body);
    assert.equal(time.seconds, 1_700_000_000);
    assert.equal(time.nanoseconds, 250_000_000);
  } finally {
    await peer.close();
    await relay.close();
  }
});

Deno.test("a system query in a signed bottle, as spotlib sends it, is answered", async () => {
  const relay = startRelay();
  const alice = await RawPeer.connect(relay.url);
  const bob = await RawPeer.connect(relay.url);
  try {
    const answer = await alice.systemBottled("idcard_find", sha256(bob.identity!.card.self));
    assert.equal(answer.flags, OK);
    assert.equal(answer.recipient, `${alice.address}/q2`);
    const card = await IDCard.load(answer.body);
    assert.equal(card.address, bob.address);
  } finally {
    await alice.close();
    await bob.close();
    await relay.close();
  }
});

Deno.test("@/idcard_find refuses unknown cards and hashes of the wrong length", async () => {
  const relay = startRelay();
  const peer = await RawPeer.connect(relay.url);
  try {
    const stranger = await makeIdentity();
    const missing = await peer.system("idcard_find", sha256(stranger.card.self));
    assert.equal(missing.flags, FAILED);
    assert.equal(text(missing.body), "ID card not found");
    const short = await peer.system("idcard_find", new Uint8Array(31));
    assert.equal(short.flags, FAILED);
    assert.match(text(short.body), /32-byte key hash, got 31 bytes/);
    const unknown = await peer.system("no_such_thing");
    assert.equal(text(unknown.body), 'unknown system endpoint "no_such_thing"');
  } finally {
    await peer.close();
    await relay.close();
  }
});

Deno.test("whoever found a card is told with idcard_update when its holder comes back with a new card", async () => {
  const relay = startRelay();
  const alice = await RawPeer.connect(relay.url);
  const bobIdentity = await makeIdentity();
  const bob = await RawPeer.connect(relay.url, bobIdentity);
  try {
    await alice.system("idcard_find", sha256(bobIdentity.card.self));
    await bob.close();
    bobIdentity.card.meta.name = "Bob again";
    const resigned = await bobIdentity.card.sign(bobIdentity.key);
    const back = await RawPeer.connect(relay.url, { ...bobIdentity, signed: resigned });
    const update = await alice.nextMessage();
    assert.equal(update.flags, MESSAGE_FLAG_NOT_BOTTLE);
    assert.equal(update.recipient, `${alice.address}/idcard_update`);
    assert.equal(update.sender, "@/idcard_update");
    assert.equal((await IDCard.load(update.body)).meta.name, "Bob again");
    await back.close();
  } finally {
    await alice.close();
    await relay.close();
  }
});

Deno.test("a blob is stored, fetched, replaced and deleted by its owner only", async () => {
  const relay = startRelay();
  const alice = await RawPeer.connect(relay.url);
  const bob = await RawPeer.connect(relay.url);
  try {
    const sealed = (await (await new Bottle("secret settings").encrypt(alice.identity!.card))
      .bottleUp().sign(alice.identity!.key)).encode();
    const stored = await alice.systemBottled("store_blob", encodeStoreBlobBody("cfg", sealed));
    assert.equal(stored.flags, OK);
    assert.equal(stored.body.length, 0);
    const fetched = await alice.system("fetch_blob", encodeFetchBlobBody("cfg"));
    assert.deepEqual(fetched.body, sealed);
    const opened = await openBottle(fetched.body, {
      keys: [alice.identity!.key],
      idcards: [alice.identity!.card],
    });
    assert.equal(text(opened.message), "secret settings");
    // Bob's key has its own namespace
    const other = await bob.system("fetch_blob", encodeFetchBlobBody("cfg"));
    assert.equal(other.flags, FAILED);
    assert.equal(text(other.body), "blob not found");
    await alice.system("store_blob", encodeStoreBlobBody("cfg", new Uint8Array([7])));
    assert.deepEqual(
      (await alice.system("fetch_blob", encodeFetchBlobBody("cfg"))).body,
      new Uint8Array([7]),
    );
    // An empty value deletes
    const deleted = await alice.system("store_blob", encodeStoreBlobBody("cfg", null));
    assert.equal(deleted.flags, OK);
    assert.equal((await alice.system("fetch_blob", encodeFetchBlobBody("cfg"))).flags, FAILED);
  } finally {
    await alice.close();
    await bob.close();
    await relay.close();
  }
});

Deno.test("blobs past the size limit or the owner's quota are refused with an error", async () => {
  const relay = startRelay({ maxOwnerBytes: 60_000 });
  const peer = await RawPeer.connect(relay.url);
  try {
    const big = await peer.system("store_blob", encodeStoreBlobBody("a", new Uint8Array(49_153)));
    assert.equal(big.flags, FAILED);
    assert.equal(text(big.body), "blob of 49153 bytes is over the limit of 49152 bytes");
    const first = await peer.system("store_blob", encodeStoreBlobBody("a", new Uint8Array(49_152)));
    assert.equal(first.flags, OK);
    const second = await peer.system(
      "store_blob",
      encodeStoreBlobBody("b", new Uint8Array(20_000)),
    );
    assert.equal(second.flags, FAILED);
    assert.equal(text(second.body), "blob storage quota exceeded");
    const noKey = await peer.system("store_blob", new Uint8Array([1, 2, 3]));
    assert.equal(noKey.flags, FAILED);
  } finally {
    await peer.close();
    await relay.close();
  }
});

Deno.test("a blob in the SQLite store survives a relay restart", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/spot.db`;
  const identity = await makeIdentity();
  try {
    const first = startRelay({}, new SqliteStore(path));
    const writer = await RawPeer.connect(first.url, identity);
    assert.equal(
      (await writer.system("store_blob", encodeStoreBlobBody("k", new Uint8Array([4, 2])))).flags,
      OK,
    );
    await writer.close();
    await first.close();

    const second = startRelay({}, new SqliteStore(path));
    const reader = await RawPeer.connect(second.url, identity);
    const fetched = await reader.system("fetch_blob", encodeFetchBlobBody("k"));
    assert.equal(fetched.flags, OK);
    assert.deepEqual(fetched.body, new Uint8Array([4, 2]));
    await reader.close();
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a system request whose bottle does not open gets an error, not a crash", async () => {
  const relay = startRelay();
  const peer = await RawPeer.connect(relay.url);
  try {
    peer.send({ flags: 0, recipient: "@/time", sender: "/q", body: new Uint8Array([0x85, 0xff]) });
    const answer = await peer.nextMessage();
    assert.equal(answer.flags, FAILED);
    assert.equal(text(answer.body), "request body is not a bottle the relay can open");
    // Still connected: the next query works
    assert.equal((await peer.system("time")).flags, OK);
  } finally {
    await peer.close();
    await relay.close();
  }
});
