/**
 * Bad input never crashes, hangs or allocates without bound: truncated and
 * bit-flipped vectors, random bytes, wrong tags, huge declared lengths,
 * nesting past the limits and signatures over other bytes all end in a typed
 * error naming what failed (fast-check with fixed seeds).
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { encode } from "cborg";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  Bottle,
  BottleDecryptionError,
  BottleFormatError,
  BottleSignatureError,
  IDCard,
  IDCardError,
  openBottle,
} from "../../src/spot/bottle/mod.ts";
import { BOTTLE_VECTORS, fromHex, IDCARD_VECTORS, KEYS, VECTORS } from "./_bottle_vectors.ts";

const ALL_KEYS = Object.values(KEYS);
const hex = (text: string) => fromHex(text.replace(/\s+/g, ""));

/** Asserts that decoding fails with a BottleFormatError of this code. */
function refuses(bytes: Uint8Array, code: string, pattern?: RegExp): void {
  assert.throws(() => Bottle.decode(bytes), (error) => {
    assert.ok(error instanceof BottleFormatError, String(error));
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

function isTyped(error: unknown): boolean {
  return error instanceof BottleFormatError || error instanceof BottleSignatureError ||
    error instanceof BottleDecryptionError || error instanceof IDCardError;
}

Deno.test("every truncation of every vector is refused as malformed CBOR", () => {
  let count = 0;
  for (const vector of VECTORS) {
    const bytes = fromHex(vector.blob_hex);
    for (let length = 0; length < bytes.length; length++) {
      assert.throws(() => Bottle.decode(bytes.subarray(0, length)), (error) => {
        assert.ok(error instanceof BottleFormatError, `${vector.constant} cut at ${length}`);
        return error.code === "invalid_cbor";
      });
      count++;
    }
  }
  assert.ok(count > 2000);
});

for (const vector of BOTTLE_VECTORS) {
  Deno.test(`single-bit flips anywhere in ${vector.constant} are refused with a typed error`, async () => {
    const bytes = fromHex(vector.blob_hex);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bytes.length * 8 - 1 }), async (bit) => {
        const flipped = bytes.slice();
        flipped[bit >> 3] ^= 1 << (bit & 7);
        const outcome = await openBottle(flipped, { keys: ALL_KEYS }).then(
          () => "opened",
          (error) => isTyped(error) ? "refused" : error,
        );
        assert.equal(outcome, "refused", `bit ${bit}`);
      }),
      { seed: 1111, numRuns: 300 },
    );
  });
}

for (const vector of IDCARD_VECTORS) {
  Deno.test(`single-bit flips anywhere in ${vector.constant} fail to load with a typed error`, async () => {
    const bytes = fromHex(vector.blob_hex);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bytes.length * 8 - 1 }), async (bit) => {
        const flipped = bytes.slice();
        flipped[bit >> 3] ^= 1 << (bit & 7);
        const outcome = await IDCard.load(flipped).then(
          () => "loaded",
          (error) => isTyped(error) ? "refused" : error,
        );
        assert.equal(outcome, "refused", `bit ${bit}`);
      }),
      { seed: 1112, numRuns: 200 },
    );
  });
}

Deno.test("random bytes decode as a bottle or fail with a BottleFormatError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        Bottle.decode(bytes);
      } catch (error) {
        assert.ok(error instanceof BottleFormatError, String(error));
      }
    }),
    { seed: 1113, numRuns: 3000 },
  );
});

Deno.test("random CBOR values in a five-item array decode or fail with a BottleFormatError", () => {
  const value = fc.oneof(
    fc.constant(null),
    fc.integer(),
    fc.string(),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(fc.oneof(fc.integer(), fc.uint8Array({ maxLength: 4 })), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 3 }),
  );
  let decoded = 0;
  fc.assert(
    fc.property(fc.tuple(value, value, fc.integer({ min: -1, max: 5 }), value, value), (items) => {
      try {
        const bottle = Bottle.decode(encode(items));
        decoded++;
        assert.deepEqual(Bottle.decode(bottle.encode()).encode(), bottle.encode());
      } catch (error) {
        assert.ok(error instanceof BottleFormatError, String(error));
      }
    }),
    { seed: 1114, numRuns: 3000 },
  );
  assert.ok(decoded > 0, "some random arrays are bottles");
});

Deno.test("bottles that break a structural rule are refused with the rule named", () => {
  refuses(hex("84 a0 40 00 f6"), "invalid_structure", /array of 4 items/);
  refuses(hex("a0"), "invalid_structure", /not an array/);
  refuses(hex("85 80 40 00 f6 f6"), "invalid_structure", /header is not a map/);
  refuses(hex("85 a1 01 00 40 00 f6 f6"), "invalid_structure", /header key is a number/);
  refuses(hex("85 a0 60 00 f6 f6"), "invalid_structure", /message is not a byte string/);
  refuses(hex("85 a0 40 04 f6 f6"), "unknown_format", /format 4/);
  refuses(hex("85 a0 40 20 f6 f6"), "unknown_format", /format -1/);
  refuses(hex("85 a0 40 02 81 83 01 40 40 f6"), "unknown_type", /recipient 0 .* type 1/);
  refuses(hex("85 a0 40 00 f6 81 83 05 40 40"), "unknown_type", /signature 0 .* type 5/);
  refuses(hex("85 a0 40 00 f6 81 82 00 40"), "invalid_structure", /not an array of 3/);
  refuses(hex("85 a0 40 02 f6 f6"), "invalid_structure", /no recipient/);
  refuses(hex("85 a0 40 00 81 83 00 40 40 f6"), "invalid_structure", /not encrypted/);
  refuses(hex("85 a0 40 00 f6 f6 00"), "invalid_cbor", /1 bytes follow/);
  refuses(hex("9f a0 40 00 f6 f6 ff"), "invalid_cbor");
  refuses(hex("85 a0 40 18 00 f6 f6"), "invalid_cbor", /minimal|smallest|integer/i);
  refuses(hex("85 a2 61 61 00 61 61 01 40 00 f6 f6"), "invalid_cbor", /repeat/);
  refuses(hex("85 a1 61 61 f7 40 00 f6 f6"), "invalid_cbor", /undefined/);
});

Deno.test("tags are refused wherever they appear in a bottle", () => {
  refuses(hex("c1 85 a0 40 00 f6 f6"), "invalid_structure", /starts with a CBOR tag/);
  refuses(hex("85 a1 61 61 c1 00 40 00 f6 f6"), "invalid_cbor", /tag/);
  refuses(hex("85 a0 d8 18 40 00 f6 f6"), "invalid_cbor", /tag/);
});

Deno.test("huge declared lengths fail at once without allocating", () => {
  const started = performance.now();
  // An array of 2^32-1 items, a map of 2^32-1 entries, a byte string of 2^53-1 bytes, a 2^64-1 array
  refuses(hex("9a ffffffff 00"), "invalid_cbor", /4294967295 items/);
  refuses(hex("85 ba ffffffff 40 00 f6 f6"), "invalid_cbor", /items with only/);
  refuses(hex("85 a0 5b 001fffffffffffff 00 f6 f6"), "invalid_cbor");
  refuses(hex("9b ffffffffffffffff"), "invalid_cbor");
  refuses(hex("85 a0 40 00 f6 99 ffff"), "invalid_cbor", /65535 items/);
  assert.ok(performance.now() - started < 1000, "no time spent on the declared sizes");
});

Deno.test("CBOR nested past the limit is refused without exhausting the stack", () => {
  const deep = (depth: number) => {
    const bytes = new Uint8Array(depth + 10);
    bytes.set([0x85, 0xa1, 0x61, 0x61]);
    bytes.fill(0x81, 4, 4 + depth);
    bytes.set([0x00, 0x40, 0x00, 0xf6, 0xf6], 4 + depth);
    return bytes.subarray(0, 9 + depth);
  };
  assert.deepEqual(Bottle.decode(deep(20)).encode(), deep(20));
  refuses(deep(40), "too_deep", /deeper than 32/);
  refuses(deep(200_000), "too_deep");
});

Deno.test("bottles nested past the depth limit are refused, and the limit is an option", async () => {
  const bottle = new Bottle("deep");
  for (let i = 0; i < 15; i++) bottle.bottleUp();
  assert.equal((await openBottle(bottle.encode())).layers.length, 16);
  bottle.bottleUp();
  await assert.rejects(
    openBottle(bottle.encode()),
    (error) => error instanceof BottleFormatError && error.code === "too_deep",
  );
  await assert.rejects(openBottle(bottle.encode(), { maxDepth: 0 }), InvalidArgumentError);
  await assert.rejects(
    openBottle(new Bottle("x").bottleUp().bottleUp().encode(), { maxDepth: 2 }),
    (error) => error instanceof BottleFormatError && /more than 2 bottles deep/.test(error.message),
  );
});

Deno.test("a signature moved onto other bytes is refused", async () => {
  const signed = Bottle.decode(fromHex(VECTORS[0].blob_hex));
  const forged = Bottle.decode(
    encode([{}, new TextEncoder().encode("Hello from Mallory"), 0, null, [[
      0,
      signed.signatures[0].signer,
      signed.signatures[0].data,
    ]]]),
  );
  await assert.rejects(openBottle(forged), (error) => {
    assert.ok(error instanceof BottleSignatureError);
    assert.match(error.message, /signature 0 of layer 0 does not verify/);
    assert.deepEqual(error.signer, signed.signatures[0].signer);
    return true;
  });
});

Deno.test("a signature by a key that does not parse is refused as a signature error", async () => {
  const bottle = encode([{}, new Uint8Array([1]), 0, null, [[
    0,
    new Uint8Array([1, 2]),
    new Uint8Array(64),
  ]]]);
  await assert.rejects(openBottle(bottle), BottleSignatureError);
});

Deno.test("an encrypted layer that fails authentication is refused as undecryptable", async () => {
  const bottle = await new Bottle("sealed").encrypt(KEYS.bob.publicKey);
  const bytes = bottle.encode();
  const tampered = bytes.slice();
  tampered[tampered.length - 5] ^= 1;
  await assert.rejects(
    openBottle(tampered, { keys: [KEYS.bob] }),
    (error) => error instanceof BottleDecryptionError && error.code === "decrypt_failed",
  );
  const short = encode([{}, new Uint8Array(27), 2, [[
    0,
    KEYS.bob.publicKey.pkix,
    new Uint8Array(1),
  ]], null]);
  await assert.rejects(
    openBottle(short, { keys: [KEYS.bob] }),
    (error) => error instanceof BottleFormatError && error.code === "truncated",
  );
});

Deno.test("decrypted content that is not a bottle is refused as malformed", async () => {
  const bottle = await new Bottle(new Uint8Array([0xff, 0x00]), { format: 1 }).encrypt(
    KEYS.bob.publicKey,
  );
  await assert.rejects(openBottle(bottle.encode(), { keys: [KEYS.bob] }), (error) => {
    assert.ok(error instanceof BottleFormatError);
    assert.match(error.message, /decrypted layer 1/);
    return true;
  });
});

Deno.test("a JSON layer that is not a JSON bottle is refused as invalid JSON", async () => {
  for (const body of ["{", "[1]", '{"msg": 5, "fmt": 0}', "[".repeat(100_000)]) {
    const outer = new Bottle(body, { format: 3 });
    await assert.rejects(
      openBottle(outer.encode()),
      (error) => error instanceof BottleFormatError && error.code === "invalid_json",
      body.slice(0, 20),
    );
  }
});
