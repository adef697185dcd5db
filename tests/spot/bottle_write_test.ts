/**
 * Bottles written here: the bytes Go would write, signatures and encryption
 * that re-open both through `openBottle` and through the independent opener
 * of `_bottle_vectors.ts` (cborg and `@noble/*` only), nesting as the draft
 * and Go order it, JSON bottles, and the injectable random source.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { Bottle, BottleFormats, IDCard, openBottle } from "../../src/spot/bottle/mod.ts";
import { PrivateKey } from "../../src/spot/crypto/mod.ts";
import { KEYS, oracleOpen, PKIX, toHex } from "./_bottle_vectors.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A random source that counts up from a seed, so two runs draw the same bytes. */
function counting(seed: number) {
  let next = seed;
  return (bytes: Uint8Array): Uint8Array => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = next++ & 0xff;
    return bytes;
  };
}

Deno.test("a cleartext bottle encodes as Go writes it: empty header {}, no recipients or signatures as null", () => {
  const bottle = new Bottle("hi");
  // [ {}, h'6869', 0, null, null ]
  assert.equal(toHex(bottle.encode()), "85a04268690" + "0f6f6");
  assert.equal(bottle.format, BottleFormats.ClearText);
  assert.deepEqual({ ...bottle.header }, {});
  assert.deepEqual(Object.values(BottleFormats), [0, 1, 2, 3]);
});

Deno.test("header entries encode with sorted keys and survive a decode", () => {
  const bottle = new Bottle(new Uint8Array([1]), { header: { zz: 1, a: "x" } });
  // {"a": "x", "zz": 1}
  assert.ok(toHex(bottle.encode()).startsWith("85a261616178627a7a01"));
  const again = Bottle.decode(bottle.encode());
  assert.deepEqual({ ...again.header }, { a: "x", zz: 1 });
  again.setHeader("zz", undefined).setHeader("b", true);
  assert.deepEqual({ ...again.header }, { a: "x", b: true });
  assert.throws(() => (again.header as Record<string, unknown>).c = 1, TypeError);
});

Deno.test("bottleUp nests the bottle's CBOR as a format 1 message and clears the rest", async () => {
  const bottle = await new Bottle("inner").sign(KEYS.alice);
  const before = bottle.encode();
  bottle.bottleUp();
  assert.equal(bottle.format, 1);
  assert.deepEqual(bottle.message, before);
  assert.equal(bottle.signatures.length, 0);
  assert.equal(bottle.recipients.length, 0);
  const opened = await oracleOpen(bottle.encode());
  assert.deepEqual(opened.formats, [1, 0]);
  assert.deepEqual(opened.signers, ["alice"]);
});

Deno.test("signatures by P-256 and Ed25519 keys verify in the independent opener", async () => {
  const bottle = new Bottle("signed twice");
  await bottle.sign(KEYS.alice);
  await bottle.sign(KEYS.chloe);
  assert.equal(bottle.format, 0, "no header, so no bottling up");
  const oracle = await oracleOpen(bottle.encode());
  assert.deepEqual(oracle.signers, ["alice", "chloe"]);
  assert.equal(text(oracle.message), "signed twice");
  const opened = await openBottle(bottle.encode());
  assert.deepEqual(opened.signers.map((s) => toHex(s.publicKey)), [
    toHex(PKIX.alice),
    toHex(PKIX.chloe),
  ]);
});

Deno.test("signatures by P-384 and RSA keys verify when opened", async () => {
  for (const type of ["p384", "rsa"] as const) {
    const key = await PrivateKey.generate(type);
    const bottle = await new Bottle(`by ${type}`).sign(key);
    const opened = await openBottle(bottle.encode());
    assert.equal(text(opened.message), `by ${type}`);
    assert.ok(key.publicKey.equals(opened.signers[0].publicKey), type);
  }
});

Deno.test("signing a bottle with a header bottles it up first so the header is signed", async () => {
  const bottle = new Bottle("payload", { header: { ct: "text" } });
  await bottle.sign(KEYS.chloe);
  assert.equal(bottle.format, 1);
  assert.deepEqual({ ...bottle.header }, {});
  const opened = await openBottle(bottle.encode());
  assert.deepEqual({ ...opened.header }, { ct: "text" });
  assert.equal(opened.signers[0].layer, 0);
  assert.deepEqual((await oracleOpen(bottle.encode())).formats, [1, 0]);
});

Deno.test("a signed bottle encrypted to Bob and Daniel opens for each in both openers", async () => {
  const bottle = await new Bottle("for Bob and Daniel").sign(KEYS.alice);
  await bottle.encrypt(KEYS.bob.publicKey, PKIX.daniel);
  assert.equal(bottle.format, 2);
  assert.equal(bottle.recipients.length, 2);
  const bytes = bottle.encode();
  for (const name of ["bob", "daniel"]) {
    const oracle = await oracleOpen(bytes, [name]);
    assert.equal(text(oracle.message), "for Bob and Daniel", name);
    assert.deepEqual(oracle.formats, [2, 0], "a signed bottle is bottled up, then sealed");
    assert.deepEqual(oracle.signers, ["alice"]);
    const opened = await openBottle(bytes, { keys: [KEYS[name]] });
    assert.equal(opened.decryptions, 1);
    assert.deepEqual(opened.signers.map((s) => s.layer), [1]);
  }
});

Deno.test("encrypting then bottling up and signing gives the layers of the Go vectors", async () => {
  const bottle = await new Bottle("Secret").encrypt(KEYS.bob.publicKey);
  bottle.bottleUp();
  await bottle.sign(KEYS.alice);
  const oracle = await oracleOpen(bottle.encode(), ["bob"]);
  assert.deepEqual(oracle.formats, [1, 2, 0]);
  assert.deepEqual(oracle.signers, ["alice"]);
  const opened = await openBottle(bottle.encode(), { keys: [KEYS.bob] });
  assert.equal(text(opened.message), "Secret");
  assert.deepEqual(opened.layers.map((layer) => layer.format), [1, 2, 0]);
});

Deno.test("encrypting a bottle with a header moves the header inside the ciphertext", async () => {
  const bottle = await new Bottle("private", { header: { ct: "text" } }).encrypt(PKIX.bob);
  assert.deepEqual({ ...bottle.header }, {});
  assert.ok(!toHex(bottle.encode()).includes(toHex(new TextEncoder().encode("text"))));
  const opened = await openBottle(bottle.encode(), { keys: [KEYS.bob] });
  assert.deepEqual({ ...opened.header }, { ct: "text" });
});

Deno.test("a clean nested bottle is sealed as it is, without another bottling up", async () => {
  const bottle = new Bottle("clean").bottleUp();
  const inner = bottle.message;
  await bottle.encrypt(KEYS.bob.publicKey);
  const oracle = await oracleOpen(bottle.encode(), ["bob"]);
  assert.deepEqual(oracle.formats, [2, 0]);
  const opened = await openBottle(bottle.encode(), { keys: [KEYS.bob] });
  assert.deepEqual(opened.layers[1].encode(), inner);
});

Deno.test("encryption draws its content key and nonce from the injected random source", async () => {
  const first = await new Bottle("same", { random: counting(7) }).encrypt(PKIX.bob);
  const second = await new Bottle("same", { random: counting(7) }).encrypt(PKIX.bob);
  // 32 key bytes come first, then the 12-byte nonce that starts the message
  assert.deepEqual(first.message.slice(0, 12), Uint8Array.from({ length: 12 }, (_, i) => 39 + i));
  assert.deepEqual(first.message, second.message, "same key, nonce and content");
  assert.notDeepEqual(first.recipients[0].data, second.recipients[0].data, "fresh ephemeral keys");
  assert.equal(text((await openBottle(first.encode(), { keys: [KEYS.bob] })).message), "same");
  await assert.rejects(
    new Bottle("x", { random: () => new Uint8Array(3) }).encrypt(PKIX.bob),
    InvalidArgumentError,
  );
});

Deno.test("bottles encrypted to X25519, RSA and ML-KEM keys open with those keys", async () => {
  for (const type of ["x25519", "rsa", "mlkem768"] as const) {
    const key = await PrivateKey.generate(type);
    const bottle = await new Bottle(`to ${type}`).encrypt(key.publicKey);
    const opened = await openBottle(bottle.encode(), { keys: [key] });
    assert.equal(text(opened.message), `to ${type}`);
    assert.equal(opened.decryptions, 1);
  }
});

Deno.test("encrypting to an IDCard uses every decrypt key of the card and only those", async () => {
  const primary = await PrivateKey.generate("ed25519");
  const card = IDCard.create(primary);
  await assert.rejects(new Bottle("x").encrypt(card), InvalidArgumentError);
  card.addKeyPurpose(KEYS.bob.publicKey, ["decrypt"]);
  card.addKeyPurpose(PKIX.daniel, ["decrypt"]);
  const bottle = await new Bottle("to the card").encrypt(card);
  assert.deepEqual(bottle.recipients.map((r) => toHex(r.recipient)), [
    toHex(PKIX.bob),
    toHex(PKIX.daniel),
  ]);
  assert.equal(text((await oracleOpen(bottle.encode(), ["daniel"])).message), "to the card");
  await assert.rejects(new Bottle("x").encrypt(), InvalidArgumentError);
});

Deno.test("a layered bottle counts each decryption", async () => {
  const bottle = await new Bottle("twice sealed").encrypt(PKIX.bob);
  await bottle.encrypt(PKIX.daniel);
  const opened = await openBottle(bottle.encode(), { keys: [KEYS.bob, KEYS.daniel] });
  assert.equal(opened.decryptions, 2);
  assert.equal(text(opened.message), "twice sealed");
  const oracle = await oracleOpen(bottle.encode(), ["bob", "daniel"]);
  assert.equal(oracle.decryptions, 2);
});

Deno.test("a JSON bottle round-trips and opens nested inside a CBOR bottle", async () => {
  const inner = await new Bottle("via JSON", { header: { ct: "text" } }).sign(KEYS.chloe);
  const json = inner.encodeJson();
  const parsed = JSON.parse(json);
  assert.equal(parsed.fmt, 1);
  assert.ok(!("hdr" in parsed), "an empty header is left out");
  assert.match(parsed.sig[0].key, /^[A-Za-z0-9_-]+$/, "base64url without padding");
  assert.deepEqual(Bottle.decodeJson(json).encode(), inner.encode());
  const outer = await new Bottle(new TextEncoder().encode(json), { format: 3 }).sign(KEYS.alice);
  const opened = await openBottle(outer.encode());
  assert.equal(text(opened.message), "via JSON");
  assert.deepEqual({ ...opened.header }, { ct: "text" });
  assert.deepEqual(opened.layers.map((layer) => layer.format), [3, 1, 0]);
  assert.equal(opened.signers.length, 2);
});

Deno.test("a JSON bottle in Go's standard padded base64 decodes too", () => {
  const json = JSON.stringify({ msg: btoa("\xfb\xff\xfe"), fmt: 0 });
  assert.match(json, /[+/=]/);
  assert.deepEqual(Bottle.decodeJson(json).message, new Uint8Array([0xfb, 0xff, 0xfe]));
});

Deno.test("the constructor refuses a message that is not bytes and an unknown format", () => {
  assert.throws(() => new Bottle(42 as unknown as string), InvalidArgumentError);
  assert.throws(() => new Bottle("x", { format: 9 as 0 }), InvalidArgumentError);
});
