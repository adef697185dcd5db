import assert from "node:assert/strict";
import fc from "fast-check";
import {
  channelSafeString,
  channelString,
  channelWindow,
  excludesSender,
  integerOption,
  makeChannel,
  parseChannel,
} from "../../src/emitter/security/channel.ts";
import { murmur32, murmur32String } from "../../src/emitter/security/murmur.ts";
import { TEST_VECTORS } from "./_security_vectors.ts";

Deno.test("murmur32 matches every hash of the broker's murmur tests", () => {
  const { cases, extra_from_key_go } = TEST_VECTORS.murmur_hash;
  assert.ok(cases.length >= 6);
  for (const { input_utf8, murmur32_emitter } of cases) {
    assert.equal(murmur32String(input_utf8), murmur32_emitter, input_utf8);
  }
  assert.equal(murmur32(new Uint8Array(0)), extra_from_key_go["empty string"]);
});

Deno.test("parseChannel gives the type, key, channel, options and query of every vector", () => {
  const { cases } = TEST_VECTORS.parse_channel;
  assert.equal(cases.length, 33);
  for (const { input, expect, derived_query_u32 } of cases) {
    const parsed = parseChannel(input);
    assert.equal(parsed.type, expect.type, input);
    if (expect.type === "invalid") continue;
    assert.equal(parsed.key, expect.key, input);
    assert.equal(parsed.channel, expect.channel, input);
    assert.deepEqual(parsed.options, expect.options, input);
    assert.deepEqual(parsed.query, derived_query_u32, input);
  }
});

Deno.test("channel options read me, ttl, last, from and until as the broker does", () => {
  const groups = TEST_VECTORS.channel_options;
  for (const { input, exclude } of groups.exclude_me) {
    assert.equal(excludesSender(parseChannel(input)), exclude, input);
  }
  for (const name of ["ttl", "last"]) {
    for (const { input, value, ok } of groups[name]) {
      const read = integerOption(parseChannel(input), name);
      assert.equal(read !== undefined, ok, input);
      assert.equal(read ?? 0, value, input);
    }
  }
  for (const { input, from, until } of groups.window_unix_seconds) {
    assert.deepEqual(channelWindow(parseChannel(input)), { from, until }, input);
  }
  for (const { input, target_u32 } of groups.target) {
    assert.equal(parseChannel(input).query[0], target_u32, input);
  }
  for (const { key, channel, expect_key, expect_channel } of groups.make_channel) {
    const made = makeChannel(key, channel);
    assert.equal(made.key, expect_key);
    assert.equal(made.channel, expect_channel);
  }
  for (const { input, string } of groups.string_roundtrip) {
    assert.equal(channelString(parseChannel(input)), string);
  }
});

Deno.test("options may end with one '&' and a lone '?' means no options", () => {
  assert.deepEqual(parseChannel("KEY/ch/?ttl=60&me=0&").options, [
    { key: "ttl", value: "60" },
    { key: "me", value: "0" },
  ]);
  const lone = parseChannel("KEY/ch/?");
  assert.equal(lone.type, "static");
  assert.deepEqual(lone.options, []);
  assert.equal(channelSafeString(lone), "ch/");
  assert.equal(parseChannel("KEY/ch/?a=1&&b=2").type, "invalid");
  assert.equal(parseChannel("KEY/ch/?a").type, "invalid");
  assert.equal(parseChannel("KEY/ch/é/").type, "invalid");
});

Deno.test("integerOption refuses values beyond 64 bits as Go's ParseInt does", () => {
  assert.equal(integerOption(parseChannel("k/a/?ttl=9223372036854775807"), "ttl"), 2 ** 63);
  assert.equal(integerOption(parseChannel("k/a/?ttl=9223372036854775808"), "ttl"), undefined);
});

Deno.test("parseChannel never throws and a valid result always rebuilds the same topic", () => {
  const alphabet = "ab/+#*?=&_-$.é:".split("");
  const topic = fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((c) => c.join(""));
  fc.assert(
    fc.property(fc.oneof(topic, fc.string()), (text) => {
      const parsed = parseChannel(text);
      if (parsed.type === "invalid") return;
      assert.ok(parsed.channel.endsWith("/"));
      assert.equal(parsed.query.length, parsed.channel.split("/").length - 1);
      const rebuilt = parseChannel(channelString(parsed));
      assert.deepEqual(rebuilt, parsed);
    }),
    { seed: 1010, numRuns: 3000 },
  );
});
