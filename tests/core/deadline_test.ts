import assert from "node:assert/strict";
import { Deadline, type DeadlineOptions } from "../../src/core/deadline.ts";
import { InvalidArgumentError } from "../../src/core/errors.ts";

const timeout = (ms: number) => new Error(`over ${ms} ms`);

/** Runs `fn` with a deadline and ends it afterwards, as every caller must. */
async function withDeadline(
  ms: number,
  options: DeadlineOptions,
  fn: (deadline: Deadline) => Promise<void>,
): Promise<void> {
  const deadline = new Deadline(ms, options);
  try {
    await fn(deadline);
  } finally {
    deadline.end();
  }
}

Deno.test("race() stops waiting at the deadline even when the work ignores the signal", async () => {
  await withDeadline(20, { onTimeout: timeout }, async (deadline) => {
    const ignoring = new Promise<never>(() => {});
    await assert.rejects(() => deadline.race(ignoring), /over 20 ms/);
    assert.equal(deadline.timedOut, true);
    assert.equal(deadline.signal.aborted, true);
    assert.match(String(deadline.signal.reason), /over 20 ms/);
  });
});

Deno.test("race() answers what the work answers before the deadline", async () => {
  await withDeadline(1_000, { onTimeout: timeout }, async (deadline) => {
    assert.equal(await deadline.race(Promise.resolve(42)), 42);
    assert.equal(deadline.timedOut, false);
    assert.equal(deadline.signal.aborted, false);
  });
});

Deno.test("a caller's abort stops the operation with the abort error, not a timeout", async () => {
  const caller = new AbortController();
  const options: DeadlineOptions = {
    signal: caller.signal,
    onTimeout: timeout,
    onAbort: (reason) => new Error(`stopped: ${String(reason)}`),
  };
  await withDeadline(1_000, options, async (deadline) => {
    const pending = deadline.race(new Promise<never>(() => {}));
    caller.abort("user");
    await assert.rejects(() => pending, /stopped: user/);
    assert.equal(deadline.timedOut, false);
    assert.equal(deadline.signal.aborted, true);
  });
});

Deno.test("a caller's signal aborted beforehand stops the operation at once", async () => {
  const options: DeadlineOptions = {
    signal: AbortSignal.abort("early"),
    onTimeout: timeout,
    onAbort: () => new Error("aborted first"),
  };
  await withDeadline(1_000, options, async (deadline) => {
    assert.equal(deadline.signal.aborted, true);
    await assert.rejects(() => deadline.race(new Promise<never>(() => {})), /aborted first/);
  });
});

Deno.test("a deadline that is not a positive number is refused with the field named", () => {
  for (const value of [0, -1, Number.NaN, Infinity]) {
    assert.throws(
      () => new Deadline(value, { onTimeout: timeout }),
      (error: unknown) => error instanceof InvalidArgumentError && error.argument === "timeoutMs",
    );
  }
});
