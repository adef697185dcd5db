import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { TokenBucketLimiter } from "../../src/server/rate_limit.ts";

Deno.test("a bucket allows its capacity in a burst, then asks to wait for one token", () => {
  let time = 0;
  const limiter = new TokenBucketLimiter({ capacity: 3, refillPerSecond: 2, now: () => time });
  for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take("k"), { allowed: true });
  assert.deepEqual(limiter.take("k"), { allowed: false, retryAfterMs: 500 });
  time += 499;
  assert.equal(limiter.take("k").allowed, false);
  time += 1;
  assert.equal(limiter.take("k").allowed, true);
  assert.equal(limiter.take("k").allowed, false);
});

Deno.test("waiting exactly the advised time always earns a token", () => {
  for (const rate of [0.1, 0.3, 0.5, 0.7, 1 / 3, 3, 7.5]) {
    let time = 1_000_000;
    const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: rate, now: () => time });
    limiter.take("k");
    for (let round = 0; round < 20; round++) {
      const denied = limiter.take("k");
      assert.equal(denied.allowed, false);
      if (denied.allowed) return;
      time += denied.retryAfterMs;
      assert.equal(limiter.take("k").allowed, true, `rate ${rate} round ${round}`);
    }
  }
});

Deno.test("keys have separate buckets", () => {
  const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 1, now: () => 0 });
  assert.equal(limiter.take("a").allowed, true);
  assert.equal(limiter.take("a").allowed, false);
  assert.equal(limiter.take("b").allowed, true);
});

Deno.test("idle buckets are evicted and the bucket count never passes maxBuckets", () => {
  let time = 0;
  const limiter = new TokenBucketLimiter({
    capacity: 2,
    refillPerSecond: 1,
    maxBuckets: 100,
    now: () => time,
  });
  for (let i = 0; i < 1000; i++) limiter.take(`key-${i}`);
  assert.equal(limiter.size, 100);
  time += 2000; // every bucket is full again, so forgetting them loses nothing
  for (let i = 0; i < 100; i++) limiter.take(`fresh-${i % 5}`);
  assert.ok(limiter.size < 100, `size ${limiter.size}`);
  limiter.clear();
  assert.equal(limiter.size, 0);
});

Deno.test("a key in steady use keeps its bucket while a flood of new keys fills the table", () => {
  const limiter = new TokenBucketLimiter({
    capacity: 2,
    refillPerSecond: 0.001,
    maxBuckets: 100,
    now: () => 0,
  });
  limiter.take("steady");
  limiter.take("steady");
  for (let i = 0; i < 5000; i++) {
    limiter.take(`flood-${i}`);
    // Were its bucket dropped, the next take would find a fresh one and be allowed
    if (i % 20 === 0) assert.equal(limiter.take("steady").allowed, false, `after ${i} new keys`);
  }
  assert.equal(limiter.size, 100);
});

Deno.test("a clock going backwards neither mints tokens nor locks a key out", () => {
  let time = 10_000;
  const limiter = new TokenBucketLimiter({ capacity: 1, refillPerSecond: 1, now: () => time });
  assert.equal(limiter.take("k").allowed, true);
  time = 0;
  assert.equal(limiter.take("k").allowed, false);
  time = 1000;
  assert.equal(limiter.take("k").allowed, true);
});

Deno.test("an infinite capacity disables the limiter and stores nothing", () => {
  const limiter = new TokenBucketLimiter({ capacity: Infinity });
  for (let i = 0; i < 1000; i++) assert.equal(limiter.take("k").allowed, true);
  assert.equal(limiter.size, 0);
});

Deno.test("out-of-range options are refused with a message naming the option", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ capacity: 0 }, "capacity"],
    [{ capacity: Number.NaN }, "capacity"],
    [{ refillPerSecond: 0 }, "refillPerSecond"],
    [{ refillPerSecond: Infinity }, "refillPerSecond"],
    [{ maxBuckets: 0 }, "maxBuckets"],
    [{ now: 5 }, "now"],
  ];
  for (const [options, argument] of cases) {
    assert.throws(
      () => new TokenBucketLimiter(options as never),
      (error: unknown) =>
        error instanceof InvalidArgumentError && error.argument === argument &&
        error.message.startsWith(`Cannot create TokenBucketLimiter as '${argument}'`),
    );
  }
});
