/**
 * The Go-written IDCards of `bottle_interop.json` load with their signature
 * verified, show the file's metadata, purposes and issue time, re-encode to
 * the card CBOR the file gives, and have the `k.` address computed here
 * independently from their primary key.
 *
 * @module
 */

import assert from "node:assert/strict";
import { IDCard, idcardAddress, openBottle } from "../../src/spot/bottle/mod.ts";
import { fromHex, IDCARD_VECTORS, nameOf, PKIX, toHex } from "./_bottle_vectors.ts";

/** `k.` and unpadded base64url of SHA-256, through WebCrypto and btoa only. */
async function expectedAddress(pkix: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(pkix)));
  const base64 = btoa(String.fromCharCode(...digest));
  return "k." + base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

Deno.test("the file holds the IDCards of alice, bob and chloe", () => {
  assert.deepEqual(IDCARD_VECTORS.map((v) => v.decoded_idcard?.self), ["alice", "bob", "chloe"]);
});

for (const vector of IDCARD_VECTORS) {
  const bytes = fromHex(vector.blob_hex);
  const decoded = vector.decoded_idcard!;

  Deno.test(`${vector.constant} loads with its self-signature verified`, async () => {
    const card = await IDCard.load(bytes);
    assert.equal(toHex(card.self), decoded.self_pkix_der_hex);
    assert.deepEqual(card.self, PKIX[decoded.self]);
    assert.deepEqual({ ...card.meta }, vector.expected.meta);
    assert.equal(card.issued.getTime(), decoded.issued.value * 1000);
    assert.deepEqual(card.signed, bytes);
    const purposes = Object.fromEntries(
      card.subKeys.map((subKey) => [nameOf(subKey.key), [...subKey.purposes].sort()]),
    );
    const expected = Object.fromEntries(
      Object.entries(vector.expected.key_purposes ?? {}).map((
        [name, list],
      ) => [name, [...list].sort()]),
    );
    assert.deepEqual(purposes, expected);
    assert.deepEqual(card.revoke, []);
    assert.deepEqual(card.groups, []);
    assert.ok(card.hasPurpose(PKIX[decoded.self], "sign", 0));
    assert.ok(card.hasPurpose(PKIX[decoded.self], "decrypt", 0));
  });

  Deno.test(`${vector.constant} has the k. address of its primary key`, async () => {
    const card = await IDCard.load(bytes);
    const address = await expectedAddress(fromHex(decoded.self_pkix_der_hex));
    assert.match(address, /^k\.[A-Za-z0-9_-]{43}$/);
    assert.equal(card.address, address);
    assert.equal(idcardAddress(card.self), address);
  });

  Deno.test(`${vector.constant} re-encodes to the card CBOR Go signed, byte for byte`, async () => {
    const card = await IDCard.load(bytes);
    assert.equal(toHex(card.encode()), decoded.cbor_hex);
    assert.equal(toHex(IDCard.decode(fromHex(decoded.cbor_hex)).encode()), decoded.cbor_hex);
  });

  Deno.test(`${vector.constant} opens as a signed bottle around a ct idcard bottle`, async () => {
    const opened = await openBottle(bytes);
    assert.deepEqual(
      opened.layers.map((layer) => ({
        header: { ...layer.header },
        format: layer.format,
        message_len: layer.message.length,
      })),
      (vector.observed_layers ?? []).map(({ header, format, message_len }) => ({
        header,
        format,
        message_len,
      })),
    );
    assert.deepEqual(opened.signers.map((s) => nameOf(s.publicKey)), vector.expected.signed_by);
    assert.equal(toHex(opened.message), decoded.cbor_hex);
  });
}
