/**
 * Keys of the Spot crypto layer: the interop vector keys load in every form
 * they are given in and give the public keys the extractor derived; keys of
 * every type generate, export and load again; the ML-KEM forms are the ones
 * gobottle writes; broken DER and PEM give a SpotKeyError naming the
 * operation, never the key bytes.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { p256 } from "@noble/curves/nist.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import {
  type KeyType,
  pemDecode,
  PrivateKey,
  PublicKey,
  SpotKeyError,
} from "../../src/spot/crypto/mod.ts";
import { fromHex, KEYS, sameBytes } from "./_crypto_vectors.ts";

const ALL_TYPES: KeyType[] = [
  "p256",
  "p384",
  "p521",
  "ed25519",
  "x25519",
  "rsa",
  "mlkem768",
  "mlkem1024",
  "mlkem768-x25519",
  "mlkem1024-x25519",
];

Deno.test("the vector keys load as given and give the derived public keys", async () => {
  const expectedTypes: Record<string, KeyType> = {
    alice: "p256",
    bob: "p256",
    chloe: "ed25519",
    daniel: "ed25519",
  };
  for (const [name, vector] of Object.entries(KEYS)) {
    const key = await PrivateKey.fromDer(vector.der);
    assert.equal(key.type, expectedTypes[name], name);
    assert.ok(sameBytes(key.publicKey.pkix, vector.pkix), `${name} public key`);
    assert.equal(key.publicKey.toPem(), vector.publicPem, `${name} public PEM`);
    assert.ok(PublicKey.fromPem(vector.publicPem).equals(vector.pkix), `${name} public PEM loads`);
    const fromPem = await PrivateKey.fromPem(vector.pkcs8Pem);
    assert.ok(fromPem.publicKey.equals(vector.pkix), `${name} PKCS#8 PEM`);
  }
});

Deno.test("the SEC1 vector keys export as the PKCS#8 the Python cryptography package derived", async () => {
  for (const name of ["alice", "bob"]) {
    const key = await PrivateKey.fromSec1(KEYS[name].der);
    assert.equal(key.toPem(), KEYS[name].pkcs8Pem, name);
    const sec1Pem = `-----BEGIN EC PRIVATE KEY-----\n${
      btoa(String.fromCharCode(...KEYS[name].der))
    }\n-----END EC PRIVATE KEY-----\n`;
    assert.ok((await PrivateKey.fromPem(sec1Pem)).publicKey.equals(KEYS[name].pkix), name);
  }
});

Deno.test("the public keys derived here match an independent derivation with @noble/curves", async () => {
  const alice = await PrivateKey.fromDer(KEYS.alice.der);
  const d = KEYS.alice.der.subarray(7, 39); // SEC1: 30 77 02 01 01 04 20 <d>
  assert.ok(sameBytes(alice.publicKey.pkix.subarray(-65), p256.getPublicKey(d, false)));
  const chloe = await PrivateKey.fromDer(KEYS.chloe.der);
  assert.ok(
    sameBytes(
      chloe.publicKey.pkix.subarray(-32),
      ed25519.getPublicKey(KEYS.chloe.der.subarray(-32)),
    ),
  );
});

for (const type of ALL_TYPES) {
  Deno.test(`a generated ${type} key exports and loads again as DER and PEM`, async () => {
    const key = await PrivateKey.generate(type);
    assert.equal(key.type, type);
    assert.equal(key.publicKey.type, type);
    const again = await PrivateKey.fromPkcs8(key.toPkcs8());
    assert.ok(again.publicKey.equals(key.publicKey));
    assert.ok(sameBytes(again.toPkcs8(), key.toPkcs8()));
    assert.ok((await PrivateKey.fromDer(key.toPkcs8())).publicKey.equals(key.publicKey));
    assert.ok((await PrivateKey.fromPem(key.toPem())).publicKey.equals(key.publicKey));
    assert.ok(PublicKey.fromPem(key.publicKey.toPem()).equals(key.publicKey));
    assert.equal(PublicKey.fromPkix(key.publicKey.pkix).type, type);
    assert.equal(pemDecode(key.toPem()).label, "PRIVATE KEY");
  });
}

Deno.test("two generated keys differ", async () => {
  const [a, b] = [await PrivateKey.generate(), await PrivateKey.generate()];
  assert.equal(a.type, "p256");
  assert.ok(!a.publicKey.equals(b.publicKey));
});

Deno.test("ML-KEM keys use gobottle's PKCS#8 and PKIX layouts", async () => {
  const pure = await PrivateKey.generate("mlkem768");
  const pkcs8 = pure.toPkcs8();
  // SEQUENCE { INTEGER 0, SEQUENCE { OID 2.16.840.1.101.3.4.4.2 }, OCTET STRING <64-byte seed> }
  assert.ok(
    sameBytes(
      pkcs8.subarray(0, pkcs8.length - 64),
      fromHex("3052020100300b0609608648016503040402044" + "0"),
    ),
  );
  const seed = pkcs8.subarray(-64);
  const expectedPublic = ml_kem768.keygen(seed).publicKey;
  assert.ok(sameBytes(pure.publicKey.pkix.subarray(-1184), expectedPublic));
  assert.ok(
    sameBytes(
      pure.publicKey.pkix.subarray(0, 22),
      fromHex("308204b2300b060960864801650304040203820" + "4a100"),
    ),
  );

  const hybrid = await PrivateKey.generate("mlkem768-x25519");
  const hybridPkix = hybrid.publicKey.pkix;
  const compositeOid = "060b2b0601040183d901010101"; // 1.3.6.1.4.1.60545.1.1.1
  // SEQUENCE { SEQUENCE { OID }, BIT STRING { SEQUENCE { BIT STRING x25519(32), BIT STRING ek(1184) } } }
  const head = `308204e0300d${compositeOid}038204cd00308204c8032100`;
  assert.equal(toHex(hybridPkix.subarray(0, head.length / 2)), head);
  assert.equal(
    toHex(hybridPkix.subarray(head.length / 2 + 32, head.length / 2 + 37)),
    "038204a100",
  );
  const hybridPkcs8 = hybrid.toPkcs8();
  // SEQUENCE { INTEGER 0, SEQUENCE { OID }, OCTET STRING { SEQUENCE { OCTET STRING x25519(32), OCTET STRING seed(64) } } }
  const pkcs8Head = `307a020100300d${compositeOid}046630640420`;
  assert.equal(toHex(hybridPkcs8.subarray(0, pkcs8Head.length / 2)), pkcs8Head);
  const xSecret = hybridPkcs8.subarray(pkcs8Head.length / 2, pkcs8Head.length / 2 + 32);
  const xPublic = hybridPkix.subarray(head.length / 2, head.length / 2 + 32);
  assert.ok(sameBytes(x25519.getPublicKey(xSecret), xPublic), "X25519 parts pair up");
  assert.ok(
    sameBytes(ml_kem768.keygen(hybridPkcs8.subarray(-64)).publicKey, hybridPkix.subarray(-1184)),
  );
  assert.ok(sameBytes((await PrivateKey.fromPkcs8(hybridPkcs8)).publicKey.pkix, hybridPkix));
});

Deno.test("an ML-KEM key in the RFC 9935 seed form loads like gobottle's bare seed", async () => {
  const key = await PrivateKey.generate("mlkem1024");
  const bare = key.toPkcs8();
  const seed = bare.subarray(-64);
  const prefix = fromHex("3054020100300b060960864801650304040304428040");
  const rfc = new Uint8Array(prefix.length + 64);
  rfc.set(prefix);
  rfc.set(seed, prefix.length);
  assert.ok((await PrivateKey.fromPkcs8(rfc)).publicKey.equals(key.publicKey));
});

Deno.test("an EC key whose embedded public key does not match its scalar is refused", async () => {
  const alice = KEYS.alice.der.slice();
  alice[alice.length - 1] ^= 1;
  await assert.rejects(PrivateKey.fromSec1(alice), (error: unknown) => {
    assert.ok(error instanceof SpotKeyError);
    assert.match(error.message, /does not match/);
    return true;
  });
});

Deno.test("an unsupported type or RSA size to generate is an InvalidArgumentError", async () => {
  await assert.rejects(PrivateKey.generate("dsa" as KeyType), { name: "InvalidArgumentError" });
  await assert.rejects(PrivateKey.generate("rsa", { rsaBits: 1024 }), {
    name: "InvalidArgumentError",
  });
});

Deno.test("a PEM block of the wrong kind or with broken base64 is a SpotKeyError", async () => {
  await assert.rejects(PrivateKey.fromPem(KEYS.alice.publicPem), { name: "SpotKeyError" });
  assert.throws(() => PublicKey.fromPem(KEYS.alice.pkcs8Pem), { name: "SpotKeyError" });
  assert.throws(() => pemDecode("no pem here"), { name: "SpotKeyError" });
  assert.throws(
    () => pemDecode("-----BEGIN PUBLIC KEY-----\n@@@@\n-----END PUBLIC KEY-----\n"),
    { name: "SpotKeyError" },
  );
});

const KEY_DERS = [KEYS.alice.der, KEYS.chloe.der];
const PKIXS = [KEYS.alice.pkix, KEYS.chloe.pkix];

/** An arbitrary that truncates, bit-flips or extends one of `inputs`. */
function damaged(inputs: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const pick = fc.integer({ min: 0, max: inputs.length - 1 });
  return fc.oneof(
    fc.tuple(pick, fc.nat()).map(([i, n]) => inputs[i].slice(0, n % inputs[i].length)),
    fc.tuple(pick, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([i, at, bit]) => {
      const out = inputs[i].slice();
      out[at % out.length] ^= 1 << bit;
      return out;
    }),
    fc.tuple(pick, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([i, tail]) =>
      Uint8Array.from([...inputs[i], ...tail])
    ),
    fc.uint8Array({ maxLength: 200 }),
  );
}

Deno.test("truncated, bit-flipped or extended PKIX gives a key or a SpotKeyError, never a crash", () => {
  fc.assert(
    fc.property(damaged(PKIXS), (bytes) => {
      try {
        const key = PublicKey.fromPkix(bytes);
        assert.ok(sameBytes(key.pkix, bytes));
      } catch (error) {
        assert.ok(error instanceof SpotKeyError, String(error));
        assert.equal(error.operation, "import PKIX public key");
      }
    }),
    { seed: 110111, numRuns: 1500 },
  );
});

Deno.test("truncated, bit-flipped or extended private key DER gives a key or a SpotKeyError without the key bytes", async () => {
  const secretHex = [toHex(KEYS.alice.der.subarray(7, 39)), toHex(KEYS.chloe.der.subarray(-32))];
  await fc.assert(
    fc.asyncProperty(damaged(KEY_DERS), async (bytes) => {
      try {
        const key = await PrivateKey.fromDer(bytes);
        assert.ok(key.publicKey.pkix.length > 0);
      } catch (error) {
        assert.ok(error instanceof SpotKeyError, String(error));
        for (const secret of secretHex) assert.ok(!error.message.toLowerCase().includes(secret));
      }
    }),
    { seed: 110112, numRuns: 400 },
  );
});

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
