import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { leadingHexZeros, meetsDifficulty } from "../../src/pow/rule.ts";

const encoder = new TextEncoder();

/** The rule as the original Python client states it: a prefix of the hex string. */
function oracleMeets(challenge: string, nonce: string, difficulty: number): boolean {
  return hex.encode(sha256(encoder.encode(`${challenge}:${nonce}`))).startsWith(
    "0".repeat(difficulty),
  );
}

const VECTOR_CHALLENGE = "3f9a1c0e5b7d2468ace013579bdf2468";

Deno.test("meetsDifficulty accepts the known vector nonce 1157 at difficulty 4", () => {
  assert.equal(meetsDifficulty(VECTOR_CHALLENGE, "1157", 4), true);
  assert.equal(meetsDifficulty(VECTOR_CHALLENGE, "1156", 4), false);
});

Deno.test("leadingHexZeros counts zero nibbles, not zero bytes", () => {
  assert.equal(leadingHexZeros(new Uint8Array([])), 0);
  assert.equal(leadingHexZeros(new Uint8Array([0x10])), 0);
  assert.equal(leadingHexZeros(new Uint8Array([0x0f])), 1);
  assert.equal(leadingHexZeros(new Uint8Array([0x00, 0x01])), 3);
  assert.equal(leadingHexZeros(new Uint8Array([0x00, 0x00, 0xff])), 4);
  assert.equal(leadingHexZeros(new Uint8Array(32)), 64);
});

Deno.test("leadingHexZeros agrees with the lowercase hex string for any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const text = hex.encode(bytes);
      const expected = text.length - text.replace(/^0+/, "").length;
      assert.equal(leadingHexZeros(bytes), expected);
    }),
    { seed: 1, numRuns: 500 },
  );
});

Deno.test("meetsDifficulty agrees with the hex-prefix rule for any challenge, nonce and difficulty", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary", maxLength: 80 }),
      fc.string({ maxLength: 16 }),
      fc.integer({ min: 1, max: 3 }),
      (challenge, nonce, difficulty) => {
        assert.equal(
          meetsDifficulty(challenge, nonce, difficulty),
          oracleMeets(challenge, nonce, difficulty),
        );
      },
    ),
    { seed: 2, numRuns: 300 },
  );
});

Deno.test("meetsDifficulty rejects difficulties outside 1..64 naming 'difficulty'", () => {
  for (const difficulty of [0, 65, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => meetsDifficulty("c", "0", difficulty),
      (error) =>
        error instanceof InvalidArgumentError && error.argument === "difficulty" &&
        error.message.includes("'difficulty' must be an integer from 1 to 64"),
    );
  }
});
