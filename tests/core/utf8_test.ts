import assert from "node:assert/strict";
import fc from "fast-check";
import { hasLoneSurrogate, truncateUtf8, utf8ByteLength } from "../../src/core/utf8.ts";

const encoder = new TextEncoder();
// Any UTF-16 sequence, lone surrogates included
const anyText = fc.string({ unit: "binary" });

Deno.test("utf8ByteLength counts what TextEncoder produces, lone surrogates included", () => {
  assert.equal(utf8ByteLength(""), 0);
  assert.equal(utf8ByteLength("héllo 👋"), 11);
  assert.equal(utf8ByteLength("\ud83d"), 3);
  assert.equal(utf8ByteLength("\ude00x"), 4);
  fc.assert(
    fc.property(anyText, (text) => utf8ByteLength(text) === encoder.encode(text).length),
    { seed: 9, numRuns: 2000 },
  );
});

Deno.test("hasLoneSurrogate agrees with String.prototype.isWellFormed", () => {
  assert.equal(hasLoneSurrogate("ok 👋"), false);
  assert.equal(hasLoneSurrogate("a\ud83d"), true);
  assert.equal(hasLoneSurrogate("\ude00"), true);
  fc.assert(
    fc.property(anyText, (text) => hasLoneSurrogate(text) === !text.isWellFormed()),
    { seed: 9, numRuns: 2000 },
  );
});

Deno.test("truncateUtf8 returns the longest prefix within the budget that splits no pair", () => {
  assert.equal(truncateUtf8("añb", 2), "a");
  assert.equal(truncateUtf8("a👋", 4), "a");
  assert.equal(truncateUtf8("a👋", 5), "a👋");
  fc.assert(
    fc.property(anyText, fc.nat(40), (text, maxBytes) => {
      const cut = truncateUtf8(text, maxBytes);
      assert.ok(text.startsWith(cut));
      assert.ok(utf8ByteLength(cut) <= maxBytes);
      if (cut.length < text.length) {
        // One more character (a whole pair where there is one) would not fit
        const next = text.codePointAt(cut.length)! > 0xffff ? 2 : 1;
        assert.ok(utf8ByteLength(text.slice(0, cut.length + next)) > maxBytes);
      }
    }),
    { seed: 9, numRuns: 2000 },
  );
});
