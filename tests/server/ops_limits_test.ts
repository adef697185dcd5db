/**
 * Rate limits an operator relies on: per project key on Honch capture (429
 * with `Retry-After`), and a memory cost per tracked key of a few hundred
 * bytes at most, in the token buckets and in migas' sliding window.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SlidingWindowLimiter } from "../../src/server/_sliding_window.ts";
import { createServer } from "../../src/server/mod.ts";
import { errorOf, KEY, makeServer, postJson, vectors } from "./_honch_routes_fixtures.ts";
import { evalWithGc } from "../_helpers/gc_eval.ts";

const BATCH = {
  ...(vectors.json_ingest_fixtures[0].fixture.request.body as Record<string, unknown>),
  events: [{ event: "tick" }],
};

/** The most bytes one tracked key may cost. */
const MAX_BYTES_PER_KEY = 300;
const KEYS = 20_000;

/**
 * Measures, in a child Deno with `--expose-gc` so garbage is not counted,
 * the heap bytes each of `KEYS` new keys costs a limiter built by
 * `limiterSource` (an expression of `Limiter`, whose `track(key)` charges a
 * key), the key strings it keeps included.
 */
async function bytesPerKey(module: string, limiterSource: string): Promise<number> {
  const url = new URL(module, import.meta.url).href;
  const script = `
    import * as mod from ${JSON.stringify(url)};
    const limiter = ${limiterSource};
    globalThis.gc(); globalThis.gc();
    const before = Deno.memoryUsage().heapUsed;
    const keys = Array.from({ length: ${KEYS} }, (_, i) => \`2001:db8:\${(i >> 16).toString(16)}:\${(i & 0xffff).toString(16)}::/64\`);
    for (const key of keys) limiter.track(key);
    keys.length = 0;
    globalThis.gc(); globalThis.gc();
    console.log((Deno.memoryUsage().heapUsed - before) / ${KEYS}, limiter.size());
  `;
  const [bytes, size] = (await evalWithGc(script)).split(" ").map(Number);
  assert.equal(size, KEYS);
  return bytes;
}

Deno.test("capture past the project key's rate limit gets 429 with Retry-After", async () => {
  const { server, clock } = makeServer({
    honch: { projectKeys: [KEY, "phc_other_key"], rateLimit: { capacity: 2, refillPerSecond: 1 } },
  });
  assert.equal((await errorOf(await postJson(server, BATCH), 200)).accepted, 1);
  assert.equal((await errorOf(await postJson(server, BATCH), 200)).accepted, 1);
  const refused = await postJson(server, BATCH);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.deepEqual(await errorOf(refused, 429), { error: "rate_limited" });
  // Other keys are not charged; a wrong key is refused 401 before being counted.
  const other = await postJson(server, BATCH, { "x-honch-project-key": "phc_other_key" });
  assert.equal((await errorOf(other, 200)).accepted, 1);
  const wrong = await postJson(server, BATCH, { "x-honch-project-key": "phc_nope" });
  assert.equal((await errorOf(wrong, 401)).error, "invalid_project_key");
  clock.time += 1000;
  assert.equal((await errorOf(await postJson(server, BATCH), 200)).accepted, 1);
  await server.close();
});

Deno.test("capture's project rate limit can be disabled and is checked when created", async () => {
  const { server } = makeServer({ honch: { rateLimit: { capacity: Infinity } } });
  for (let i = 0; i < 50; i++) {
    assert.equal((await errorOf(await postJson(server, BATCH), 200)).accepted, 1);
  }
  await server.close();
  assert.throws(
    () => createServer({ honch: { rateLimit: { refillPerSecond: 0 } } }),
    /honch\.rateLimit\.refillPerSecond/,
  );
});

Deno.test("a token bucket costs a few hundred bytes per tracked key at most", async () => {
  const bytes = await bytesPerKey(
    "../../src/server/rate_limit.ts",
    `new (class { l = new mod.TokenBucketLimiter({ capacity: 5, maxBuckets: ${KEYS}, now: () => Date.now() });
      track(k) { this.l.take(k); } size() { return this.l.size; } })()`,
  );
  console.log(`TokenBucketLimiter: ${Math.round(bytes)} bytes per key, the key included`);
  // The key string alone is about 40 bytes: below that, the entries were not measured.
  assert.ok(bytes > 40, `${bytes} bytes per key`);
  assert.ok(bytes <= MAX_BYTES_PER_KEY, `${bytes} bytes per key`);
});

Deno.test("migas' sliding window costs a few hundred bytes per key even at 1000 requests", async () => {
  const bytes = await bytesPerKey(
    "../../src/server/_sliding_window.ts",
    `new (class { l = new mod.SlidingWindowLimiter({ windowMs: 60000, maxRequests: 1000, now: () => Date.now(), maxKeys: ${KEYS} });
      track(k) { this.l.hit(k); } size() { return this.l.size; } })()`,
  );
  console.log(
    `SlidingWindowLimiter (1000/min): ${Math.round(bytes)} bytes per key, the key included`,
  );
  assert.ok(bytes > 40, `${bytes} bytes per key`);
  assert.ok(bytes <= MAX_BYTES_PER_KEY, `${bytes} bytes per key`);
});

Deno.test("a large sliding window refuses past its allowance and frees requests a window later", () => {
  const start = 1_000_000;
  let time = start;
  const window = new SlidingWindowLimiter({ windowMs: 8_000, maxRequests: 20, now: () => time });
  for (let i = 0; i < 20; i++) assert.equal(window.hit("a"), true);
  assert.equal(window.hit("a"), false);
  assert.equal(window.hit("b"), true);
  // Refused requests count too, so hammering keeps the key refused.
  time = start + 4_000;
  assert.equal(window.hit("a"), false);
  // Never freed early: just under a window after the first requests, still refused.
  time = start + 7_999;
  assert.equal(window.hit("a"), false);
  // At most one slot (an eighth of the window) later, the first twenty have left.
  time = start + 9_000;
  assert.equal(window.hit("a"), true);
});

Deno.test("a sliding window past its key bound forgets the least recently used key", () => {
  const window = new SlidingWindowLimiter({
    windowMs: 60_000,
    maxRequests: 1,
    maxKeys: 3,
    now: () => 0,
  });
  // A key it still knows is refused its second request; a forgotten one starts afresh.
  const known = (key: string) => !window.hit(key);
  for (const key of ["a", "b", "c"]) assert.equal(window.hit(key), true);
  assert.equal(known("a"), true); // used again: "b" is now the least recently used
  assert.equal(window.hit("d"), true); // forgets "b"
  assert.equal(known("c"), true); // "a" is now the least recently used
  assert.equal(window.hit("e"), true); // forgets "a"
  assert.equal(known("a"), false); // forgotten; taking it back forgets "d"
  assert.equal(known("c"), true);
  assert.equal(known("e"), true);
  assert.equal(window.size, 3);
  // Many rounds past the bound, a key in steady use stays known throughout.
  for (let i = 0; i < 1000; i++) {
    window.hit(`new-${i}`);
    assert.equal(known("steady"), i > 0, `round ${i}`);
  }
  assert.equal(window.size, 3);
});
