import assert from "node:assert/strict";
import { Backoff, BackoffGate } from "../../src/core/backoff.ts";
import { AbortedError, InvalidArgumentError } from "../../src/core/errors.ts";
import { delay } from "../../src/core/delay.ts";

Deno.test("Backoff grows exponentially with full jitter up to maxMs", () => {
  const top = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => top.next()), [99, 199, 399, 799, 999, 999]);
  const bottom = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  assert.deepEqual([1, 2, 3].map(() => bottom.next()), [0, 0, 0]);
  assert.equal(bottom.attempt, 3);
});

Deno.test("Backoff waits at least Retry-After but never beyond maxMs", () => {
  const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.5 });
  assert.equal(backoff.next(700), 700);
  assert.equal(backoff.next(5000), 1000);
  assert.equal(backoff.next(10), 200);
});

Deno.test("Backoff.reset() starts again from initialMs", () => {
  const backoff = new Backoff({ initialMs: 100, random: () => 0.5 });
  backoff.next();
  backoff.next();
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.next(), 50);
});

Deno.test("Backoff refuses bounds that cannot work", () => {
  assert.throws(() => new Backoff({ initialMs: 0 }), InvalidArgumentError);
  assert.throws(
    () => new Backoff({ maxMs: -1 }),
    /'maxMs' must be a positive finite number: current value is -1/,
  );
  assert.throws(() => new Backoff({ factor: 0.5 }), /'factor' must be at least 1/);
});

Deno.test("delay() resolves after the wait and rejects at once on an aborted signal", async () => {
  await delay(1);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(delay(10_000, { signal: controller.signal }), AbortedError);
});

Deno.test("delay() rejects with AbortedError when aborted mid-wait", async () => {
  const controller = new AbortController();
  const waiting = delay(60_000, { signal: controller.signal });
  controller.abort(new Error("stop"));
  const error = await waiting.catch((e) => e);
  assert.ok(error instanceof AbortedError);
  assert.equal((error.cause as Error).message, "stop");
});

Deno.test("Backoff with a ±25% jitter spreads each delay around its ceiling, as Honch asks", () => {
  const low = new Backoff({ initialMs: 1000, maxMs: 4000, jitter: 0.25, random: () => 0 });
  assert.deepEqual([1, 2, 3, 4].map(() => low.next()), [750, 1500, 3000, 3000]);
  const high = new Backoff({ initialMs: 1000, maxMs: 4000, jitter: 0.25, random: () => 0.999999 });
  assert.deepEqual([1, 2, 3].map(() => high.next()), [1250, 2500, 5000]);
  const none = new Backoff({ initialMs: 100, jitter: 0, random: () => 0.3 });
  assert.deepEqual([none.next(), none.next()], [100, 200]);
});

Deno.test("Backoff honours Retry-After up to maxRetryAfterMs, which defaults to maxMs", () => {
  const capped = new Backoff({
    initialMs: 100,
    maxMs: 1000,
    maxRetryAfterMs: 60_000,
    random: () => 0,
  });
  assert.equal(capped.next(30_000), 30_000);
  assert.equal(capped.next(120_000), 60_000);
  const open = new Backoff({ maxRetryAfterMs: Infinity, random: () => 0 });
  assert.equal(open.next(86_400_000), 86_400_000);
  assert.equal(new Backoff({ maxMs: 1000, random: () => 0 }).next(5000), 1000);
});

Deno.test("Backoff refuses a jitter that is neither full nor a ratio in 0..1", () => {
  assert.throws(
    () => new Backoff({ jitter: 1.5 }),
    /'jitter' must be "full" or a number in 0\.\.1: current value is 1\.5/,
  );
  assert.throws(() => new Backoff({ jitter: "half" as "full" }), InvalidArgumentError);
  assert.throws(() => new Backoff({ maxRetryAfterMs: 0 }), /'maxRetryAfterMs'/);
});

Deno.test("BackoffGate stays closed for the drawn delay and opens on success", () => {
  let now = 10_000;
  const gate = new BackoffGate({ initialMs: 1000, random: () => 0.5, now: () => now });
  assert.equal(gate.remainingMs(), 0);
  assert.equal(gate.failed(), 500);
  now += 200;
  assert.equal(gate.remainingMs(), 300);
  now += 300;
  assert.equal(gate.failed(), 1000, "the second failure doubles the ceiling");
  assert.equal(gate.failures, 2);
  gate.succeeded();
  assert.equal(gate.remainingMs(), 0);
  assert.equal(gate.failed(), 500, "a success starts again from initialMs");
});

Deno.test("BackoffGate never shortens a closure already longer", () => {
  const gate = new BackoffGate({ initialMs: 100, maxMs: 100_000, random: () => 0, now: () => 0 });
  assert.equal(gate.failed(50_000), 50_000);
  assert.equal(gate.failed(), 50_000);
});
