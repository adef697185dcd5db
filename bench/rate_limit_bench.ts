/**
 * What a new key costs the rate limiters once their key bound is reached,
 * against the same limiter below it, in one run:
 * `deno bench -A bench/rate_limit_bench.ts`. Past the bound each new key
 * drops the least recently used one; that must cost about what a new key
 * costs below it (it cost 8.6 µs a key when the oldest key was found from
 * the start of the `Map` each time).
 *
 * @module
 */

import { TokenBucketLimiter } from "../src/server/rate_limit.ts";
import { SlidingWindowLimiter } from "../src/server/_sliding_window.ts";

const BOUND = 10_000;

/** A limiter's charge for a key, filled with twice the bound's keys first. */
function filled(track: (key: string) => void): () => void {
  for (let i = 0; i < 2 * BOUND; i++) track(`fill-${i}`);
  let next = 0;
  return () => track(`new-${next++}`);
}

const tokenBucket = (maxBuckets: number) => {
  const limiter = new TokenBucketLimiter({ capacity: 5, maxBuckets, now: () => 0 });
  return filled((key) => void limiter.take(key));
};
const slidingWindow = (maxKeys: number) => {
  const limiter = new SlidingWindowLimiter({
    windowMs: 60_000,
    maxRequests: 1000,
    maxKeys,
    now: () => 0,
  });
  return filled((key) => void limiter.hit(key));
};

const bucketBelow = tokenBucket(Number.MAX_SAFE_INTEGER);
const bucketPast = tokenBucket(BOUND);
Deno.bench("TokenBucketLimiter, a new key below its bound", {
  group: "token bucket",
  baseline: true,
}, bucketBelow);
Deno.bench("TokenBucketLimiter, a new key past its bound", { group: "token bucket" }, bucketPast);

const windowBelow = slidingWindow(Number.MAX_SAFE_INTEGER);
const windowPast = slidingWindow(BOUND);
Deno.bench("SlidingWindowLimiter, a new key below its bound", {
  group: "sliding window",
  baseline: true,
}, windowBelow);
Deno.bench("SlidingWindowLimiter, a new key past its bound", {
  group: "sliding window",
}, windowPast);
