import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2.js";
import { sha256Kernel } from "../../src/pow/_sha256.ts";

Deno.test("the hand-written SHA-256 kernel matches the FIPS 180-2 vector for abc", () => {
  assert.deepEqual(
    sha256Kernel(new TextEncoder().encode("abc")),
    sha256(new TextEncoder().encode("abc")),
  );
});

Deno.test("the hand-written SHA-256 kernel matches noble for every length across block boundaries", () => {
  for (let length = 0; length <= 200; length++) {
    const message = new Uint8Array(length).map((_, i) => (i * 31 + length) & 0xff);
    assert.deepEqual(sha256Kernel(message), sha256(message), `length ${length}`);
  }
});

Deno.test("the hand-written SHA-256 kernel matches noble for random messages", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (message) => {
      assert.deepEqual(sha256Kernel(message), sha256(message));
    }),
    { seed: 3, numRuns: 300 },
  );
});
