/**
 * Recipient data, the content key encrypted for one key the way Bottle does
 * it: the Go-written vectors decrypt with the right private key (and the
 * recovered key opens the bottle body); data made here decrypts with an
 * independent oracle on `@noble/*` (`node:crypto` for RSA) and the oracle's
 * data decrypts here; every key type round-trips; data for another key, or
 * damaged data, gives undefined, never a crash.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  constants,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
} from "node:crypto";
import fc from "fast-check";
import { p256 } from "@noble/curves/nist.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ml_kem1024, ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import {
  decryptWith,
  encryptFor,
  type KeyType,
  PrivateKey,
  SpotKeyError,
} from "../../src/spot/crypto/mod.ts";
import { forceBackend } from "../../src/spot/crypto/_backend.ts";
import {
  BLOBS,
  decodeBottle,
  EXPECTED,
  fromHex,
  KEYS,
  type RawBottle,
  sameBytes,
} from "./_crypto_vectors.ts";

const CEK = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
const X25519_SPKI_PREFIX = fromHex("302a300506032b656e032100");
const P256_SPKI_PREFIX = fromHex("3059301306072a8648ce3d020106082a8648ce3d030107034200");

/** Opens a format-2 bottle body with a content key (plain WebCrypto, as the draft's section 9.1). */
async function openBody(cek: Uint8Array, message: Uint8Array): Promise<RawBottle> {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(cek), "AES-GCM", false, [
    "decrypt",
  ]);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: new Uint8Array(message.subarray(0, 12)) },
    key,
    new Uint8Array(message.subarray(12)),
  );
  return decodeBottle(new Uint8Array(plain));
}

/** The first format-2 layer of a vector, reached through format-1 layers. */
function encryptedLayer(blob: Uint8Array): RawBottle {
  let bottle = decodeBottle(blob);
  while (bottle[2] === 1) bottle = decodeBottle(bottle[1]);
  assert.equal(bottle[2], 2);
  return bottle;
}

async function openVectorWith(vector: string, name: string): Promise<number> {
  const key = await PrivateKey.fromDer(KEYS[name].der);
  const layer = encryptedLayer(BLOBS[vector]);
  let opened = 0;
  for (const [type, pkix, data] of layer[3] ?? []) {
    assert.equal(type, 0);
    const cek = await decryptWith(key, data);
    if (!key.publicKey.equals(pkix)) {
      assert.equal(cek, undefined, `${vector}: ${name} decrypts an entry for another key`);
      continue;
    }
    assert.ok(cek !== undefined, `${vector}: ${name} cannot decrypt its entry`);
    assert.equal(cek.length, 32);
    const inner = await openBody(cek, layer[1]);
    assert.equal(inner[2], 0);
    assert.equal(new TextDecoder().decode(inner[1]), EXPECTED[vector].plaintext);
    opened++;
  }
  return opened;
}

Deno.test("the recipient data of the Go-written vectors decrypts with each recipient's key and opens the body", async () => {
  let total = 0;
  for (const [vector, expected] of Object.entries(EXPECTED)) {
    for (const name of expected.recipients) {
      assert.equal(await openVectorWith(vector, name), 1, `${vector} for ${name}`);
      total++;
    }
  }
  assert.ok(total >= 4, `${total} recipient entries`);
  assert.equal(await openVectorWith("ANONYMOUS_TO_BOB", "bob"), 1);
});

Deno.test("a vector entry does not decrypt with a key it is not for", async () => {
  for (const name of ["alice", "chloe"]) {
    const key = await PrivateKey.fromDer(KEYS[name].der);
    for (const [, , data] of encryptedLayer(BLOBS.ALICE_TO_BOB_AND_DANIEL)[3] ?? []) {
      assert.equal(await decryptWith(key, data), undefined, name);
    }
  }
});

Deno.test("the Ed25519 recipient vector decrypts through the @noble/curves fallback too", async () => {
  forceBackend("noble");
  let made: { key: PrivateKey; data: Uint8Array };
  try {
    assert.equal(await openVectorWith("ALICE_TO_BOB_AND_DANIEL", "daniel"), 1);
    const daniel = await PrivateKey.fromDer(KEYS.daniel.der);
    assert.ok(daniel.publicKey.equals(KEYS.daniel.pkix), "public key derived by @noble/curves");
    assert.ok(
      sameBytes((await decryptWith(daniel, await encryptFor(daniel.publicKey, CEK)))!, CEK),
    );
    const key = await PrivateKey.generate("x25519");
    made = { key, data: await encryptFor(key.publicKey, CEK) };
  } finally {
    forceBackend(undefined);
  }
  // what the fallback made opens through WebCrypto
  const again = await PrivateKey.fromPkcs8(made.key.toPkcs8());
  assert.ok(again.publicKey.equals(made.key.publicKey));
  assert.ok(sameBytes((await decryptWith(again, made.data))!, CEK));
});

const TYPES: KeyType[] = [
  "p256",
  "p384",
  "p521",
  "x25519",
  "ed25519",
  "rsa",
  "mlkem768",
  "mlkem1024",
  "mlkem768-x25519",
  "mlkem1024-x25519",
];

for (const type of TYPES) {
  Deno.test(`a content key encrypted for a ${type} key decrypts with it and with no other`, async () => {
    const key = await PrivateKey.generate(type);
    const other = await PrivateKey.generate(type);
    const data = await encryptFor(key.publicKey.pkix, CEK);
    assert.ok(sameBytes((await decryptWith(key, data))!, CEK));
    assert.equal(await decryptWith(other, data), undefined);
    const again = await encryptFor(key.publicKey, CEK);
    assert.ok(!sameBytes(again, data), "fresh randomness each time");
    const expectedVersion = type === "rsa"
      ? undefined
      : type.startsWith("mlkem")
      ? (type.endsWith("x25519") ? 1 : 2)
      : 0;
    if (expectedVersion !== undefined) assert.equal(data[0], expectedVersion);
  });
}

/** Reads `uvarint length || bytes` at `offset` (independent of the code under test). */
function part(data: Uint8Array, offset: number): { bytes: Uint8Array; next: number } {
  let length = 0;
  let shift = 0;
  let i = offset;
  while (data[i] & 0x80) {
    length += (data[i++] & 0x7f) * 2 ** shift;
    shift += 7;
  }
  length += data[i++] * 2 ** shift;
  return { bytes: data.subarray(i, i + length), next: i + length };
}

async function gcmOpen(key: Uint8Array, data: Uint8Array, offset: number): Promise<Uint8Array> {
  const aes = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-GCM", false, [
    "decrypt",
  ]);
  return new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: new Uint8Array(data.subarray(offset, offset + 12)) },
      aes,
      new Uint8Array(data.subarray(offset + 12)),
    ),
  );
}

async function gcmSeal(key: Uint8Array, prefix: Uint8Array): Promise<Uint8Array> {
  const aes = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-GCM", false, [
    "encrypt",
  ]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aes, CEK));
  return Uint8Array.from([...prefix, ...iv, ...sealed]);
}

Deno.test("P-256 recipient data made here opens with a @noble/curves oracle, and the oracle's opens here", async () => {
  const bob = await PrivateKey.fromDer(KEYS.bob.der);
  const bobSecret = KEYS.bob.der.subarray(7, 39);
  const data = await encryptFor(KEYS.bob.pkix, CEK);
  assert.equal(data[0], 0);
  const eph = part(data, 1);
  assert.ok(sameBytes(eph.bytes.subarray(0, P256_SPKI_PREFIX.length), P256_SPKI_PREFIX));
  const z = p256.getSharedSecret(bobSecret, eph.bytes.subarray(-65)).subarray(1);
  assert.ok(sameBytes(await gcmOpen(sha256(z), data, eph.next), CEK));

  const ephSecret = p256.utils.randomSecretKey();
  const ephPkix = Uint8Array.from([...P256_SPKI_PREFIX, ...p256.getPublicKey(ephSecret, false)]);
  const shared = p256.getSharedSecret(ephSecret, KEYS.bob.pkix.subarray(-65)).subarray(1);
  const oracle = await gcmSeal(sha256(shared), Uint8Array.from([0, ephPkix.length, ...ephPkix]));
  assert.ok(sameBytes((await decryptWith(bob, oracle))!, CEK));
});

Deno.test("Ed25519 recipient data uses the X25519 conversion @noble/curves computes, both ways", async () => {
  const daniel = await PrivateKey.fromDer(KEYS.daniel.der);
  const edPublic = KEYS.daniel.pkix.subarray(-32);
  const montSecret = ed25519.utils.toMontgomerySecret(KEYS.daniel.der.subarray(-32));
  const data = await encryptFor(KEYS.daniel.pkix, CEK);
  const eph = part(data, 1);
  assert.ok(sameBytes(eph.bytes.subarray(0, 12), X25519_SPKI_PREFIX));
  const z = x25519.getSharedSecret(montSecret, eph.bytes.subarray(-32));
  assert.ok(sameBytes(await gcmOpen(sha256(z), data, eph.next), CEK));

  const ephSecret = x25519.utils.randomSecretKey();
  const ephPkix = Uint8Array.from([...X25519_SPKI_PREFIX, ...x25519.getPublicKey(ephSecret)]);
  const shared = x25519.getSharedSecret(ephSecret, ed25519.utils.toMontgomery(edPublic));
  const oracle = await gcmSeal(sha256(shared), Uint8Array.from([0, ephPkix.length, ...ephPkix]));
  assert.ok(sameBytes((await decryptWith(daniel, oracle))!, CEK));
});

Deno.test("the Ed25519-to-X25519 public key map agrees with @noble/curves for any key", async () => {
  const { edwardsToMontgomery } = await import("../../src/spot/crypto/_curve25519.ts");
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
      const pub = ed25519.getPublicKey(seed);
      assert.ok(sameBytes(edwardsToMontgomery(pub)!, ed25519.utils.toMontgomery(pub)));
    }),
    { seed: 110114, numRuns: 200 },
  );
});

Deno.test("RSA recipient data is RSA-OAEP SHA-256 as node:crypto reads and writes it", async () => {
  const key = await PrivateKey.generate("rsa");
  const data = await encryptFor(key.publicKey, CEK);
  const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" };
  const privateKey = createPrivateKey({ key: key.toPem(), format: "pem" });
  assert.ok(sameBytes(new Uint8Array(privateDecrypt({ key: privateKey, ...oaep }, data)), CEK));
  const publicKey = createPublicKey({
    key: Buffer.from(key.publicKey.pkix),
    format: "der",
    type: "spki",
  });
  const oracle = new Uint8Array(publicEncrypt({ key: publicKey, ...oaep }, CEK));
  assert.ok(sameBytes((await decryptWith(key, oracle))!, CEK));
});

Deno.test("ML-KEM recipient data has gobottle's layout and opens with the KEM directly", async () => {
  for (
    const [type, kem, ctLength] of [["mlkem768", ml_kem768, 1088], [
      "mlkem1024",
      ml_kem1024,
      1568,
    ]] as const
  ) {
    const key = await PrivateKey.generate(type);
    const seed = key.toPkcs8().subarray(-64);
    const data = await encryptFor(key.publicKey, CEK);
    assert.equal(data[0], 2);
    const ct = part(data, 1);
    assert.equal(ct.bytes.length, ctLength);
    const secret = kem.decapsulate(ct.bytes, kem.keygen(seed).secretKey);
    assert.ok(sameBytes(await gcmOpen(secret, data, ct.next), CEK), type);
    assert.equal(data.length, ct.next + 12 + 32 + 16);
  }
  const hybrid = await PrivateKey.generate("mlkem768-x25519");
  const pkcs8 = hybrid.toPkcs8();
  const xSecret = pkcs8.subarray(pkcs8.length - 64 - 2 - 32, pkcs8.length - 64 - 2);
  const data = await encryptFor(hybrid.publicKey, CEK);
  assert.equal(data[0], 1);
  const eph = part(data, 1);
  assert.ok(sameBytes(eph.bytes.subarray(0, 12), X25519_SPKI_PREFIX));
  const ct = part(data, eph.next);
  assert.equal(ct.bytes.length, 1088);
  const xShared = x25519.getSharedSecret(xSecret, eph.bytes.subarray(-32));
  const kemShared = ml_kem768.decapsulate(
    ct.bytes,
    ml_kem768.keygen(pkcs8.subarray(-64)).secretKey,
  );
  assert.ok(
    sameBytes(
      await gcmOpen(sha256(Uint8Array.from([...xShared, ...kemShared])), data, ct.next),
      CEK,
    ),
  );
});

Deno.test("recipient data for another key type gives undefined", async () => {
  const keys = await Promise.all(TYPES.map((type) => PrivateKey.generate(type)));
  for (const sender of keys) {
    const data = await encryptFor(sender.publicKey, CEK);
    for (const receiver of keys) {
      if (receiver === sender) continue;
      assert.equal(
        await decryptWith(receiver, data),
        undefined,
        `${sender.type} data to ${receiver.type}`,
      );
    }
  }
});

Deno.test("a recipient key that does not parse gives a SpotKeyError", async () => {
  await assert.rejects(
    encryptFor(new Uint8Array([0x30, 0x03, 0x01, 0x01, 0x00]), CEK),
    (error: unknown) => {
      assert.ok(error instanceof SpotKeyError);
      assert.equal(error.operation, "import PKIX public key");
      return true;
    },
  );
  // a P-256 "point" that is not on the curve
  const offCurve = KEYS.bob.pkix.slice();
  offCurve[offCurve.length - 1] ^= 1;
  await assert.rejects(encryptFor(offCurve, CEK), (error: unknown) => {
    assert.ok(error instanceof SpotKeyError);
    assert.equal(error.operation, "encrypt for recipient");
    return true;
  });
});

Deno.test("truncated, bit-flipped or extended recipient data gives undefined, never a crash", async () => {
  const keys = [
    await PrivateKey.fromDer(KEYS.bob.der),
    await PrivateKey.fromDer(KEYS.daniel.der),
    await PrivateKey.generate("mlkem768-x25519"),
    await PrivateKey.generate("rsa"),
  ];
  const samples = await Promise.all(keys.map((key) => encryptFor(key.publicKey, CEK)));
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: keys.length - 1 }),
      fc.oneof(
        fc.record({ cut: fc.nat() }),
        fc.record({ flip: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
        fc.record({ tail: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
        fc.record({ noise: fc.uint8Array({ maxLength: 300 }) }),
      ),
      async (which, damage) => {
        const data = samples[which];
        let bad: Uint8Array;
        if ("cut" in damage) bad = data.slice(0, damage.cut % data.length);
        else if ("flip" in damage) {
          bad = data.slice();
          bad[damage.flip % bad.length] ^= 1 << damage.bit;
        } else if ("tail" in damage) bad = Uint8Array.from([...data, ...damage.tail]);
        else bad = damage.noise;
        assert.equal(await decryptWith(keys[which], bad), undefined);
      },
    ),
    { seed: 110115, numRuns: 400 },
  );
});
