/**
 * IDCards made here: creation as the draft and Go do it, subkeys and their
 * purposes, expiry and revocation, signing into the layout Go writes (read
 * back with cborg and the independent opener), loading with every refusal
 * typed, lenient time forms, and group memberships signed by a group key.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decode, encode } from "cborg";
import { ed25519 } from "@noble/curves/ed25519.js";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { Bottle, BottleSignatureError, IDCard, IDCardError } from "../../src/spot/bottle/mod.ts";
import { PrivateKey } from "../../src/spot/crypto/mod.ts";
import { KEYS, oracleOpen, PKIX, rawSecret, toHex } from "./_bottle_vectors.ts";

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const now = () => NOW;

function refusesWith(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof IDCardError, String(error));
    assert.equal(error.code, code, error.message);
    return true;
  };
}

Deno.test("a new card holds its primary key as its one subkey, for signing", () => {
  const card = IDCard.create(KEYS.alice, { now });
  assert.deepEqual(card.self, PKIX.alice);
  assert.equal(card.issued.getTime(), NOW);
  assert.deepEqual(card.subKeys, [{ key: PKIX.alice, issued: new Date(NOW), purposes: ["sign"] }]);
  assert.deepEqual([card.revoke, card.groups, { ...card.meta }], [[], [], {}]);
  assert.equal(card.signed, undefined);
  assert.deepEqual(IDCard.create(KEYS.alice.publicKey).self, PKIX.alice);
  assert.throws(() => IDCard.create({} as PrivateKey), InvalidArgumentError);
});

Deno.test("a card encodes as Go writes it: keys 1 to 6, Unix seconds, empty lists as null", () => {
  const card = IDCard.create(KEYS.chloe, { now });
  const seconds = Math.floor(NOW / 1000);
  const map = decode(card.encode(), { useMaps: true }) as Map<number, unknown>;
  assert.deepEqual([...map.keys()], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(map.get(1), PKIX.chloe);
  assert.equal(map.get(2), seconds);
  assert.deepEqual(map.get(3), [
    new Map<number, unknown>([[1, PKIX.chloe], [2, seconds], [4, ["sign"]]]),
  ]);
  assert.deepEqual([map.get(4), map.get(5), map.get(6)], [null, null, null]);
});

Deno.test("purposes are added once each and kept sorted, new keys become subkeys", () => {
  const card = IDCard.create(KEYS.alice, { now });
  card.addKeyPurpose(KEYS.alice, ["decrypt", "sign"]);
  assert.deepEqual(card.findKey(PKIX.alice)?.purposes, ["decrypt", "sign"]);
  const added = card.addKeyPurpose(KEYS.bob.publicKey, ["sign", "ephemeral", "decrypt"], { now });
  assert.deepEqual(added.purposes, ["decrypt", "ephemeral", "sign"]);
  assert.equal(card.subKeys.length, 2);
  assert.equal(card.findKey(KEYS.chloe), undefined);
});

Deno.test("expired and revoked subkeys are no longer fit for their purposes", () => {
  const card = IDCard.create(KEYS.alice, { now });
  card.addKeyPurpose(PKIX.bob, ["decrypt"], { expires: new Date(NOW + 1000) });
  card.addKeyPurpose(PKIX.daniel, ["decrypt"]);
  assert.equal(card.getKeys("decrypt", NOW).length, 2);
  assert.deepEqual(card.getKeys("decrypt", NOW + 1000), [PKIX.daniel]);
  card.revoke.push({ key: PKIX.daniel, issued: new Date(NOW), purposes: [] });
  assert.deepEqual(card.getKeys("decrypt", NOW), [PKIX.bob]);
  assert.ok(!card.hasPurpose(PKIX.daniel, "decrypt", NOW));
  assert.ok(card.hasPurpose(KEYS.alice, "sign", NOW));
});

Deno.test("a signed card is Go's layout and its signature verifies in the independent opener", async () => {
  const card = IDCard.create(KEYS.alice, { now });
  card.meta.name = "Alice";
  card.addKeyPurpose(KEYS.alice, ["decrypt"]);
  const signed = await card.sign(KEYS.alice);
  assert.equal(card.signed, signed);
  const [outerHeader, inner, format, recipients, signatures] = decode(signed, { useMaps: true });
  assert.deepEqual([outerHeader, format, recipients], [new Map(), 1, null]);
  assert.equal(signatures.length, 1);
  assert.deepEqual(signatures[0][1], PKIX.alice);
  const [innerHeader, message, innerFormat, ...rest] = decode(inner, { useMaps: true });
  assert.deepEqual([innerHeader, innerFormat, rest], [new Map([["ct", "idcard"]]), 0, [
    null,
    null,
  ]]);
  assert.deepEqual(message, card.encode());
  const oracle = await oracleOpen(signed);
  assert.deepEqual(oracle.signers, ["alice"]);
  assert.deepEqual(oracle.message, card.encode());
});

Deno.test("a signed card loads back with its subkeys, expiry and metadata", async () => {
  const key = await PrivateKey.generate("ed25519");
  const card = IDCard.create(key, { now });
  card.meta.name = "Eve";
  card.meta.role = "tester";
  card.addKeyPurpose(PKIX.bob, ["decrypt"], { now, expires: new Date(NOW + 86_400_000) });
  const loaded = await IDCard.load(await card.sign(key));
  assert.equal(loaded.address, card.address);
  assert.deepEqual({ ...loaded.meta }, { name: "Eve", role: "tester" });
  assert.equal(
    loaded.issued.getTime(),
    Math.floor(NOW / 1000) * 1000,
    "whole seconds, as Go keeps them",
  );
  assert.deepEqual(loaded.subKeys[1].purposes, ["decrypt"]);
  assert.equal(loaded.subKeys[1].expires?.getTime(), Math.floor(NOW / 1000) * 1000 + 86_400_000);
  assert.deepEqual(loaded.encode(), card.encode());
});

Deno.test("only the card's primary key may sign it", async () => {
  const card = IDCard.create(KEYS.alice, { now });
  await assert.rejects(card.sign(KEYS.bob), refusesWith("wrong_key"));
});

Deno.test("a card signed by another key, or by none, is refused as not self-signed", async () => {
  const card = IDCard.create(KEYS.alice, { now });
  const byBob = await new Bottle(card.encode(), { header: { ct: "idcard" } }).bottleUp().sign(
    KEYS.bob,
  );
  await assert.rejects(IDCard.load(byBob.encode()), refusesWith("not_self_signed"));
  const unsigned = new Bottle(card.encode(), { header: { ct: "idcard" } }).bottleUp();
  await assert.rejects(IDCard.load(unsigned.encode()), refusesWith("not_self_signed"));
});

Deno.test("a card whose signature covers other bytes is refused", async () => {
  const signed = await IDCard.create(KEYS.alice, { now }).sign(KEYS.alice);
  const other = await IDCard.create(KEYS.alice, { now: () => NOW + 5000 }).sign(KEYS.alice);
  const [header, , format, recipients] = decode(signed);
  const [, otherMessage, , , otherSignatures] = decode(other);
  const [, , , , signatures] = decode(signed);
  assert.notDeepEqual(otherSignatures, signatures);
  const swapped = encode([header, otherMessage, format, recipients, signatures]);
  await assert.rejects(IDCard.load(swapped), BottleSignatureError);
});

Deno.test("a bottle of another content type or content is not loaded as a card", async () => {
  const card = IDCard.create(KEYS.alice, { now });
  const typed = await new Bottle(card.encode(), { header: { ct: "json" } }).sign(KEYS.alice);
  await assert.rejects(IDCard.load(typed.encode()), refusesWith("wrong_content_type"));
  for (const content of [encode([1, 2]), encode(new Map([[2, 0]])), new Uint8Array([0xff])]) {
    const bottle = await new Bottle(content, { header: { ct: "idcard" } }).sign(KEYS.alice);
    await assert.rejects(IDCard.load(bottle.encode()), refusesWith("invalid_structure"));
  }
});

Deno.test("issue times read as plain seconds, tag 1 seconds, tag 0 text or text", () => {
  const self = PKIX.alice;
  const at = (cbor: Uint8Array) => IDCard.decode(cbor).issued.toISOString();
  const head = new Uint8Array([0xa2, 0x01, 0x58, self.length, ...self, 0x02]);
  const join = (...parts: number[][]) => new Uint8Array([...head, ...parts.flat()]);
  assert.equal(at(join([0x1a, 0x69, 0x3e, 0x85, 0x03])), "2025-12-14T09:36:03.000Z");
  assert.equal(at(join([0xc1, 0x1a, 0x69, 0x3e, 0x85, 0x03])), "2025-12-14T09:36:03.000Z");
  const text = [...new TextEncoder().encode("2025-03-15T10:30:00Z")];
  assert.equal(at(join([0xc0, 0x74], text)), "2025-03-15T10:30:00.000Z");
  assert.equal(at(join([0x74], text)), "2025-03-15T10:30:00.000Z");
  assert.throws(() => at(join([0xc0, 0x01])), refusesWith("invalid_structure"));
  assert.throws(() => at(join([0x63, 0x61, 0x62, 0x63])), refusesWith("invalid_structure"));
  assert.throws(() => at(join([0xc2, 0x41, 0x01])), refusesWith("invalid_structure"));
});

/** A membership as a group writes it, signed with noble over its canonical CBOR. */
function membership(subject: Uint8Array, status: string, signer = "chloe"): Uint8Array {
  const fields = (signature: Uint8Array | null) =>
    new Map<number, unknown>([
      [1, subject],
      [2, PKIX.chloe],
      [3, status],
      [4, 1765704963],
      [5, { role: "member" }],
      [6, PKIX.chloe],
      [7, signature],
    ]);
  const signature = ed25519.sign(encode(fields(null)), rawSecret(signer));
  return encode(fields(signature));
}

Deno.test("a membership signed by its group joins the card and survives signing", async () => {
  const card = IDCard.create(KEYS.alice, { now });
  assert.equal(await card.updateGroups([membership(PKIX.bob, "valid")]), 0, "not for this card");
  assert.equal(await card.updateGroups([membership(PKIX.alice, "valid")]), 1);
  assert.equal(card.groups.length, 1);
  assert.equal(card.groups[0].subject, null);
  assert.deepEqual(card.groups[0].key, PKIX.chloe);
  assert.deepEqual({ ...card.groups[0].info }, { role: "member" });
  const loaded = await IDCard.load(await card.sign(KEYS.alice));
  assert.equal(loaded.groups[0].status, "valid");
  assert.equal(toHex(loaded.groups[0].signature!), toHex(card.groups[0].signature!));
  assert.deepEqual(loaded.encode(), card.encode());
  await card.updateGroups([membership(PKIX.alice, "valid")]);
  assert.equal(card.groups.length, 1, "the same group replaces its membership");
  await card.updateGroups([membership(PKIX.alice, "suspended")]);
  assert.deepEqual(card.groups, []);
});

Deno.test("a membership not signed by its group key is refused", async () => {
  const card = IDCard.create(KEYS.alice, { now });
  await assert.rejects(
    card.updateGroups([membership(PKIX.alice, "valid", "daniel")]),
    refusesWith("invalid_structure"),
  );
  await assert.rejects(
    card.updateGroups([new Uint8Array([0xa0, 0x00])]),
    refusesWith("invalid_structure"),
  );
  const garbageKey = new Uint8Array([1, 2, 3]);
  const unreadable = encode(
    new Map<number, unknown>([
      [1, PKIX.alice],
      [2, garbageKey],
      [3, "valid"],
      [4, 0],
      [5, null],
      [6, garbageKey],
      [7, new Uint8Array(64)],
    ]),
  );
  await assert.rejects(card.updateGroups([unreadable]), (error) => {
    assert.ok(error instanceof IDCardError);
    assert.match(error.message, /group key of membership 0 cannot verify/);
    return true;
  });
  assert.deepEqual(card.groups, []);
});
