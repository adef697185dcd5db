/**
 * Every Go-written vector of `bottle_interop.json` decodes, re-encodes to the
 * same bytes, and opens as the file says: the same cleartext, signers,
 * number of decryptions and layers, or the same refusal without a key.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  Bottle,
  BottleDecryptionError,
  IDCard,
  openBottle,
  type OpenedBottle,
} from "../../src/spot/bottle/mod.ts";
import { BOTTLE_VECTORS, fromHex, KEYS, nameOf, toHex, VECTORS } from "./_bottle_vectors.ts";

Deno.test("the vector file holds the eight Go-written bottles and IDCards", () => {
  assert.deepEqual(VECTORS.map((vector) => vector.constant), [
    "ALICE_SIGNED_CLEARTEXT",
    "CHLOE_SIGNED_CLEARTEXT",
    "ALICE_TO_BOB_ENCRYPTED",
    "ALICE_TO_BOB_AND_DANIEL",
    "ANONYMOUS_TO_BOB",
    "ALICE_IDCARD",
    "BOB_IDCARD",
    "CHLOE_IDCARD",
  ]);
});

for (const vector of VECTORS) {
  const bytes = fromHex(vector.blob_hex);

  Deno.test(`${vector.constant} decodes and re-encodes to the same ${vector.blob_length} bytes`, () => {
    assert.equal(bytes.length, vector.blob_length);
    assert.deepEqual(
      bytes,
      Uint8Array.from(atob(vector.blob_base64_as_given), (c) => c.charCodeAt(0)),
    );
    const bottle = Bottle.decode(bytes);
    assert.equal(toHex(bottle.encode()), vector.blob_hex);
  });
}

/** The layers of an opening, in the file's terms. */
function layersOf(opened: OpenedBottle) {
  return opened.layers.map((layer, index) => ({
    header: { ...layer.header },
    format: layer.format,
    message_len: layer.message.length,
    signatures: opened.signers.filter((signer) => signer.layer === index)
      .map((signer) => nameOf(signer.publicKey)),
    recipients: layer.recipients.map((recipient) => nameOf(recipient.recipient)),
  }));
}

for (const vector of BOTTLE_VECTORS) {
  const bytes = fromHex(vector.blob_hex);
  for (const way of vector.open_with ?? []) {
    const keys = way.opener_keys.map((name) => KEYS[name]);
    const by = way.opener_keys.length === 0 ? "no key" : way.opener_keys.join(" and ");

    if (way.result === "error") {
      Deno.test(`${vector.constant} refuses to open with ${by} as no key matches`, async () => {
        assert.equal(way.error, "NoAppropriateKeyError");
        await assert.rejects(openBottle(bytes, { keys }), (error) => {
          assert.ok(error instanceof BottleDecryptionError);
          assert.equal(error.code, "no_key");
          return true;
        });
      });
      continue;
    }

    Deno.test(`${vector.constant} opens with ${by}, verifying every signature`, async () => {
      const opened = await openBottle(bytes, { keys });
      assert.equal(new TextDecoder().decode(opened.message), way.plaintext_utf8);
      assert.equal(opened.message.length, way.observed_layers?.at(-1)?.message_len);
      assert.equal(opened.decryptions, way.decryption_count);
      assert.deepEqual(
        opened.signers.map((signer) => nameOf(signer.publicKey)),
        vector.expected.signed_by,
      );
      assert.equal(opened.format, way.observed_layers?.[0].format);
      const expected = (way.observed_layers ?? []).map((layer) => ({
        header: layer.header,
        format: layer.format,
        message_len: layer.message_len,
        signatures: (layer.signatures ?? []).filter((s) => s.verified).map((s) => s.signer),
        recipients: (layer.recipients ?? []).map((r) => r.recipient),
      }));
      assert.deepEqual(layersOf(opened), expected);
      if (vector.expected.recipients) {
        const encrypted = opened.layers.find((layer) => layer.format === 2);
        assert.deepEqual(
          encrypted?.recipients.map((r) => nameOf(r.recipient)),
          vector.expected.recipients,
        );
      }
    });
  }
}

Deno.test("each encrypted vector opens with each of its recipients' keys alone", async () => {
  let opened = 0;
  for (const vector of BOTTLE_VECTORS) {
    for (const name of vector.expected.recipients ?? []) {
      const result = await openBottle(fromHex(vector.blob_hex), { keys: [KEYS[name]] });
      assert.equal(new TextDecoder().decode(result.message), vector.expected.plaintext_utf8);
      assert.equal(result.decryptions, 1);
      opened++;
    }
  }
  assert.equal(opened, 4, "bob twice, bob and daniel once each");
});

Deno.test("a key that is not a recipient does not open an encrypted vector", async () => {
  const vector = BOTTLE_VECTORS.find((v) => v.constant === "ALICE_TO_BOB_ENCRYPTED")!;
  await assert.rejects(
    openBottle(fromHex(vector.blob_hex), { keys: [KEYS.alice, KEYS.chloe, KEYS.daniel] }),
    (error) => error instanceof BottleDecryptionError && error.code === "no_key",
  );
});

Deno.test("opening names a signer's IDCard when its key is one of the card's signing keys", async () => {
  const card = VECTORS.find((v) => v.constant === "ALICE_IDCARD")!;
  const alice = await IDCard.load(fromHex(card.blob_hex));
  const bottle = BOTTLE_VECTORS.find((v) => v.constant === "ALICE_TO_BOB_ENCRYPTED")!;
  const opened = await openBottle(fromHex(bottle.blob_hex), { keys: [KEYS.bob], idcards: [alice] });
  assert.equal(opened.signers.length, 1);
  assert.equal(opened.signers[0].idcard, alice);
});
