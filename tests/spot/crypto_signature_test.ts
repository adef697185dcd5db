/**
 * Signatures as Bottle makes them: every signature in the Go-written
 * vectors verifies over its message bytes; signatures made here verify with
 * an independent oracle (`@noble/curves`, and `node:crypto` for RSA) and the
 * oracle's verify here; other bytes, other keys and damaged signatures do
 * not verify; keys that cannot sign give a SpotKeyError.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createPublicKey, createSign, createVerify } from "node:crypto";
import fc from "fast-check";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { type KeyType, PrivateKey, sign, SpotKeyError, verify } from "../../src/spot/crypto/mod.ts";
import { forceBackend } from "../../src/spot/crypto/_backend.ts";
import { BLOBS, clearLayers, EXPECTED, KEYS, sameBytes } from "./_crypto_vectors.ts";

const MESSAGE = new TextEncoder().encode("Hello from Edgewire to Spot");
const NAME_BY_PKIX = new Map(Object.entries(KEYS).map(([name, key]) => [key.pkix.join(","), name]));

async function vectorSignatures(): Promise<
  { vector: string; signer: string; message: Uint8Array; pkix: Uint8Array; signature: Uint8Array }[]
> {
  const out = [];
  for (const [vector, blob] of Object.entries(BLOBS)) {
    for (const layer of clearLayers(blob)) {
      for (const [type, pkix, signature] of layer[4] ?? []) {
        assert.equal(type, 0);
        out.push({
          vector,
          signer: NAME_BY_PKIX.get(pkix.join(",")) ?? "?",
          message: layer[1],
          pkix,
          signature,
        });
      }
    }
  }
  return await Promise.resolve(out);
}

Deno.test("every signature in the Go-written vectors verifies over its message bytes", async () => {
  const signatures = await vectorSignatures();
  const expectedCount = Object.values(EXPECTED).reduce((sum, e) => sum + e.signedBy.length, 0);
  assert.ok(
    expectedCount >= 7 && signatures.length >= expectedCount,
    `${signatures.length} signatures`,
  );
  for (const { vector, signer, message, pkix, signature } of signatures) {
    assert.ok(await verify(pkix, message, signature), `${vector} by ${signer}`);
    const other = message.slice();
    other[0] ^= 1;
    assert.equal(await verify(pkix, other, signature), false, `${vector} over other bytes`);
  }
  const signers = new Set(signatures.map((s) => `${s.vector}:${s.signer}`));
  for (const [vector, expected] of Object.entries(EXPECTED)) {
    for (const name of expected.signedBy) {
      assert.ok(signers.has(`${vector}:${name}`), `${vector} signed by ${name}`);
    }
  }
});

Deno.test("the vector signatures also verify through the @noble/curves fallback", async () => {
  forceBackend("noble");
  try {
    for (const { vector, pkix, message, signature } of await vectorSignatures()) {
      assert.ok(await verify(pkix, message, signature), vector);
    }
    const chloe = await PrivateKey.fromDer(KEYS.chloe.der);
    assert.ok(chloe.publicKey.equals(KEYS.chloe.pkix), "public key derived by @noble/curves");
    const signature = await sign(chloe, MESSAGE);
    assert.ok(ed25519.verify(signature, MESSAGE, KEYS.chloe.pkix.subarray(-32)));
  } finally {
    forceBackend(undefined);
  }
});

const CURVES = { p256: [p256, sha256], p384: [p384, sha384], p521: [p521, sha512] } as const;

for (const type of ["p256", "p384", "p521"] as const) {
  Deno.test(`a ${type} signature made here is DER and verifies with @noble/curves, and the reverse`, async () => {
    const [curve, longHash] = CURVES[type];
    const key = await PrivateKey.generate(type);
    const point = key.publicKey.pkix.subarray(-(type === "p256" ? 65 : type === "p384" ? 97 : 133));
    const signature = await sign(key, MESSAGE);
    assert.equal(signature[0], 0x30);
    assert.ok(
      curve.verify(signature, sha256(MESSAGE), point, {
        prehash: false,
        lowS: false,
        format: "der",
      }),
    );
    // the draft's hash for the curve, on request
    const long = await sign(key, MESSAGE, {
      hash: type === "p384" ? "SHA-384" : type === "p521" ? "SHA-512" : "SHA-256",
    });
    assert.ok(
      curve.verify(long, longHash(MESSAGE), point, { prehash: false, lowS: false, format: "der" }),
    );
    assert.ok(await verify(key.publicKey, MESSAGE, long));

    const secret = curve.utils.randomSecretKey();
    const oracleSignature = curve.sign(sha256(MESSAGE), secret, { prehash: false, format: "der" });
    const oraclePkix = Uint8Array.from([
      ...key.publicKey.pkix.subarray(0, key.publicKey.pkix.length - point.length),
      ...curve.getPublicKey(secret, false),
    ]);
    assert.ok(await verify(oraclePkix, MESSAGE, oracleSignature));
    assert.equal(await verify(oraclePkix, MESSAGE, oracleSignature, { hash: "SHA-384" }), false);
    assert.equal(
      await verify(key.publicKey, MESSAGE, oracleSignature),
      false,
      "another key's signature",
    );
  });
}

Deno.test("an Ed25519 signature made here is 64 bytes and verifies with @noble/curves, and the reverse", async () => {
  const chloe = await PrivateKey.fromDer(KEYS.chloe.der);
  const signature = await sign(chloe, MESSAGE);
  assert.equal(signature.length, 64);
  assert.ok(ed25519.verify(signature, MESSAGE, KEYS.chloe.pkix.subarray(-32)));
  // Ed25519 is deterministic: the oracle's signature is the same bytes
  assert.ok(sameBytes(signature, ed25519.sign(MESSAGE, KEYS.chloe.der.subarray(-32))));
  const oracle = ed25519.sign(MESSAGE, KEYS.daniel.der.subarray(-32));
  assert.ok(await verify(KEYS.daniel.pkix, MESSAGE, oracle));
  assert.equal(await verify(KEYS.chloe.pkix, MESSAGE, oracle), false);
});

Deno.test("an RSA signature made here is PKCS#1 v1.5 SHA-256 as node:crypto checks it, and the reverse", async () => {
  const key = await PrivateKey.generate("rsa");
  const signature = await sign(key, MESSAGE);
  assert.equal(signature.length, 256);
  const publicKey = createPublicKey({
    key: Buffer.from(key.publicKey.pkix),
    format: "der",
    type: "spki",
  });
  assert.ok(createVerify("sha256").update(MESSAGE).verify(publicKey, signature));
  const oracle = createSign("sha256").update(MESSAGE).sign({ key: key.toPem(), format: "pem" });
  assert.ok(await verify(key.publicKey.pkix, MESSAGE, new Uint8Array(oracle)));
  assert.equal(
    await verify(key.publicKey.pkix, MESSAGE.subarray(1), new Uint8Array(oracle)),
    false,
  );
});

Deno.test("keys that cannot sign give a SpotKeyError naming the operation", async () => {
  for (const type of ["x25519", "mlkem768"] as KeyType[]) {
    const key = await PrivateKey.generate(type);
    await assert.rejects(sign(key, MESSAGE), (error: unknown) => {
      assert.ok(error instanceof SpotKeyError);
      assert.equal(error.operation, "sign");
      return true;
    });
    await assert.rejects(verify(key.publicKey, MESSAGE, new Uint8Array(64)), {
      name: "SpotKeyError",
    });
  }
  await assert.rejects(verify(new Uint8Array([1, 2, 3]), MESSAGE, new Uint8Array(64)), {
    name: "SpotKeyError",
  });
});

Deno.test("a truncated, bit-flipped or extended signature never verifies and never throws", async () => {
  const alice = await PrivateKey.fromDer(KEYS.alice.der);
  const chloe = await PrivateKey.fromDer(KEYS.chloe.der);
  const signed = [
    { key: alice, signature: await sign(alice, MESSAGE) },
    { key: chloe, signature: await sign(chloe, MESSAGE) },
  ];
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 1 }),
      fc.oneof(
        fc.record({ cut: fc.nat() }),
        fc.record({ flip: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
        fc.record({ tail: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
      ),
      async (which, damage) => {
        const { key, signature } = signed[which];
        let bad: Uint8Array;
        if ("cut" in damage) bad = signature.slice(0, damage.cut % signature.length);
        else if ("flip" in damage) {
          bad = signature.slice();
          bad[damage.flip % bad.length] ^= 1 << damage.bit;
        } else bad = Uint8Array.from([...signature, ...damage.tail]);
        assert.equal(await verify(key.publicKey, MESSAGE, bad), false);
      },
    ),
    { seed: 110113, numRuns: 400 },
  );
});

Deno.test("the raw and DER ECDSA signature forms convert as @noble/curves converts them", async () => {
  const { derToRaw, rawToDer } = await import("../../src/spot/crypto/_ecdsa_der.ts");
  const scalar = fc.bigInt({ min: 1n, max: p256.Point.CURVE().n - 1n });
  fc.assert(
    fc.property(scalar, scalar, (r, s) => {
      const signature = new p256.Signature(r, s);
      const raw = signature.toBytes("compact");
      const der = rawToDer(raw);
      assert.ok(sameBytes(der, signature.toBytes("der")));
      assert.ok(sameBytes(derToRaw(der, 32)!, raw));
    }),
    { seed: 110116, numRuns: 500 },
  );
});
