import assert from "node:assert/strict";
import { Backoff } from "../../src/core/backoff.ts";
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
    /'maxMs' must be a positive number: current value is -1/,
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
