/**
 * Spot addresses and the bodies around queries: the `k.`, `c.`, `g.`, `@/`
 * and `/` forms and their refusals, the routing segment of answers,
 * `@/time` and `@/group_list` answers, the blob store bodies, and the
 * discovery answer in each of its wrappings.
 *
 * @module
 */

import assert from "node:assert/strict";
import { base64urlnopad, hex } from "@scure/base";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import {
  encodeFetchBlobBody,
  encodeGroupList,
  encodeStoreBlobBody,
  encodeTimeAnswer,
  formatAddress,
  keyTarget,
  parseAddress,
  parseDiscoveryAnswer,
  parseFetchBlobBody,
  parseGroupList,
  parseStoreBlobBody,
  parseTimeAnswer,
  routingSegment,
  SpotProtocolError,
  type SpotProtocolProblem,
} from "../../src/spot/proto/mod.ts";

const HASH = Uint8Array.from({ length: 32 }, (_, index) => index * 7);
const HASH_TEXT = base64urlnopad.encode(HASH);

function throwsCode(run: () => unknown, code: SpotProtocolProblem, pattern?: RegExp): void {
  assert.throws(run, (error) => {
    assert.ok(error instanceof SpotProtocolError, `${error} is a SpotProtocolError`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("each address form parses into its parts and formats back", () => {
  const cases = [
    [`k.${HASH_TEXT}/ping`, { kind: "key", server: null, hash: HASH, endpoint: "ping" }],
    [`k.4p84.${HASH_TEXT}/a/b`, { kind: "key", server: "4p84", hash: HASH, endpoint: "a/b" }],
    ["c.4p84.conn-ubzvcl-h7yv/699ec197", {
      kind: "connection",
      server: "4p84",
      clientId: "conn-ubzvcl-h7yv",
      endpoint: "699ec197",
    }],
    [`g.${HASH_TEXT}/api`, { kind: "group", hash: HASH, endpoint: "api" }],
    ["@/idcard_find", { kind: "system", endpoint: "idcard_find" }],
    ["/noreply", { kind: "local", endpoint: "noreply" }],
    ["@/", { kind: "system", endpoint: "" }],
  ] as const;
  for (const [text, parts] of cases) {
    assert.deepEqual(parseAddress(text), parts, text);
    assert.equal(formatAddress(parseAddress(text)), text);
  }
  assert.equal(keyTarget(HASH), `k.${HASH_TEXT}`);
});

Deno.test("an address outside the grammar is refused with invalid_address naming it", () => {
  const bad: [string, RegExp][] = [
    [`k.${HASH_TEXT}`, /no '\/'/],
    [`k.${HASH_TEXT.slice(0, 42)}/x`, /not base64url|31 bytes/],
    [`k.${HASH_TEXT}A/x`, /not base64url|33 bytes/],
    [`k.a.b.${HASH_TEXT}/x`, /k\.<hash> or k\.<server>\.<hash>/],
    [`k.bad!.${HASH_TEXT}/x`, /server code/],
    ["c.srv/x", /c\.<server>\.<client id>/],
    ["c.srv./x", /c\.<server>\.<client id>/],
    ["g./x", /not base64url/],
    ["g.a.b/x", /g\.<group hash>/],
    ["x.abc/x", /':' separators/],
    [`k:${HASH_TEXT}/x`, /':' separators/],
    ["@x/y", /k\., c\., g\., @ or empty/],
  ];
  for (const [text, pattern] of bad) {
    throwsCode(() => parseAddress(text), "invalid_address", pattern);
  }
  throwsCode(() => parseAddress("/" + "é".repeat(128)), "address_too_long", /257 bytes/);
});

Deno.test("formatting refuses parts that would not parse back", () => {
  const bad: [() => unknown, string][] = [
    [
      () => formatAddress({ kind: "key", server: null, hash: new Uint8Array(31), endpoint: "x" }),
      "hash",
    ],
    [() => formatAddress({ kind: "key", server: "a.b", hash: HASH, endpoint: "x" }), "server"],
    [
      () => formatAddress({ kind: "connection", server: "s", clientId: "a/b", endpoint: "x" }),
      "clientId",
    ],
    [() => formatAddress({ kind: "group", hash: new Uint8Array(), endpoint: "x" }), "hash"],
    [() => formatAddress({ kind: "system", endpoint: "x".repeat(255) }), "endpoint"],
    [() => formatAddress({ kind: "local", endpoint: "\udc00" }), "endpoint"],
    [() => formatAddress({ kind: "other", endpoint: "" } as never), "kind"],
  ];
  for (const [run, argument] of bad) {
    assert.throws(
      run,
      (error) => error instanceof InvalidArgumentError && error.argument === argument,
      argument,
    );
  }
  assert.equal(formatAddress({ kind: "system", endpoint: "x".repeat(254) }).length, 256);
});

Deno.test("the routing segment is what follows the first '/', up to the next", () => {
  assert.equal(routingSegment("c:4p84:conn-ubzvcl/699ec197-d329/more"), "699ec197-d329");
  assert.equal(routingSegment("/abc"), "abc");
  assert.equal(routingSegment("k.x/"), "");
  assert.equal(routingSegment("k.x"), null);
});

Deno.test("an @/time answer is u64 seconds and u32 nanoseconds, big-endian", () => {
  const body = encodeTimeAnswer(1_700_000_000_123.5);
  assert.equal(
    hex.encode(body),
    "000000006553f100" + hex.encode(new Uint8Array([0x07, 0x5c, 0x75, 0xe0])),
  );
  assert.deepEqual(parseTimeAnswer(body), {
    seconds: 1_700_000_000,
    nanoseconds: 123_500_000,
    epochMilliseconds: 1_700_000_000_123,
  });
  // Go normalises nanoseconds of a second or more, so the milliseconds carry them over
  const over = hex.decode("0000000000000001" + "77359400");
  assert.equal(parseTimeAnswer(over).epochMilliseconds, 3000);
  const late = hex.decode("001fffffffffffff" + "00000000");
  assert.equal(parseTimeAnswer(late).seconds, Number.MAX_SAFE_INTEGER);
  throwsCode(() => parseTimeAnswer(new Uint8Array(11)), "invalid_time", /11 bytes/);
  throwsCode(() => parseTimeAnswer(hex.decode("0020000000000000" + "00000000")), "invalid_time");
  assert.throws(() => encodeTimeAnswer(-1), InvalidArgumentError);
  assert.throws(() => encodeTimeAnswer(Number.NaN), InvalidArgumentError);
});

Deno.test("a time answer inside a larger buffer is read from its own offset", () => {
  const buffer = new Uint8Array(20);
  buffer.set(encodeTimeAnswer(5_000), 8);
  assert.equal(parseTimeAnswer(buffer.subarray(8)).seconds, 5);
});

Deno.test("an @/group_list answer is 32-byte hashes end to end, each a k. target", () => {
  const other = new Uint8Array(32).fill(0xff);
  const body = encodeGroupList([HASH, other]);
  assert.deepEqual(parseGroupList(body), [`k.${HASH_TEXT}`, `k.${"_".repeat(42)}8`]);
  assert.deepEqual(parseGroupList(new Uint8Array()), []);
  throwsCode(() => parseGroupList(new Uint8Array(33)), "invalid_group_list", /33 bytes/);
  assert.throws(() => encodeGroupList([new Uint8Array(31)]), InvalidArgumentError);
});

Deno.test("a store_blob body is key, 0x00, value; the key and 0x00 alone delete", () => {
  const value = new Uint8Array([0x85, 0xa0, 0x00, 0x01]);
  const body = encodeStoreBlobBody("réglages", value);
  assert.equal(
    hex.encode(body),
    hex.encode(new TextEncoder().encode("réglages")) + "00" + "85a00001",
  );
  assert.deepEqual(parseStoreBlobBody(body), { key: "réglages", value });
  assert.deepEqual(hex.encode(encodeStoreBlobBody("k", null)), "6b00");
  assert.deepEqual(encodeStoreBlobBody("k", new Uint8Array()), encodeStoreBlobBody("k", null));
  assert.deepEqual(parseStoreBlobBody(hex.decode("6b00")), { key: "k", value: null });
  assert.deepEqual(parseStoreBlobBody(hex.decode("00")), { key: "", value: null });
  throwsCode(() => parseStoreBlobBody(hex.decode("6b6b")), "invalid_blob_body", /2 bytes/);
  throwsCode(() => parseStoreBlobBody(hex.decode("ff00")), "invalid_utf8");
  assert.throws(() => encodeStoreBlobBody("a\u0000b", null), InvalidArgumentError);
  assert.throws(() => encodeStoreBlobBody("a", "b" as never), InvalidArgumentError);
});

Deno.test("a fetch_blob body is the key alone", () => {
  assert.equal(parseFetchBlobBody(encodeFetchBlobBody("réglages")), "réglages");
  throwsCode(() => parseFetchBlobBody(hex.decode("6b006b")), "invalid_blob_body");
  throwsCode(() => parseFetchBlobBody(hex.decode("c3")), "invalid_utf8");
  assert.throws(() => encodeFetchBlobBody("\ud800"), InvalidArgumentError);
});

Deno.test("a discovery answer is read bare, under data, or under result and data, as text too", () => {
  const inner = {
    hosts: ["ws1.example.com", "10.0.0.1:8443", "[::1]:8080", "localhost"],
    min_conn: 2,
  };
  const expected = { hosts: inner.hosts, minConn: 2 };
  assert.deepEqual(parseDiscoveryAnswer(inner), expected);
  assert.deepEqual(parseDiscoveryAnswer({ data: inner }), expected);
  assert.deepEqual(parseDiscoveryAnswer({ result: "success", data: inner }), expected);
  assert.deepEqual(
    parseDiscoveryAnswer(JSON.stringify({ result: "success", data: inner })),
    expected,
  );
  assert.deepEqual(parseDiscoveryAnswer({ hosts: ["a"] }), { hosts: ["a"], minConn: 1 });
  assert.deepEqual(parseDiscoveryAnswer({ hosts: ["a", "b"], min_conn: 9 }), {
    hosts: ["a", "b"],
    minConn: 2,
  });
});

Deno.test("a discovery answer without usable hosts is refused with invalid_discovery", () => {
  const bad: [unknown, RegExp][] = [
    ["{", /not JSON/],
    [{ result: "error", error: "maintenance" }, /reports an error \("maintenance"\)/],
    [{ error: "down" }, /reports an error/],
    [{ data: [] }, /not an object/],
    [null, /not an object/],
    [{ hosts: [] }, /no non-empty 'hosts'/],
    [{ data: { hosts: "a" } }, /no non-empty 'hosts'/],
    [{ hosts: ["a/b"] }, /hosts\[0\]/],
    [{ hosts: ["ok", "a b"] }, /hosts\[1\]/],
    [{ hosts: ["ok", 5] }, /hosts\[1\]/],
    [{ hosts: ["user@host"] }, /hosts\[0\]/],
    [{ hosts: ["a"], min_conn: -1 }, /'min_conn'/],
    [{ hosts: ["a"], min_conn: 1.5 }, /'min_conn'/],
    [{ hosts: ["a"], min_conn: "2" }, /'min_conn'/],
  ];
  for (const [answer, pattern] of bad) {
    throwsCode(() => parseDiscoveryAnswer(answer), "invalid_discovery", pattern);
  }
});
