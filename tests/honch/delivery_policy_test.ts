/**
 * The capture response policy of the Honch delivery: every case of the
 * policy fixture, retries of refusals and timeouts, backoff, Retry-After and
 * the spacing of uploads.
 *
 * @module
 */

import assert from "node:assert/strict";
import { NetworkError, TimeoutError } from "../../src/core/errors.ts";
import { fetchTransport } from "../../src/honch/transport.ts";
import { accept, event, fixtures, harness, status } from "./_delivery_harness.ts";

Deno.test("every case of the http response policy fixture maps to its flush step", async () => {
  const cases = fixtures.http_response_policy[0].fixture.cases;
  assert.equal(cases.length, 13);
  for (const policy of cases) {
    const { delivery, sent, queue } = harness(() => {
      if (policy.status === 0) throw new TypeError("connection refused");
      return status(policy.status);
    });
    queue.items.push(event());
    const step = await delivery.step();
    const label = `status ${policy.status}`;
    assert.equal(sent.length, 1, label);
    switch (policy.result) {
      case "accepted":
        assert.deepEqual(step, { kind: "sent", events: 1 }, label);
        assert.equal(queue.items.length, 0, label);
        break;
      case "auth_error":
      case "rejected":
        assert.deepEqual(
          step,
          { kind: "dropped", events: 1, reason: policy.result, status: policy.status },
          label,
        );
        assert.deepEqual(queue.dropped, { [policy.result]: 1 }, label);
        assert.equal(queue.items.length, 0, label);
        break;
      case "chunk_stored":
      case "retry":
        // Preserve: nothing is consumed and the backoff is armed.
        assert.equal(step.kind, "retry", label);
        if (step.kind !== "retry") break;
        assert.equal(step.waitMs, 1000, label);
        if (policy.status === 0) {
          assert.equal(step.status, undefined);
          assert.ok(step.error instanceof NetworkError);
        } else {
          assert.equal(step.status, policy.status, label);
        }
        assert.equal(queue.items.length, 1, label);
        assert.equal(delivery.retries, 1, label);
        assert.equal(delivery.backoffRemainingMs(), 1000, label);
        break;
    }
  }
});

Deno.test("a refusal without capture's JSON error code is retried, not dropped", async () => {
  const answers: (() => Response)[] = [
    () =>
      new Response("<html>Not Found</html>", {
        status: 404,
        headers: { "content-type": "text/html" },
      }),
    () => new Response(null, { status: 401 }),
    () => new Response('{"message":"bad"}', { status: 400 }),
  ];
  for (const answer of answers) {
    const { delivery, queue } = harness(() => answer());
    queue.items.push(event());
    const step = await delivery.step();
    assert.equal(step.kind, "retry");
    assert.equal(queue.items.length, 1);
    assert.deepEqual(queue.dropped, {});
  }
});

Deno.test("a request that times out is retried with a TimeoutError", async () => {
  // The client aborts the transport's signal when the deadline passes.
  const fetchWithSignal =
    ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof fetch;
  const { delivery, queue } = harness(accept, {
    transport: fetchTransport(fetchWithSignal),
    timeoutMs: 5,
  });
  queue.items.push(event());
  const step = await delivery.step();
  assert.equal(step.kind, "retry");
  assert.ok(step.kind === "retry" && step.error instanceof TimeoutError);
  assert.equal(queue.items.length, 1);
});

Deno.test("backoff waits ±25% of a delay that doubles to the cap and resets after a success", async () => {
  const randoms = [0, 0.5, 1 - 2 ** -20, 0.5, 0.5, 0.5];
  let fail = true;
  const { delivery, clock, queue } = harness(() => status(fail ? 503 : 204), {
    backoff: { initialMs: 1000, maxMs: 4000, jitter: 0.25 },
    random: () => randoms.shift() ?? 0.5,
  });
  queue.items.push(event());
  const waits: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const step = await delivery.step();
    assert.equal(step.kind, "retry");
    if (step.kind !== "retry") return;
    waits.push(step.waitMs);
    clock.now += step.waitMs - 1;
    assert.deepEqual(await delivery.step(), { kind: "backoff", waitMs: 1 });
    assert.equal(delivery.backoffRemainingMs(), 1);
    clock.now += 1;
  }
  // 1000 × 0.75; 2000 × 1; 4000 × ~1.25; then the 4000 cap × 1.
  assert.deepEqual(waits, [750, 2000, 5000, 4000, 4000]);
  assert.equal(delivery.retries, 5);
  fail = false;
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  assert.equal(delivery.lastSuccessAt, clock.now);
  assert.equal(delivery.backoffRemainingMs(), 0);
  fail = true;
  queue.items.push(event());
  const after = await delivery.step();
  assert.equal(after.kind === "retry" && after.waitMs, 1000);
});

Deno.test("a Retry-After longer than the backoff wins", async () => {
  const answers = [
    status(429, { "retry-after": "120" }),
    status(503, { "retry-after": "1" }),
  ];
  const { delivery, clock, queue } = harness(() => answers.shift() ?? status(204));
  queue.items.push(event());
  const first = await delivery.step();
  assert.deepEqual(
    first.kind === "retry" && { waitMs: first.waitMs, status: first.status },
    { waitMs: 120_000, status: 429 },
  );
  clock.now += 120_000;
  // The backoff (2000) is now longer than Retry-After (1000).
  const second = await delivery.step();
  assert.equal(second.kind === "retry" && second.waitMs, 2000);
});

Deno.test("after a success the next upload waits for minIntervalMs unless spacing is ignored or disabled", async () => {
  const { delivery, sent, clock, queue } = harness(accept, { batchSize: 1, minIntervalMs: 15_000 });
  queue.items.push(event(), event(), event());
  assert.equal((await delivery.step()).kind, "sent");
  clock.now += 5000;
  assert.deepEqual(await delivery.step(), { kind: "spacing", waitMs: 10_000 });
  assert.equal(sent.length, 1);
  assert.equal((await delivery.step({ ignoreSpacing: true })).kind, "sent");
  clock.now += 15_000;
  assert.equal((await delivery.step()).kind, "sent");
  assert.deepEqual(await delivery.step(), { kind: "empty" });

  const disabled = harness(accept, { batchSize: 1, minIntervalMs: 0xffff_ffff });
  disabled.queue.items.push(event(), event());
  assert.equal((await disabled.delivery.step()).kind, "sent");
  assert.equal((await disabled.delivery.step()).kind, "sent");
});
