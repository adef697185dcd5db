import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { AbortedError, InvalidArgumentError, TimeoutError } from "../../src/core/errors.ts";
import { NoncePlan } from "../../src/pow/_plan.ts";
import { solvePow } from "../../src/pow/solve.ts";
import { PowTimeoutError } from "../../src/pow/errors.ts";

const VECTOR_CHALLENGE = "3f9a1c0e5b7d2468ace013579bdf2468";
const encoder = new TextEncoder();

/** The rule as the original Python client states it: a prefix of the hex string. */
function oracleMeets(challenge: string, nonce: string, difficulty: number): boolean {
  return hex.encode(sha256(encoder.encode(`${challenge}:${nonce}`))).startsWith(
    "0".repeat(difficulty),
  );
}

/** The first counter value that solves `challenge`, trying them all in order. */
function oracleFirstCounter(challenge: string, difficulty: number): number {
  for (let counter = 0;; counter++) {
    if (oracleMeets(challenge, counter.toString(16), difficulty)) return counter;
  }
}

async function assertSolvesLikeOracle(challenge: string, difficulty: number): Promise<void> {
  const counter = oracleFirstCounter(challenge, difficulty);
  const solution = await solvePow(challenge, difficulty);
  assert.equal(solution.nonce, counter.toString(16), `challenge ${JSON.stringify(challenge)}`);
  assert.equal(solution.hashes, counter + 1);
}

Deno.test("solvePow finds nonce 1157 after 4440 hashes for the known vector", async () => {
  const solution = await solvePow(VECTOR_CHALLENGE, 4);
  assert.equal(solution.nonce, "1157");
  assert.equal(solution.hashes, 4440);
  assert.equal(solution.ms >= 0, true);
});

Deno.test("solvePow returns the first counter value that meets the rule for any challenge", async () => {
  const challenges = fc.oneof(
    fc.string({ unit: "binary-ascii", maxLength: 200 }),
    fc.string({ unit: "binary", maxLength: 70 }),
    fc.string({ unit: "grapheme", maxLength: 50 }),
  );
  await fc.assert(
    fc.asyncProperty(challenges, fc.integer({ min: 1, max: 2 }), async (challenge, difficulty) => {
      const solution = await solvePow(challenge, difficulty);
      assert.equal(oracleMeets(challenge, solution.nonce, difficulty), true);
      assert.equal(solution.nonce, oracleFirstCounter(challenge, difficulty).toString(16));
      assert.equal(solution.hashes, parseInt(solution.nonce, 16) + 1);
    }),
    { seed: 4, numRuns: 300 },
  );
});

Deno.test("solvePow matches the oracle when challenge and nonce straddle SHA-256 block boundaries", async () => {
  // "challenge:" plus the nonce crosses 55 (padding no longer fits), 64 and 119 bytes here.
  for (let length = 40; length <= 130; length++) {
    await assertSolvesLikeOracle("é".repeat(length >> 1) + "x".repeat(length & 1), 2);
    await assertSolvesLikeOracle("k".repeat(length), 2);
  }
});

Deno.test("the plan hands out nonces 0..f, 10..ff, 100.. in order, never crossing a rollover", () => {
  const plan = new NoncePlan(encoder.encode("rollover:"), "hex", 256);
  const jobs = [];
  for (let job = plan.take(100); job !== undefined && job.start < 0x1010; job = plan.take(100)) {
    jobs.push(job);
  }
  const values = jobs.flatMap((job) => Array.from({ length: job.count }, (_, i) => job.start + i));
  assert.deepEqual(
    values,
    Array.from({ length: values.length }, (_, i) => i),
    "every value once, in order",
  );
  for (const job of jobs) {
    const first = job.start.toString(16);
    const last = (job.start + job.count - 1).toString(16);
    assert.equal(first.length, job.nonceLength);
    assert.equal(last.length, job.nonceLength, `job at ${first} keeps its length`);
  }
  assert.deepEqual(jobs.slice(0, 3).map((job) => [job.start, job.count]), [[0, 16], [16, 100], [
    116,
    100,
  ]]);
});

Deno.test("the decimal plan cuts at 9 to 10 and 99 to 100", () => {
  const plan = new NoncePlan(encoder.encode("d:"), "decimal", 256);
  assert.deepEqual(
    [plan.take(50), plan.take(50), plan.take(200)].map((job) => [job?.start, job?.count]),
    [
      [0, 10],
      [10, 50],
      [60, 40],
    ],
  );
});

Deno.test("solvePow hashes correctly right after the nonce grows from f to 10 and ff to 100", async () => {
  // Find challenges whose first solution lies just past a rollover, so the digests
  // computed on the freshly laid-out, longer message decide the answer.
  const found = { twoDigits: 0, threeDigits: 0 };
  for (let i = 0; found.twoDigits < 3 || found.threeDigits < 3; i++) {
    const challenge = `rollover-${i}`;
    const first1 = oracleFirstCounter(challenge, 1);
    if (first1 >= 0x10 && first1 < 0x20 && found.twoDigits < 3) {
      found.twoDigits++;
      await assertSolvesLikeOracle(challenge, 1);
    }
    const first2 = oracleFirstCounter(challenge, 2);
    if (first2 >= 0x100 && first2 < 0x110 && found.threeDigits < 3) {
      found.threeDigits++;
      await assertSolvesLikeOracle(challenge, 2);
    }
  }
});

Deno.test("solvePow rejects with AbortedError when the signal is already aborted", async () => {
  const controller = new AbortController();
  const reason = new Error("user left");
  controller.abort(reason);
  await assert.rejects(
    solvePow(VECTOR_CHALLENGE, 4, { signal: controller.signal }),
    (error) => error instanceof AbortedError && error.cause === reason,
  );
});

Deno.test("solvePow stops with AbortedError soon after the signal aborts mid-search", async () => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 30);
  const started = performance.now();
  try {
    await assert.rejects(
      solvePow(VECTOR_CHALLENGE, 64, { signal: controller.signal, maxMs: 60_000 }),
      (error) =>
        error instanceof AbortedError &&
        /^Stopped solving proof-of-work as its signal was aborted: tried \d+ nonces$/.test(
          error.message,
        ),
    );
  } finally {
    clearTimeout(timer);
  }
  assert.equal(performance.now() - started < 1000, true);
});

Deno.test("solvePow gives up with PowTimeoutError when the injected clock passes maxMs", async () => {
  let time = 0;
  const now = () => (time += 1000);
  await assert.rejects(solvePow(VECTOR_CHALLENGE, 64, { maxMs: 6000, now }), (error) => {
    assert.ok(error instanceof PowTimeoutError);
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.timeoutMs, 6000);
    assert.equal(error.code, "timeout");
    assert.equal(error.hashes > 0, true);
    assert.equal(
      error.message,
      `Cannot solve proof-of-work of difficulty 64 within 6000 ms: tried ${error.hashes} nonces, raise 'maxMs' or lower the difficulty`,
    );
    return true;
  });
});

Deno.test("solvePow reports ms from the injected clock", async () => {
  let time = 100;
  const solution = await solvePow(VECTOR_CHALLENGE, 1, { now: () => (time += 5) });
  assert.equal(solution.ms > 0 && solution.ms % 5 === 0, true);
});

Deno.test("solvePow throws InvalidArgumentError for a difficulty outside 1..64", () => {
  for (const difficulty of [0, 65, 2.5, -3, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => solvePow(VECTOR_CHALLENGE, difficulty),
      (error) =>
        error instanceof InvalidArgumentError && error.argument === "difficulty" &&
        error.message.startsWith(
          "Cannot solve proof-of-work as 'difficulty' must be an integer from 1 to 64: current value is",
        ),
    );
  }
});

Deno.test("solvePow throws InvalidArgumentError for a maxMs or sliceMs that is not positive", () => {
  for (const maxMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => solvePow(VECTOR_CHALLENGE, 4, { maxMs }),
      (error) => error instanceof InvalidArgumentError && error.argument === "maxMs",
    );
  }
  assert.throws(
    () => solvePow(VECTOR_CHALLENGE, 4, { sliceMs: 0 }),
    (error) => error instanceof InvalidArgumentError && error.argument === "sliceMs",
  );
});

Deno.test("solvePow throws InvalidArgumentError when the challenge is not a string", () => {
  assert.throws(
    () => solvePow(42 as unknown as string, 4),
    (error) => error instanceof InvalidArgumentError && error.argument === "challenge",
  );
});

Deno.test("solvePow yields to the event loop between slices so timers still fire", async () => {
  let ticks = 0;
  const interval = setInterval(() => ticks++, 1);
  try {
    await assert.rejects(
      solvePow(VECTOR_CHALLENGE, 64, { maxMs: 150, sliceMs: 5 }),
      PowTimeoutError,
    );
  } finally {
    clearInterval(interval);
  }
  assert.equal(ticks > 3, true);
});
